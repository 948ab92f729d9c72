/**
 * Small helpers every GB device application here needs on top of `ApplicationHost`: send a
 * ZCL frame without letting a failed send escape as an unhandled rejection (the outcome is
 * traced instead), answer with a ZCL Default Response, and convert virtual time to ZCL UTC.
 */

import type { ApplicationHost, IncomingZcl, OutgoingZcl, PeerAddress, SendStatus } from '@gbhan/stack';
import {
  type DecodedZclFrame,
  decodeZclFrame,
  decodeZclHeader,
  encodeDefaultResponse,
  type ZclDirection,
  ZigbeeDecodeError,
} from '@gbhan/zigbee';
import { traceApp } from './trace-events.js';

/** ZCL status codes (ZCL r8 07-5123 §2.6.3) used by these applications. */
export const ZclStatus = {
  SUCCESS: 0x00,
  FAILURE: 0x01,
  NOT_AUTHORIZED: 0x7e,
  MALFORMED_COMMAND: 0x80,
  UNSUP_CLUSTER_COMMAND: 0x81,
  UNSUP_GENERAL_COMMAND: 0x82,
  INVALID_FIELD: 0x85,
  UNSUPPORTED_ATTRIBUTE: 0x86,
  INVALID_VALUE: 0x87,
  UNSUP_CLUSTER: 0xc3,
} as const;

/** Unix seconds of virtual time 0 (2026-01-01T00:00:00Z), as @gbhan/cbke assumes. */
export const UNIX_EPOCH_AT_VIRTUAL_ZERO = 1_767_225_600;
/** ZCL UTCTime counts seconds from 2000-01-01T00:00:00Z (ZCL r8 §2.6.2.19). */
const ZCL_UTC_EPOCH_UNIX = 946_684_800;

/** ZCL UTCTime (s since 2000-01-01) at virtual time `nowUs`. */
export function zclUtcNow(nowUs: number): number {
  return UNIX_EPOCH_AT_VIRTUAL_ZERO - ZCL_UTC_EPOCH_UNIX + Math.floor(nowUs / 1_000_000);
}

/** Virtual time (us, whole seconds) of a ZCL UTCTime; negative before the run's start. */
export function virtualUsOfZclUtc(utc: number): number {
  return (utc - (UNIX_EPOCH_AT_VIRTUAL_ZERO - ZCL_UTC_EPOCH_UNIX)) * 1_000_000;
}

/** Send and trace anything but success; never rejects. */
export function sendTraced(
  host: ApplicationHost,
  to: PeerAddress,
  frame: OutgoingZcl,
  what: string,
): Promise<SendStatus> {
  return traced(host, to.eui64, what, {}, () => host.sendZcl(to, frame));
}

/** `sendTraced` for Inter-PAN: never rejects; a failure is traced as `send-failed`. */
export function sendInterPanTraced(
  host: ApplicationHost,
  to: { eui64: string; panId: number },
  frame: OutgoingZcl,
  what: string,
): Promise<SendStatus> {
  return traced(host, to.eui64, what, { interPan: true }, () => host.sendInterPan(to, frame));
}

/** One send: a status other than 'sent' or a throw is traced as `send-failed` (a throw as 'no-ack'). */
async function traced(
  host: ApplicationHost,
  to: string,
  what: string,
  notSent: { interPan?: true },
  send: () => Promise<{ status: SendStatus }>,
): Promise<SendStatus> {
  try {
    const r = await send();
    if (r.status !== 'sent') traceApp(host, { type: 'send-failed', what, to, ...notSent, status: r.status });
    return r.status;
  } catch (e) {
    traceApp(host, { type: 'send-failed', what, to, status: 'error', message: (e as Error).message });
    return 'no-ack';
  }
}

/** The direction a reply to `msg` travels in. */
export function replyDirection(d: ZclDirection): ZclDirection {
  return d === 'clientToServer' ? 'serverToClient' : 'clientToServer';
}

type DefaultResponseHeader = {
  direction: ZclDirection;
  transactionSequenceNumber: number;
  commandId: number;
  disableDefaultResponse: boolean;
  frameType: 'global' | 'cluster';
};

/**
 * The Default Response (ZCL r8 §2.5.12) carrying `statusCode` for a frame with `header`, or
 * null when ZCL says none is sent: never to a Default Response, and not for SUCCESS when the
 * frame disabled default responses.
 */
export function defaultResponseTo(header: DefaultResponseHeader, statusCode: number): Uint8Array | null {
  if (header.frameType === 'global' && header.commandId === 0x0b) return null;
  if (statusCode === ZclStatus.SUCCESS && header.disableDefaultResponse) return null;
  return encodeDefaultResponse({
    direction: replyDirection(header.direction),
    tsn: header.transactionSequenceNumber,
    commandId: header.commandId,
    statusCode,
  });
}

/**
 * Answer `msg` with a Default Response carrying `statusCode` (`defaultResponseTo`), with the
 * security the request arrived with.
 */
export function sendDefaultResponse(
  host: ApplicationHost,
  msg: IncomingZcl,
  header: DefaultResponseHeader,
  statusCode: number,
  what = 'default-response',
): void {
  const zcl = defaultResponseTo(header, statusCode);
  if (zcl === null) return;
  void sendTraced(host, msg.from, { clusterId: msg.clusterId, zcl, security: msg.security }, what);
}

/** True when `zcl` starts with the header of a Default Response (global command 0x0B). */
export function isDefaultResponse(zcl: Uint8Array): boolean {
  try {
    const { header } = decodeZclHeader(zcl);
    return header.frameType === 'global' && header.commandId === 0x0b;
  } catch {
    return false;
  }
}

/** Trace a frame this application refuses to act on, with the reason. */
export function traceDrop(host: ApplicationHost, msg: IncomingZcl, reason: string, detail?: string): void {
  traceApp(host, {
    type: 'app-drop',
    from: msg.from.eui64,
    clusterId: msg.clusterId,
    reason,
    ...(detail !== undefined ? { detail } : {}),
  });
}

/**
 * The GB rule for a meter's or PPMID's Smart Energy clusters (after Key Establishment and the
 * tunnel had their turn): no Inter-PAN, and APS security with a link key. False (the frame
 * dropped, traced) when the frame breaks it.
 */
export function acceptsSmartEnergyFrame(host: ApplicationHost, msg: IncomingZcl): boolean {
  if (msg.interPan) {
    traceDrop(host, msg, 'inter-pan-not-accepted');
    return false;
  }
  if (msg.security !== 'aps-link') {
    traceDrop(host, msg, 'not-aps-secured');
    return false;
  }
  return true;
}

/** A ZigbeeDecodeError as short text for traces. */
export function describeDecodeError(e: unknown): string {
  if (e instanceof ZigbeeDecodeError) return `${e.code} ${e.field}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

/** Decode `msg` as a frame of `clusterId`; a malformed one is traced (`malformed-zcl`) and gives null. */
export function decodeZclOrDrop(
  host: ApplicationHost,
  msg: IncomingZcl,
  clusterId: number,
): DecodedZclFrame | null {
  try {
    return decodeZclFrame(msg.zcl, { cluster: clusterId });
  } catch (e) {
    traceDrop(host, msg, 'malformed-zcl', describeDecodeError(e));
    return null;
  }
}
