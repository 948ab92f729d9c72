/**
 * AES-128 Matyas-Meyer-Oseas hash (ZigBee spec 05-3474 Annex B.6). Install-code link keys,
 * the CBKE KDF and ECQV's certificate hash all use it. Single-block AES is aes.ts's (each
 * block's key is the previous hash, so nothing is cached; a schedule costs less than a
 * node:crypto cipher object).
 */
import { encryptBlock128, expandKey128 } from './aes.js';

const BLOCK = 16;

function aesBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  return encryptBlock128(expandKey128(key), block);
}

/** B.6 padding: M || 0x80 || 0.. || bit length (16 bits, or 32 bits + 16 zero bits for long M). */
function mmoPad(message: Uint8Array): Uint8Array {
  const bits = message.length * 8;
  const longForm = bits >= 0x10000;
  const tail = longForm ? 6 : 2;
  let len = message.length + 1;
  while ((len + tail) % BLOCK !== 0) len++;
  const out = new Uint8Array(len + tail);
  out.set(message);
  out[message.length] = 0x80;
  const view = new DataView(out.buffer);
  if (longForm) view.setUint32(len, bits);
  else view.setUint16(len, bits);
  return out;
}

/** Hash_i = E(Hash_{i-1}, M_i) xor M_i with Hash_0 = 0. */
export function aesMmoHash(message: Uint8Array): Uint8Array {
  const padded = mmoPad(message);
  let h = new Uint8Array(BLOCK);
  for (let off = 0; off < padded.length; off += BLOCK) {
    const m = padded.subarray(off, off + BLOCK);
    const e = aesBlock(h, m);
    const next = new Uint8Array(BLOCK);
    for (let i = 0; i < BLOCK; i++) next[i] = e[i]! ^ m[i]!;
    h = next;
  }
  return h;
}
