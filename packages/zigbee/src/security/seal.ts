/**
 * Frame security shared by NWK (05-3474 §4.3.1), APS (§4.4.1) and Inter-PAN (APS security on
 * the stubs): CCM* with a = the authenticated header bytes (aux header included) and
 * m = the payload; the nonce comes from the sender's EUI64, the frame counter and the
 * security control byte. ZigBee puts 0 in the on-air level field (§4.3.1.1) and both ends use
 * the real level in a and in the nonce, so opening a frame patches the level back in first.
 */
import type { Eui64 } from '../bytes.js';
import { ZigbeeDecodeError } from '../errors.js';
import { type AuxHeader, buildNonce } from './aux-header.js';
import { ccmStarDecrypt, ccmStarEncrypt } from './ccm.js';

const LEVEL_MASK = 0x07;

/**
 * Secure `m` behind `header` (which ends with the aux header at `auxOffset`, carrying the real
 * level). `a` is header[aStart..]; bytes before aStart (the Inter-PAN NWK stub) are sent but
 * not authenticated. Returns header || ciphertext+MIC with the on-air level cleared unless
 * `onAirLevel` is 'real'.
 */
export function sealFrame(
  header: Uint8Array,
  aStart: number,
  auxOffset: number,
  m: Uint8Array,
  key: Uint8Array,
  source: Eui64,
  frameCounter: number,
  level: number,
  onAirLevel: 0 | 'real' | undefined,
): Uint8Array {
  const nonce = buildNonce(source, frameCounter, header[auxOffset]!);
  const c = ccmStarEncrypt(key, nonce, header.subarray(aStart), m, level);
  const out = new Uint8Array(header.length + c.length);
  out.set(header);
  out.set(c, header.length);
  if (onAirLevel !== 'real') out[auxOffset] = out[auxOffset]! & ~LEVEL_MASK;
  return out;
}

/** Decrypt and authenticate bytes[payloadOffset..] of a frame whose aux header was decoded. */
export function openFrame(
  bytes: Uint8Array,
  aStart: number,
  auxOffset: number,
  payloadOffset: number,
  aux: AuxHeader,
  key: Uint8Array,
  level: number,
  fallbackSource: Eui64 | undefined,
): Uint8Array {
  const source = aux.sourceAddress ?? fallbackSource;
  if (source === undefined) {
    throw new ZigbeeDecodeError(
      'SECURITY',
      'INVALID_FIELD',
      'sourceAddress',
      'no extended nonce and no sourceEui64',
    );
  }
  const a = bytes.slice(aStart, payloadOffset);
  const control = auxOffset - aStart;
  a[control] = (a[control]! & ~LEVEL_MASK) | level;
  const nonce = buildNonce(source, aux.frameCounter, a[control]!);
  return ccmStarDecrypt(key, nonce, a, bytes.subarray(payloadOffset), level);
}
