/**
 * AES-CCM* as ZigBee uses it (05-3474 Annex A, §4.5.1.1.1): levels 5-7 are plain CCM with a
 * 4/8/16-byte MIC (node:crypto aes-128-ccm), levels 1-3 authenticate only (the payload joins
 * the authenticated data and stays in clear), level 4 encrypts only: CCM's counter mode with
 * A_i = 0x01 || nonce || i starting at i = 1 (aes-128-ctr), because node refuses 0-byte tags.
 */
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { concatBytes } from '../bytes.js';
import { ZigbeeDecodeError } from '../errors.js';
import { MIC_LENGTH } from './aux-header.js';

function checkInputs(key: Uint8Array, nonce: Uint8Array, level: number): void {
  if (key.length !== 16)
    throw new ZigbeeDecodeError('SECURITY', 'BAD_KEY', 'key', `${key.length} bytes, want 16`);
  if (nonce.length !== 13) throw new RangeError(`CCM* nonce must be 13 bytes, got ${nonce.length}`);
  if (!Number.isInteger(level) || level < 0 || level > 7) throw new RangeError(`security level ${level}`);
}

function ctrBlock(nonce: Uint8Array): Uint8Array {
  const iv = new Uint8Array(16);
  iv[0] = 0x01;
  iv.set(nonce, 1);
  iv[15] = 0x01;
  return iv;
}

/** Encrypt and/or authenticate: returns the (possibly encrypted) payload followed by the MIC. */
export function ccmStarEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  a: Uint8Array,
  m: Uint8Array,
  level: number,
): Uint8Array {
  checkInputs(key, nonce, level);
  const micLength = MIC_LENGTH[level as 0]!;
  if (level === 0) return m.slice();
  if (level === 4) {
    const c = createCipheriv('aes-128-ctr', key, ctrBlock(nonce));
    return new Uint8Array(concatBytes(c.update(m), c.final()));
  }
  const encrypt = level >= 4;
  const aad = encrypt ? a : concatBytes(a, m);
  const plain = encrypt ? m : new Uint8Array(0);
  const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: micLength });
  c.setAAD(aad, { plaintextLength: plain.length });
  const body = c.update(plain);
  c.final();
  const tag = c.getAuthTag();
  return encrypt ? concatBytes(body, tag) : concatBytes(m, tag);
}

/** Inverse of ccmStarEncrypt; a MIC mismatch is ZigbeeDecodeError('SECURITY','BAD_MIC'). */
export function ccmStarDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  a: Uint8Array,
  c: Uint8Array,
  level: number,
): Uint8Array {
  checkInputs(key, nonce, level);
  const micLength = MIC_LENGTH[level as 0]!;
  if (c.length < micLength) {
    throw new ZigbeeDecodeError('SECURITY', 'TRUNCATED', 'mic', `${c.length} bytes < MIC of ${micLength}`);
  }
  if (level === 0) return c.slice();
  if (level === 4) {
    const d = createDecipheriv('aes-128-ctr', key, ctrBlock(nonce));
    return new Uint8Array(concatBytes(d.update(c), d.final()));
  }
  const body = c.subarray(0, c.length - micLength);
  const mic = c.subarray(c.length - micLength);
  if (level < 4) {
    // Authentication only: recompute the MIC over a || m and compare in constant time.
    const expect = ccmStarEncrypt(key, nonce, a, body, level).subarray(body.length);
    if (!timingSafeEqual(expect, mic))
      throw new ZigbeeDecodeError('SECURITY', 'BAD_MIC', 'mic', 'MIC mismatch');
    return body.slice();
  }
  const d = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: micLength });
  d.setAuthTag(mic);
  d.setAAD(a, { plaintextLength: body.length });
  const plain = d.update(body);
  try {
    d.final();
  } catch {
    throw new ZigbeeDecodeError('SECURITY', 'BAD_MIC', 'mic', 'MIC mismatch');
  }
  return new Uint8Array(plain);
}
