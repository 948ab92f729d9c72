/**
 * AES-128 block encryption (FIPS-197), written here for one reason: CCM* on ZigBee frames.
 * A frame needs 5-12 block encryptions under a key that stays the same for thousands of
 * frames; node:crypto rebuilds its cipher context (key schedule included) on every call and
 * costs ~6 us per CCM* operation here, where a cached key schedule and T-table rounds in
 * JavaScript cost ~2.2 us (a 26-byte header and 40-byte payload, same process). No well-kept
 * library exposes a reusable AES key schedule through a stable API: @noble/ciphers keeps it
 * under `unsafe` ("may change at any time"), and CCM* built on that measured 4.6-5.0 us.
 *
 * Words are big-endian (byte 0 of a block is the top byte of word 0), the T-tables are the
 * combined SubBytes/ShiftRows/MixColumns of FIPS-197 §5.1, derived below from the field, not
 * typed in. Checked against FIPS-197 Appendix B/C.1 and node:crypto on random keys and blocks.
 *
 * NOT CONSTANT-TIME (table lookups by secret bytes): this is an emulator; do not use it to
 * protect real keys.
 */

const SBOX = new Uint8Array(256);
const T0 = new Int32Array(256);
const T1 = new Int32Array(256);
const T2 = new Int32Array(256);
const T3 = new Int32Array(256);

/** x * 2 in GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1. */
function xtime(b: number): number {
  return ((b << 1) ^ (b & 0x80 ? 0x1b : 0)) & 0xff;
}

// S-box (FIPS-197 §5.1.1): the multiplicative inverse, then the affine map. p walks the
// field by multiplying by 3, q by dividing by 3, so q = p^-1 at every step.
{
  let p = 1;
  let q = 1;
  do {
    p = p ^ xtime(p);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const rot = (x: number, n: number) => ((x << n) | (x >> (8 - n))) & 0xff;
    SBOX[p] = q ^ rot(q, 1) ^ rot(q, 2) ^ rot(q, 3) ^ rot(q, 4) ^ 0x63;
  } while (p !== 1);
  SBOX[0] = 0x63;
  for (let i = 0; i < 256; i++) {
    const s = SBOX[i]!;
    const s2 = xtime(s);
    const s3 = s2 ^ s;
    T0[i] = (s2 << 24) | (s << 16) | (s << 8) | s3;
    T1[i] = (s3 << 24) | (s2 << 16) | (s << 8) | s;
    T2[i] = (s << 24) | (s3 << 16) | (s2 << 8) | s;
    T3[i] = (s << 24) | (s << 16) | (s3 << 8) | s2;
  }
}

/** The 44-word AES-128 key schedule (FIPS-197 §5.2). */
export function expandKey128(key: Uint8Array): Int32Array {
  if (key.length !== 16) throw new RangeError(`AES-128 key must be 16 bytes, got ${key.length}`);
  const w = new Int32Array(44);
  for (let i = 0; i < 4; i++) w[i] = readWord(key, 4 * i);
  let rcon = 1;
  for (let i = 4; i < 44; i++) {
    let t = w[i - 1]!;
    if (i % 4 === 0) {
      // RotWord, SubWord, Rcon
      t =
        ((SBOX[(t >>> 16) & 0xff]! << 24) |
          (SBOX[(t >>> 8) & 0xff]! << 16) |
          (SBOX[t & 0xff]! << 8) |
          SBOX[t >>> 24]!) ^
        (rcon << 24);
      rcon = xtime(rcon);
    }
    w[i] = w[i - 4]! ^ t;
  }
  return w;
}

/** Bytes at..at+3 of `b` as a big-endian word. */
export function readWord(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

/** Encrypt the block (s0..s3, big-endian words) under schedule `w`; the result into `out[0..3]`. */
export function encryptWords(
  w: Int32Array,
  a0: number,
  a1: number,
  a2: number,
  a3: number,
  out: Int32Array,
): void {
  let s0 = a0 ^ w[0]!;
  let s1 = a1 ^ w[1]!;
  let s2 = a2 ^ w[2]!;
  let s3 = a3 ^ w[3]!;
  let k = 4;
  for (let round = 1; round < 10; round++) {
    const t0 = T0[s0 >>> 24]! ^ T1[(s1 >>> 16) & 255]! ^ T2[(s2 >>> 8) & 255]! ^ T3[s3 & 255]! ^ w[k]!;
    const t1 = T0[s1 >>> 24]! ^ T1[(s2 >>> 16) & 255]! ^ T2[(s3 >>> 8) & 255]! ^ T3[s0 & 255]! ^ w[k + 1]!;
    const t2 = T0[s2 >>> 24]! ^ T1[(s3 >>> 16) & 255]! ^ T2[(s0 >>> 8) & 255]! ^ T3[s1 & 255]! ^ w[k + 2]!;
    const t3 = T0[s3 >>> 24]! ^ T1[(s0 >>> 16) & 255]! ^ T2[(s1 >>> 8) & 255]! ^ T3[s2 & 255]! ^ w[k + 3]!;
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
    k += 4;
  }
  // Last round: no MixColumns.
  out[0] = lastRound(s0, s1, s2, s3) ^ w[40]!;
  out[1] = lastRound(s1, s2, s3, s0) ^ w[41]!;
  out[2] = lastRound(s2, s3, s0, s1) ^ w[42]!;
  out[3] = lastRound(s3, s0, s1, s2) ^ w[43]!;
}

function lastRound(a: number, b: number, c: number, d: number): number {
  return (
    (SBOX[a >>> 24]! << 24) | (SBOX[(b >>> 16) & 255]! << 16) | (SBOX[(c >>> 8) & 255]! << 8) | SBOX[d & 255]!
  );
}

/** One block, bytes in and out (tests, the MMO hash). */
export function encryptBlock128(w: Int32Array, block: Uint8Array): Uint8Array {
  const out = new Int32Array(4);
  encryptWords(w, readWord(block, 0), readWord(block, 4), readWord(block, 8), readWord(block, 12), out);
  const r = new Uint8Array(16);
  for (let i = 0; i < 16; i++) r[i] = (out[i >> 2]! >>> (24 - 8 * (i & 3))) & 0xff;
  return r;
}
