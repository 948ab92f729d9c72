/**
 * Keyed hash for message authentication (05-3474 Annex B.1.4): HMAC built on the AES-MMO
 * hash with a 16-byte block, and the two derived keys APS security uses (§4.5.3):
 * key-transport key = HMAC(key, 0x00), key-load key = HMAC(key, 0x02). Keys are always
 * explicit arguments; nothing here caches them.
 */
import { concatBytes } from '../bytes.js';
import { ZigbeeDecodeError } from '../errors.js';
import type { SecurityKeyIdName } from './aux-header.js';
import { aesMmoHash } from './mmo.js';

const BLOCK = 16;

/** HMAC-MMO: H((K ^ opad) || H((K ^ ipad) || M)); keys longer than a block are hashed first. */
export function hmacMmo(key: Uint8Array, message: Uint8Array): Uint8Array {
  let k = key.length > BLOCK ? aesMmoHash(key) : key;
  if (k.length < BLOCK) {
    const padded = new Uint8Array(BLOCK);
    padded.set(k);
    k = padded;
  }
  const ipad = new Uint8Array(BLOCK);
  const opad = new Uint8Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    ipad[i] = k[i]! ^ 0x36;
    opad[i] = k[i]! ^ 0x5c;
  }
  return aesMmoHash(concatBytes(opad, aesMmoHash(concatBytes(ipad, message))));
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 16)
    throw new ZigbeeDecodeError('SECURITY', 'BAD_KEY', 'key', `${key.length} bytes, want 16`);
}

/** Key-transport key (§4.5.3): HMAC(key, 0x00). */
export function keyTransportKey(key: Uint8Array): Uint8Array {
  checkKey(key);
  return hmacMmo(key, Uint8Array.of(0x00));
}

/** Key-load key (§4.5.3): HMAC(key, 0x02). */
export function keyLoadKey(key: Uint8Array): Uint8Array {
  checkKey(key);
  return hmacMmo(key, Uint8Array.of(0x02));
}

/** The key CCM* actually uses for a frame whose aux header names `keyId`, given the base key. */
export function frameKey(key: Uint8Array, keyId: SecurityKeyIdName): Uint8Array {
  checkKey(key);
  if (keyId === 'keyTransport') return keyTransportKey(key);
  if (keyId === 'keyLoad') return keyLoadKey(key);
  return key;
}
