/**
 * AES-CCM* as ZigBee uses it (05-3474 Annex A, §4.5.1.1.1; CCM per NIST SP 800-38C with
 * L = 2, a 13-byte nonce): levels 5-7 are plain CCM with a 4/8/16-byte MIC, levels 1-3
 * authenticate only (the payload joins the authenticated data and stays in clear), level 4
 * encrypts only (CCM's counter mode, A_i = 0x01 || nonce || i from i = 1).
 *
 * The blocks go through aes.ts with each key's schedule cached (a network key seals thousands
 * of frames), ~3x cheaper than a node:crypto cipher object per frame; the property tests hold
 * it to node:crypto's aes-128-ccm and aes-128-ctr and the Annex C vectors.
 */
import { timingSafeEqual } from 'node:crypto';
import { ZigbeeDecodeError } from '../errors.js';
import { encryptWords, expandKey128, readWord } from './aes.js';
import { MIC_LENGTH } from './aux-header.js';

function checkInputs(key: Uint8Array, nonce: Uint8Array, level: number): void {
  if (key.length !== 16)
    throw new ZigbeeDecodeError('SECURITY', 'BAD_KEY', 'key', `${key.length} bytes, want 16`);
  if (nonce.length !== 13) throw new RangeError(`CCM* nonce must be 13 bytes, got ${nonce.length}`);
  if (!Number.isInteger(level) || level < 0 || level > 7) throw new RangeError(`security level ${level}`);
}

// ---- key schedules, cached by the key's bytes ----------------------------------------------

interface Schedule {
  k: [number, number, number, number];
  w: Int32Array;
}
/** Bounded: a run holds a few keys per device; a flood of keys (fuzzing) only re-expands. */
const MAX_SCHEDULES = 4096;
const schedules = new Map<number, Schedule[]>();
let scheduleCount = 0;

function schedule(key: Uint8Array): Int32Array {
  const k0 = readWord(key, 0);
  const k1 = readWord(key, 4);
  const k2 = readWord(key, 8);
  const k3 = readWord(key, 12);
  const h = k0 ^ k1 ^ k2 ^ k3;
  const list = schedules.get(h);
  if (list !== undefined)
    for (const s of list) if (s.k[0] === k0 && s.k[1] === k1 && s.k[2] === k2 && s.k[3] === k3) return s.w;
  if (scheduleCount >= MAX_SCHEDULES) {
    schedules.clear();
    scheduleCount = 0;
  }
  const s: Schedule = { k: [k0, k1, k2, k3], w: expandKey128(key) };
  const again = schedules.get(h);
  if (again === undefined) schedules.set(h, [s]);
  else again.push(s);
  scheduleCount++;
  return s.w;
}

// ---- CCM ------------------------------------------------------------------------------------

const X = new Int32Array(4);
/** B_0 || (l(a) || a || a2, zero-padded) || (m, zero-padded): the CBC-MAC's input. */
let auth = new Uint8Array(256);

/** The CBC-MAC tag T over a || a2 (authenticated data) and m (SP 800-38C A.2), into X. */
function cbcMac(
  w: Int32Array,
  nonce: Uint8Array,
  a: Uint8Array,
  a2: Uint8Array,
  m: Uint8Array,
  M: number,
): void {
  const la = a.length + a2.length;
  if (la >= 0xff00) throw new RangeError(`CCM* authenticated data of ${la} bytes (at most 65279)`);
  if (m.length > 0xffff) throw new RangeError(`CCM* message of ${m.length} bytes (L = 2: at most 65535)`);
  const aBlocks = la === 0 ? 0 : Math.ceil((la + 2) / 16);
  const length = 16 * (1 + aBlocks + Math.ceil(m.length / 16));
  if (auth.length < length) auth = new Uint8Array(2 * length);
  const b = auth;
  b.fill(0, 0, length);
  // B_0: flags (Adata, (M-2)/2, L-1 = 1), nonce, l(m). M = 0 (level 4) never reaches here.
  b[0] = (la > 0 ? 0x40 : 0) | (((M - 2) / 2) << 3) | 1;
  b.set(nonce, 1);
  b[14] = m.length >> 8;
  b[15] = m.length & 0xff;
  if (la > 0) {
    b[16] = la >> 8;
    b[17] = la & 0xff;
    b.set(a, 18);
    b.set(a2, 18 + a.length);
  }
  b.set(m, 16 * (1 + aBlocks));
  X[0] = 0;
  X[1] = 0;
  X[2] = 0;
  X[3] = 0;
  for (let at = 0; at < length; at += 16)
    encryptWords(
      w,
      X[0]! ^ readWord(b, at),
      X[1]! ^ readWord(b, at + 4),
      X[2]! ^ readWord(b, at + 8),
      X[3]! ^ readWord(b, at + 12),
      X,
    );
}

