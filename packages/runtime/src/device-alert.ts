/**
 * A GB device alert on the HAN: how a meter tells its Communications Hub about an event the
 * DCC must hear of (a tamper, a failed join, ...), so the CH can pass it on over the WAN.
 *
 * ASSUMPTION: in GB a device alert is a GBCS Alert APDU, which this emulator does not model
 * (see tunnel-envelope.ts). It is carried instead as the Smart Energy Events cluster's
 * Publish Event (cluster 0x0709, command 0x00 server to client, SE 1.4 07-5356 D.11): the
 * meter is the Events server and publishes the event to the CH, its client. Payload: Log ID
 * (u8), Event ID (u16) = the 16-bit GB alert code, Event Time (ZCL UTCTime u32, the virtual
 * time of the event, whole seconds), Event Control (u8, bit 1 = "report to the WAN"), Event
 * Data (octet string: `alertEventData`, the microseconds of the event within its second). A
 * standard command whose fields are exactly code and time, which
 * Wireshark dissects, rather than a new manufacturer-specific one. The ESME and the PPMID
 * send it inside their GB-HGRP tunnel (envelope cluster 0x0709, tunnel-alert-sender.ts), the
 * GSME straight to the GPF, APS-secured.
 *
 * The default response is enabled (ZCL r8 §2.5.12): the CH answers each alert with a Default
 * Response once it holds the alert in NVM, and only that SUCCESS takes the alert off the
 * meter's queue (alert-confirmation.ts). A MAC or APS ack says only that the frame reached
 * the CH's radio.
 */

import type { Alert } from '@gbhan/stack';
import { decodeZclHeader, ZigbeeDecodeError } from '@gbhan/zigbee';
import { zclUtcNow } from './zcl-helpers.js';

export const EVENTS_CLUSTER = 0x0709;
export const PUBLISH_EVENT_COMMAND = 0x00;

/** Events cluster Log IDs (SE 1.4 Table D-186). */
export const EventLogId = {
  tamper: 0x01,
  fault: 0x02,
  general: 0x03,
  security: 0x04,
  network: 0x05,
} as const;

/** Event Control bit 1: the event is to be reported to the WAN (bit 0: to HAN devices). */
export const EVENT_CONTROL_REPORT_TO_WAN = 0x02;

/** cluster-specific | server to client (0x09); 0x10 "disable default response" is left clear. */
const FRAME_CONTROL = 0x09;
const FC_DISABLE_DEFAULT_RESPONSE = 0x10;
const PAYLOAD_FIXED_OCTETS = 1 + 2 + 4 + 1 + 1;
const DEFAULT_RESPONSE_COMMAND = 0x0b;

export interface DeviceAlert {
  tsn: number;
  logId: number;
  /** GB alert code (Event ID), e.g. 0x8F3F tamper. */
  code: number;
  /** ZCL UTCTime: seconds since 2000-01-01T00:00:00Z. */
  eventTime: number;
  eventControl: number;
  /** Event Data octets; absent = empty. The meters send `alertEventData(t)`. */
  eventData?: Uint8Array;
  /** The sender asked for no Default Response on success (frame control 0x19); absent = false. */
  disableDefaultResponse?: boolean;
}

export type DeviceAlertErrorCode =
  | 'DEVICE_ALERT_TRUNCATED'
  | 'DEVICE_ALERT_WRONG_COMMAND'
  | 'DEVICE_ALERT_BAD_VALUE'
  | 'DEVICE_ALERT_TRAILING_OCTETS';

export class DeviceAlertError extends Error {
  constructor(
    readonly code: DeviceAlertErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'DeviceAlertError';
  }
}

/** The log a GB alert code belongs in (join and unjoin codes: network; 0x8F3E: security). */
export function logIdForAlert(code: number): number {
  if (code === 0x8f3f) return EventLogId.tamper;
  if (code === 0x8f3e) return EventLogId.security;
  if (code === 0x8183 || (code >= 0x8f48 && code <= 0x8f4b)) return EventLogId.network;
  return EventLogId.general;
}

