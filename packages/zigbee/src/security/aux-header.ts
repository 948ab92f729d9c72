/**
 * ZigBee auxiliary security header and CCM* nonce (05-3474 §4.5.1). NWK and APS share the
 * layout: security control, frame counter, optional source address (extended nonce) and a
 * key sequence number when the network key is used. The security level on air is usually 0
 * (nwkSecurityLevel is known to both ends); the nonce and the authenticated header always
 * carry the real level, which callers pass explicitly.
 */
import { type Eui64, eui64LittleEndianShared, type Reader, type Writer } from '../bytes.js';

/** Key identifier subfield (§4.5.1.1.2, Table 4.24). */
export const SecurityKeyId = { data: 0, network: 1, keyTransport: 2, keyLoad: 3 } as const;
export type SecurityKeyIdName = keyof typeof SecurityKeyId;
const KEY_ID_NAMES: SecurityKeyIdName[] = ['data', 'network', 'keyTransport', 'keyLoad'];

/** MIC length in bytes for each security level 0..7 (§4.5.1.1.1, Table 4.23). */
export const MIC_LENGTH = [0, 4, 8, 16, 0, 4, 8, 16] as const;
/** ENC-MIC-32: the level every ZigBee PRO network uses. */
export const DEFAULT_SECURITY_LEVEL = 5;

export interface AuxHeader {
  /** Security level as carried on air (0 when the stack blanks it, as ZigBee does). */
  level: number;
  keyId: SecurityKeyIdName;
  frameCounter: number;
  /** Present iff the extended-nonce bit is set: the sender's EUI64. */
  sourceAddress?: Eui64;
  /** Present iff keyId is 'network'. */
  keySequenceNumber?: number;
}

export function securityControl(level: number, keyId: SecurityKeyIdName, extendedNonce: boolean): number {
  if (!Number.isInteger(level) || level < 0 || level > 7) throw new RangeError(`security level ${level}`);
  return level | (SecurityKeyId[keyId] << 3) | (extendedNonce ? 0x20 : 0);
}

export function auxHeaderLength(aux: AuxHeader): number {
  return 5 + (aux.sourceAddress !== undefined ? 8 : 0) + (aux.keyId === 'network' ? 1 : 0);
}

export function encodeAuxHeader(w: Writer, aux: AuxHeader): void {
  if ((aux.keySequenceNumber !== undefined) !== (aux.keyId === 'network')) {
    throw new RangeError('keySequenceNumber is present iff keyId is network');
  }
  w.u8(securityControl(aux.level, aux.keyId, aux.sourceAddress !== undefined));
  w.u32(aux.frameCounter, 'frameCounter');
  if (aux.sourceAddress !== undefined) w.eui64(aux.sourceAddress);
  if (aux.keySequenceNumber !== undefined) w.u8(aux.keySequenceNumber, 'keySequenceNumber');
}

export function decodeAuxHeader(r: Reader): AuxHeader {
  const sc = r.u8('securityControl');
  if (sc & 0xc0) throw r.invalid('securityControl', 'reserved bits 6-7 set');
  const aux: AuxHeader = {
    level: sc & 0x07,
    keyId: KEY_ID_NAMES[(sc >> 3) & 0x03]!,
    frameCounter: r.u32('frameCounter'),
  };
  if (sc & 0x20) aux.sourceAddress = r.eui64('sourceAddress');
  if (aux.keyId === 'network') aux.keySequenceNumber = r.u8('keySequenceNumber');
  return aux;
}

/**
 * CCM* nonce (§4.5.2.2, Figure 4.21): source address (on-air byte order), frame counter
 * (little-endian), security control with the real level.
 */
export function buildNonce(sourceAddress: Eui64, frameCounter: number, control: number): Uint8Array {
  const n = new Uint8Array(13);
  n.set(eui64LittleEndianShared(sourceAddress), 0);
  n[8] = frameCounter & 0xff;
  n[9] = (frameCounter >>> 8) & 0xff;
  n[10] = (frameCounter >>> 16) & 0xff;
  n[11] = (frameCounter >>> 24) & 0xff;
  n[12] = control;
  return n;
}
