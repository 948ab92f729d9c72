/**
 * Inter-PAN frames (ZigBee SE 1.4 Annex B.4): a MAC data frame from a long source address,
 * without PAN ID compression, carrying a 2-byte NWK stub (frame type 3, protocol version 2)
 * and an APS stub (frame type 3, delivery mode, optional group, cluster, profile) before the
 * ZCL frame. SE 1.4 secures Inter-PAN with APS security (link key from CBKE), supported here
 * with the same CCM* code as aps.ts.
 */
import { type Eui64, Reader, Writer } from './bytes.js';
import type { MacDataFrame } from './mac.js';
import {
  type AuxHeader,
  DEFAULT_SECURITY_LEVEL,
  decodeAuxHeader,
  encodeAuxHeader,
  type SecurityKeyIdName,
} from './security/aux-header.js';
import { frameKey } from './security/keys.js';
import { openFrame, sealFrame } from './security/seal.js';

/** NWK stub frame control: frame type 0b11, protocol version 2, nothing else (B.4.1). */
export const INTERPAN_NWK_FRAME_CONTROL = 0x000b;

export type InterPanDelivery = 'unicast' | 'broadcast' | 'group';
const DELIVERY_BITS: Record<InterPanDelivery, number> = { unicast: 0, broadcast: 2, group: 3 };

interface InterPanHeader {
  deliveryMode: InterPanDelivery;
  /** Present iff group delivery. */
  groupAddress?: number;
  clusterId: number;
  profileId: number;
}

export type InterPanPlainFrame = InterPanHeader & { security: false; payload: Uint8Array };
export type InterPanSecuredFrame = InterPanHeader & { security: true; aux: AuxHeader; encrypted: Uint8Array };
export type InterPanFrame = InterPanPlainFrame | InterPanSecuredFrame;

/** True when a MAC data payload starts with the Inter-PAN NWK stub (frame type 3). */
export function isInterPanFrame(macPayload: Uint8Array): boolean {
  return macPayload.length >= 2 && (macPayload[0]! & 0x03) === 0x03;
}

function encodeStubs(w: Writer, h: InterPanHeader, security: boolean): void {
  w.u16(INTERPAN_NWK_FRAME_CONTROL);
  w.u8(0x03 | (DELIVERY_BITS[h.deliveryMode] << 2) | (security ? 0x20 : 0));
  if ((h.groupAddress !== undefined) !== (h.deliveryMode === 'group')) {
    throw new RangeError('groupAddress is present iff delivery is group');
  }
  if (h.groupAddress !== undefined) w.u16(h.groupAddress, 'groupAddress');
  w.u16(h.clusterId, 'clusterId').u16(h.profileId, 'profileId');
}

/** NWK stub + APS stub + payload: the MAC data payload of an Inter-PAN frame. */
export function encodeInterPanFrame(frame: InterPanFrame): Uint8Array {
  const w = new Writer(128);
  encodeStubs(w, frame, frame.security);
  if (frame.security) {
    encodeAuxHeader(w, frame.aux);
    w.bytes(frame.encrypted);
  } else w.bytes(frame.payload);
  return w.finish();
}

function decodeStubs(r: Reader): { header: InterPanHeader; security: boolean } {
  const nwk = r.u16('nwkFrameControl');
  if (nwk !== INTERPAN_NWK_FRAME_CONTROL) {
    throw r.invalid(
      'nwkFrameControl',
      `0x${nwk.toString(16).padStart(4, '0')} is not the Inter-PAN stub 0x000b`,
    );
  }
  const fc = r.u8('apsFrameControl');
  if ((fc & 0x03) !== 0x03) throw r.invalid('apsFrameType', 'APS stub must have frame type 3');
  if (fc & 0xd0)
    throw r.invalid('apsFrameControl', 'ack format, ack request or extended header set in a stub');
  const mode = (fc >> 2) & 3;
  if (mode === 1) throw r.invalid('deliveryMode', 'indirect delivery (1) is reserved');
  const deliveryMode: InterPanDelivery = mode === 0 ? 'unicast' : mode === 2 ? 'broadcast' : 'group';
  const header: InterPanHeader = { deliveryMode, clusterId: 0, profileId: 0 };
  if (deliveryMode === 'group') header.groupAddress = r.u16('groupAddress');
  header.clusterId = r.u16('clusterId');
  header.profileId = r.u16('profileId');
  return { header, security: (fc & 0x20) !== 0 };
}

export function decodeInterPanFrame(macPayload: Uint8Array): InterPanFrame {
  const r = new Reader(macPayload, 'INTERPAN');
  const { header, security } = decodeStubs(r);
  if (security) return { ...header, security: true, aux: decodeAuxHeader(r), encrypted: r.rest() };
  return { ...header, security: false, payload: r.rest() };
}

export interface InterPanSecureOptions {
  /** Link key (the CBKE key); keyTransport/keyLoad are derived as in aps.ts. */
  key: Uint8Array;
  keyId?: SecurityKeyIdName;
  frameCounter: number;
  sourceEui64: Eui64;
  level?: number;
  onAirLevel?: 0 | 'real';
}

/** APS-secure an Inter-PAN frame; the source EUI64 always travels in the aux header. */
export function secureInterPanFrame(frame: InterPanPlainFrame, o: InterPanSecureOptions): Uint8Array {
  const level = o.level ?? DEFAULT_SECURITY_LEVEL;
  const keyId = o.keyId ?? 'data';
  if (keyId === 'network') throw new RangeError('Inter-PAN frames are not secured with a network key');
  const w = new Writer(128);
  encodeStubs(w, frame, true);
  const apsStart = 2;
  const auxOffset = w.length;
  encodeAuxHeader(w, { level, keyId, frameCounter: o.frameCounter, sourceAddress: o.sourceEui64 });
  const all = w.finish();
  return sealFrame(
    all,
    apsStart,
    auxOffset,
    frame.payload,
    frameKey(o.key, keyId),
    o.sourceEui64,
    o.frameCounter,
    level,
    o.onAirLevel,
  );
}

export function unsecureInterPanFrame(
  macPayload: Uint8Array,
  o: { key: Uint8Array; level?: number; sourceEui64?: Eui64 },
): { frame: InterPanPlainFrame; aux: AuxHeader } {
  const r = new Reader(macPayload, 'INTERPAN');
  const { header, security } = decodeStubs(r);
  if (!security) throw r.invalid('security', 'frame is not secured');
  const auxOffset = r.offset;
  const aux = decodeAuxHeader(r);
  const level = o.level ?? DEFAULT_SECURITY_LEVEL;
  const payload = openFrame(
    macPayload,
    2,
    auxOffset,
    r.offset,
    aux,
    frameKey(o.key, aux.keyId),
    level,
    o.sourceEui64,
  );
  return { frame: { ...header, security: false, payload }, aux };
}

/**
 * The MAC data frame around an Inter-PAN payload (B.4.1): long source, no PAN ID
 * compression, ack requested on unicast; destination a short (0xffff broadcast) or Eui64.
 */
export function interPanMacFrame(o: {
  sequenceNumber: number;
  destinationPan: number;
  destination: number | Eui64;
  sourcePan: number;
  source: Eui64;
  payload: Uint8Array;
}): MacDataFrame {
  const broadcast = o.destination === 0xffff;
  return {
    frameType: 'data',
    sequenceNumber: o.sequenceNumber,
    framePending: false,
    ackRequest: !broadcast,
    panIdCompression: false,
    frameVersion: 0,
    destinationPan: o.destinationPan,
    destination: o.destination,
    sourcePan: o.sourcePan,
    source: o.source,
    payload: o.payload,
  };
}