/** The ZCL header of an alert frame; a header that does not decode is a truncated alert. */
function alertHeader(zcl: Uint8Array): ReturnType<typeof decodeZclHeader> {
  try {
    return decodeZclHeader(zcl);
  } catch (e) {
    const what = e instanceof ZigbeeDecodeError ? e.field : 'header';
    throw new DeviceAlertError('DEVICE_ALERT_TRUNCATED', `zcl.${what}`, (e as Error).message);
  }
}

function checkUint(value: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new DeviceAlertError('DEVICE_ALERT_BAD_VALUE', field, `${value} out of range 0..${max}`);
}

export function encodeDeviceAlert(a: DeviceAlert): Uint8Array {
  checkUint(a.tsn, 0xff, 'tsn');
  checkUint(a.logId, 0xff, 'logId');
  checkUint(a.code, 0xffff, 'code');
  checkUint(a.eventTime, 0xffffffff, 'eventTime');
  checkUint(a.eventControl, 0xff, 'eventControl');
  if (a.logId === 0)
    throw new DeviceAlertError('DEVICE_ALERT_BAD_VALUE', 'logId', '0 (all logs) names no log');
  if (a.code === 0)
    throw new DeviceAlertError('DEVICE_ALERT_BAD_VALUE', 'code', '0 (all events) is no alert');
  const data = a.eventData ?? new Uint8Array(0);
  // 0xFF is the octet string's "invalid" length.
  if (data.length > 0xfe)
    throw new DeviceAlertError('DEVICE_ALERT_BAD_VALUE', 'eventData', `${data.length} octets, at most 254`);
  const out = new Uint8Array(3 + PAYLOAD_FIXED_OCTETS + data.length);
  const v = new DataView(out.buffer);
  const fc = FRAME_CONTROL | (a.disableDefaultResponse ? FC_DISABLE_DEFAULT_RESPONSE : 0);
  out.set([fc, a.tsn, PUBLISH_EVENT_COMMAND, a.logId]);
  v.setUint16(4, a.code, true);
  v.setUint32(6, a.eventTime, true);
  out[10] = a.eventControl;
  out[11] = data.length;
  out.set(data, 12);
  return out;
}

/** Throws `DeviceAlertError` on anything but a well-formed Publish Event. */
export function decodeDeviceAlert(zcl: Uint8Array): DeviceAlert {
  const { header, length } = alertHeader(zcl);
  if (
    header.frameType !== 'cluster' ||
    header.direction !== 'serverToClient' ||
    header.manufacturerCode !== undefined ||
    header.commandId !== PUBLISH_EVENT_COMMAND
  )
    throw new DeviceAlertError(
      'DEVICE_ALERT_WRONG_COMMAND',
      'zcl.commandId',
      `${header.frameType} command 0x${header.commandId.toString(16).padStart(2, '0')} ${header.direction}` +
        `${header.manufacturerCode !== undefined ? ' (manufacturer-specific)' : ''}, not Publish Event`,
    );
  const p = zcl.subarray(length);
  if (p.length < PAYLOAD_FIXED_OCTETS)
    throw new DeviceAlertError(
      'DEVICE_ALERT_TRUNCATED',
      'payload',
      `${p.length} octets, need at least ${PAYLOAD_FIXED_OCTETS}`,
    );
  const v = new DataView(p.buffer, p.byteOffset, p.length);
  const dataLength = p[8]!;
  // 0xFF is the octet string's "invalid" length (ZCL r8 §2.6.2.10).
  if (dataLength === 0xff)
    throw new DeviceAlertError('DEVICE_ALERT_BAD_VALUE', 'eventData', 'invalid octet string (length 0xff)');
  if (p.length < PAYLOAD_FIXED_OCTETS + dataLength)
    throw new DeviceAlertError(
      'DEVICE_ALERT_TRUNCATED',
      'eventData',
      `length ${dataLength}, have ${p.length - PAYLOAD_FIXED_OCTETS}`,
    );
  if (p.length > PAYLOAD_FIXED_OCTETS + dataLength)
    throw new DeviceAlertError(
      'DEVICE_ALERT_TRAILING_OCTETS',
      'payload',
      `${p.length - PAYLOAD_FIXED_OCTETS - dataLength} octets after Event Data`,
    );
  const alert: DeviceAlert = {
    tsn: header.transactionSequenceNumber,
    logId: p[0]!,
    code: v.getUint16(1, true),
    eventTime: v.getUint32(3, true),
    eventControl: p[7]!,
  };
  if (dataLength > 0) alert.eventData = p.slice(PAYLOAD_FIXED_OCTETS, PAYLOAD_FIXED_OCTETS + dataLength);
  if (header.disableDefaultResponse) alert.disableDefaultResponse = true;
  if (alert.logId === 0)
    throw new DeviceAlertError('DEVICE_ALERT_BAD_VALUE', 'logId', '0 (all logs) names no log');
  if (alert.code === 0)
    throw new DeviceAlertError('DEVICE_ALERT_BAD_VALUE', 'code', '0 (all events) is no alert');
  return alert;
}

