/**
 * What travels inside the GB-HGRP tunnel (Tunneling 0x0704 TransferData, SE 1.4 D.6) in this
 * emulator. In GB the tunnel carries GBCS APDUs (DCC-signed commands and their responses,
 * GBCS 10.2.2); ASSUMPTION: the emulator carries a ZCL frame for a cluster of the target
 * device instead, prefixed with its cluster id (u16 little-endian), so the DCC's "read the
 * meter" and "top up" commands reuse the meter's cluster servers. GBCS message formats and
 * remote-party signatures are out of scope.
 *
 * Both ends use it: the CHF (tunnel client) and the ESME / PPMID (tunnel servers).
 */
export interface TunnelledZcl {
  clusterId: number;
  zcl: Uint8Array;
}

export class TunnelEnvelopeError extends Error {
  constructor(
    readonly code: 'TUNNEL_ENVELOPE_TRUNCATED',
    message: string,
  ) {
    super(message);
    this.name = 'TunnelEnvelopeError';
  }
}

export function encodeTunnelledZcl(m: TunnelledZcl): Uint8Array {
  if (!Number.isInteger(m.clusterId) || m.clusterId < 0 || m.clusterId > 0xffff)
    throw new RangeError(`cluster id ${m.clusterId} out of range`);
  const out = new Uint8Array(2 + m.zcl.length);
  out[0] = m.clusterId & 0xff;
  out[1] = m.clusterId >> 8;
  out.set(m.zcl, 2);
  return out;
}

export function decodeTunnelledZcl(data: Uint8Array): TunnelledZcl {
  // A ZCL frame needs at least its 3-octet header.
  if (data.length < 5)
    throw new TunnelEnvelopeError('TUNNEL_ENVELOPE_TRUNCATED', `tunnel data of ${data.length} octets`);
  return { clusterId: data[0]! | (data[1]! << 8), zcl: data.slice(2) };
}
