/**
 * Tunneling 0x0704 (SE 1.4 D.6) as GB uses it: the GB-HGRP tunnel that carries GBCS messages
 * between the CHF (tunnel client) and ESME/HCALCS/PPMID (tunnel server). The RequestTunnel
 * parameters are fixed by GBCS 10.2.2 (protocol-notes §2).
 */
import { encodeZclCommand } from './zcl.js';

export const TUNNELING_CLUSTER = 0x0704;

/** Tunnel protocol id 6 = "GB-HGRP" (GBCS 10.2.2; SE 1.4 D.6 protocol id enumeration). */
export const GB_HGRP_PROTOCOL_ID = 6;
/** GBCS: the tunnel is not manufacturer-specific, so the code is 0xFFFF. */
export const GB_HGRP_MANUFACTURER_CODE = 0xffff;
export const GB_HGRP_FLOW_CONTROL_SUPPORT = false;
export const GB_HGRP_MAX_INCOMING_TRANSFER_SIZE = 1500;

/** RequestTunnelResponse status values (SE 1.4 D.6.2.5.1). */
export const TunnelStatus = {
  Success: 0x00,
  Busy: 0x01,
  NoMoreTunnelIds: 0x02,
  ProtocolNotSupported: 0x03,
  FlowControlNotSupported: 0x04,
} as const;

/** TransferDataError status values (SE 1.4 D.6.2.4.4). */
export const TransferDataStatus = {
  NoSuchTunnel: 0x00,
  WrongDevice: 0x01,
  DataOverflow: 0x02,
} as const;

/** The payload of a GB-HGRP RequestTunnel, as herdsman's `requestTunnel` parameters. */
export const GB_HGRP_REQUEST_TUNNEL = {
  protocolId: GB_HGRP_PROTOCOL_ID,
  manufacturerCode: GB_HGRP_MANUFACTURER_CODE,
  flowControl: GB_HGRP_FLOW_CONTROL_SUPPORT ? 1 : 0,
  maxIncomingTransferSize: GB_HGRP_MAX_INCOMING_TRANSFER_SIZE,
} as const;

/** The CHF's RequestTunnel for GB-HGRP as a whole ZCL frame. */
export function encodeGbHgrpRequestTunnel(tsn: number): Uint8Array {
  return encodeZclCommand({
    cluster: TUNNELING_CLUSTER,
    command: 'requestTunnel',
    direction: 'clientToServer',
    payload: { ...GB_HGRP_REQUEST_TUNNEL },
    tsn,
  });
}

export interface TunnelProtocol {
  manufacturerCode: number;
  protocolId: number;
}

/**
 * A Supported Tunnel Protocols Response list entry is (manufacturerCode u16, protocolId u8),
 * which herdsman reads as one little-endian uint24 (`protocolList`, LIST_UINT24).
 */
export function packTunnelProtocol(p: TunnelProtocol): number {
  return (p.manufacturerCode & 0xffff) | ((p.protocolId & 0xff) << 16);
}

export function unpackTunnelProtocol(entry: number): TunnelProtocol {
  return { manufacturerCode: entry & 0xffff, protocolId: (entry >>> 16) & 0xff };
}