/**
 * The Event Data a meter sends with an alert raised at virtual time `tUs`.
 *
 * ASSUMPTION: the microseconds of the event within its second (u32 little-endian). Event Time
 * counts whole seconds, and two alerts of one code in the same second (two failed rejoins 44 ms
 * apart in scenarios/reset-han-rejoin.yaml) are two events, which a CH recognising re-sent
 * alerts must not merge; a re-send carries the same octets.
 */
export function alertEventData(tUs: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, Math.floor(tUs) % 1_000_000, true);
  return out;
}

/** The Publish Event a device sends for one of its queued alerts (what a re-send repeats). */
export function encodeAlertPublishEvent(alert: Alert, tsn: number): Uint8Array {
  return encodeDeviceAlert({
    tsn,
    logId: logIdForAlert(alert.code),
    code: alert.code,
    eventTime: zclUtcNow(alert.t),
    eventControl: EVENT_CONTROL_REPORT_TO_WAN,
    eventData: alertEventData(alert.t),
  });
}

/** The CH's answer to a Publish Event: a Default Response naming command 0x00. */
export interface AlertResponse {
  /** The alert's transaction sequence number. */
  tsn: number;
  /** ZCL status: SUCCESS = the CH holds the alert in NVM. */
  statusCode: number;
}

/**
 * Throws `DeviceAlertError` on anything but a Default Response (ZCL r8 §2.5.12) to a Publish
 * Event: global command 0x0B, client to server (it answers a server-to-client command), no
 * manufacturer code, payload command id 0x00 and a status, nothing more.
 */
export function decodeAlertResponse(zcl: Uint8Array): AlertResponse {
  const { header, length } = alertHeader(zcl);
  if (
    header.frameType !== 'global' ||
    header.commandId !== DEFAULT_RESPONSE_COMMAND ||
    header.direction !== 'clientToServer' ||
    header.manufacturerCode !== undefined
  )
    throw new DeviceAlertError(
      'DEVICE_ALERT_WRONG_COMMAND',
      'zcl.commandId',
      `${header.frameType} command 0x${header.commandId.toString(16).padStart(2, '0')} ${header.direction}, not a Default Response`,
    );
  const p = zcl.subarray(length);
  if (p.length < 2)
    throw new DeviceAlertError('DEVICE_ALERT_TRUNCATED', 'payload', `${p.length} octets, need 2`);
  if (p.length > 2)
    throw new DeviceAlertError(
      'DEVICE_ALERT_TRAILING_OCTETS',
      'payload',
      `${p.length - 2} octets after the status`,
    );
  if (p[0] !== PUBLISH_EVENT_COMMAND)
    throw new DeviceAlertError(
      'DEVICE_ALERT_WRONG_COMMAND',
      'commandId',
      `answers command 0x${p[0]!.toString(16).padStart(2, '0')}, not Publish Event`,
    );
  return { tsn: header.transactionSequenceNumber, statusCode: p[1]! };
}

/** "0x8F3F" */
export function alertCodeHex(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
