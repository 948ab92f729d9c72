/**
 * GB-HGRP tunnel commands: the data of a ZCL Tunneling Transfer Data (after the 2-byte tunnel
 * id) starts with a command byte: 01 GET (nothing follows), 02 GET-RESPONSE (remaining-messages
 * count, 1 byte, then one GBCS message), 03 PUT (one GBCS message). Wireshark's gbcs_tunnel
 * dissector reads the same layout.
 */
import { checkUint, concat, Reader } from './bytes.js';
import { GbcsError } from './errors.js';

export const TUNNEL_GET = 0x01;
export const TUNNEL_GET_RESPONSE = 0x02;
export const TUNNEL_PUT = 0x03;

export type TunnelCommand =
  | { command: 'GET' }
  | { command: 'GET-RESPONSE'; remaining: number; message: Uint8Array }
  | { command: 'PUT'; message: Uint8Array };

export function encodeTunnelCommand(t: TunnelCommand): Uint8Array {
  switch (t.command) {
    case 'GET':
      return Uint8Array.of(TUNNEL_GET);
    case 'GET-RESPONSE':
      checkUint('TUNNEL', 'remaining', t.remaining, 8);
      return concat(Uint8Array.of(TUNNEL_GET_RESPONSE, t.remaining), t.message);
    case 'PUT':
      return concat(Uint8Array.of(TUNNEL_PUT), t.message);
  }
}

export function decodeTunnelCommand(bytes: Uint8Array): TunnelCommand {
  const r = new Reader(bytes, 'TUNNEL');
  const c = r.u8('command');
  switch (c) {
    case TUNNEL_GET:
      r.end('command');
      return { command: 'GET' };
    case TUNNEL_GET_RESPONSE: {
      const remaining = r.u8('remaining');
      if (r.remaining === 0)
        throw new GbcsError('TUNNEL', 'TRUNCATED', 'message', 'GET-RESPONSE without a message');
      return { command: 'GET-RESPONSE', remaining, message: r.take(r.remaining, 'message') };
    }
    case TUNNEL_PUT:
      if (r.remaining === 0) throw new GbcsError('TUNNEL', 'TRUNCATED', 'message', 'PUT without a message');
      return { command: 'PUT', message: r.take(r.remaining, 'message') };
    default:
      throw new GbcsError(
        'TUNNEL',
        'INVALID_FIELD',
        'command',
        `0x${c.toString(16)} is not GET/GET-RESPONSE/PUT`,
      );
  }
}

/**
 * True when tunnel data is a GB-HGRP command carrying (or asking for) a GBCS message: GET,
 * or PUT / GET-RESPONSE whose message starts with the General Ciphering (DD) or General
 * Signing (DF) tag. Anything else is not GBCS (e.g. the emulator's cluster-id-prefixed ZCL).
 */
export function isGbcsTunnelData(data: Uint8Array): boolean {
  if (data.length === 1) return data[0] === TUNNEL_GET;
  const tag = data[0] === TUNNEL_PUT ? data[1] : data[0] === TUNNEL_GET_RESPONSE ? data[2] : undefined;
  return tag === 0xdd || tag === 0xdf;
}