const S = new Int32Array(4);

/** out[at..] = m XOR the counter-mode keystream from A_1 (SP 800-38C A.3). */
function ctr(w: Int32Array, nonce: Uint8Array, m: Uint8Array, out: Uint8Array, at: number): void {
  if (m.length > 0xffff) throw new RangeError(`CCM* message of ${m.length} bytes (L = 2: at most 65535)`);
  // A_i = flags (L-1 = 1) || nonce || i (2 bytes)
  const c0 = (0x01 << 24) | (nonce[0]! << 16) | (nonce[1]! << 8) | nonce[2]!;
  const c1 = readWord(nonce, 3);
  const c2 = readWord(nonce, 7);
  const c3 = (nonce[11]! << 24) | (nonce[12]! << 16);
  for (let i = 0, n = 1; i < m.length; i += 16, n++) {
    encryptWords(w, c0, c1, c2, c3 | n, S);
    const end = Math.min(16, m.length - i);
    for (let j = 0; j < end; j++) out[at + i + j] = m[i + j]! ^ ((S[j >> 2]! >>> (24 - 8 * (j & 3))) & 0xff);
  }
}

/** U = T XOR first M bytes of E(A_0), written at out[at..at+M). */
function encryptTag(w: Int32Array, nonce: Uint8Array, M: number, out: Uint8Array, at: number): void {
  const c0 = (0x01 << 24) | (nonce[0]! << 16) | (nonce[1]! << 8) | nonce[2]!;
  encryptWords(w, c0, readWord(nonce, 3), readWord(nonce, 7), (nonce[11]! << 24) | (nonce[12]! << 16), S);
  for (let j = 0; j < M; j++) out[at + j] = ((X[j >> 2]! ^ S[j >> 2]!) >>> (24 - 8 * (j & 3))) & 0xff;
}

const EMPTY = new Uint8Array(0);

/** Encrypt and/or authenticate: returns the (possibly encrypted) payload followed by the MIC. */
export function ccmStarEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  a: Uint8Array,
  m: Uint8Array,
  level: number,
): Uint8Array {
  checkInputs(key, nonce, level);
  const M = MIC_LENGTH[level as 0]!;
  if (level === 0) return m.slice();
  const w = schedule(key);
  const out = new Uint8Array(m.length + M);
  if (level === 4) {
    ctr(w, nonce, m, out, 0);
    return out;
  }
  if (level < 4) {
    // MIC only: the payload is authenticated data and goes out in clear.
    cbcMac(w, nonce, a, m, EMPTY, M);
    out.set(m, 0);
  } else {
    cbcMac(w, nonce, a, EMPTY, m, M);
    ctr(w, nonce, m, out, 0);
  }
  encryptTag(w, nonce, M, out, m.length);
  return out;
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
  const M = MIC_LENGTH[level as 0]!;
  if (c.length < M) {
    throw new ZigbeeDecodeError('SECURITY', 'TRUNCATED', 'mic', `${c.length} bytes < MIC of ${M}`);
  }
  if (level === 0) return c.slice();
  const w = schedule(key);
  if (level === 4) {
    const out = new Uint8Array(c.length);
    ctr(w, nonce, c, out, 0);
    return out;
  }
  const body = c.subarray(0, c.length - M);
  const mic = c.subarray(c.length - M);
  let plain: Uint8Array;
  if (level < 4) {
    plain = body.slice();
    cbcMac(w, nonce, a, body, EMPTY, M);
  } else {
    plain = new Uint8Array(body.length);
    ctr(w, nonce, body, plain, 0);
    cbcMac(w, nonce, a, EMPTY, plain, M);
  }
  const expect = new Uint8Array(M);
  encryptTag(w, nonce, M, expect, 0);
  if (!timingSafeEqual(expect, mic))
    throw new ZigbeeDecodeError('SECURITY', 'BAD_MIC', 'mic', 'MIC mismatch');
  return plain;
}
