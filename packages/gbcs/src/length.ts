/**
 * DLMS / BER definite length (the form GBCS uses for every length in the General Ciphering and
 * General Signing APDUs): < 0x80 in one byte, else 0x80 | n followed by n big-endian bytes.
 * Decoding is strict (shortest form only) so decode(encode(x)) and encode(decode(b)) agree.
 */
import { type Reader, u16be } from './bytes.js';
import { GbcsError } from './errors.js';

export const MAX_LENGTH = 0xffffff;

export function encodeLength(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > MAX_LENGTH)
    throw new GbcsError('LENGTH', 'OUT_OF_RANGE', 'length', `${n} does not fit a DLMS length`);
  if (n < 0x80) return Uint8Array.of(n);
  if (n <= 0xff) return Uint8Array.of(0x81, n);
  if (n <= 0xffff) return Uint8Array.of(0x82, ...u16be(n));
  return Uint8Array.of(0x83, n >>> 16, (n >>> 8) & 0xff, n & 0xff);
}

/** Reads a length; `field` names what it is the length of. */
export function decodeLength(r: Reader, field: string): number {
  const first = r.u8(field);
  if (first < 0x80) return first;
  const n = first & 0x7f;
  if (n === 0 || n > 3)
    throw new GbcsError(r.layer, 'INVALID_FIELD', field, `length form 0x${first.toString(16)} not allowed`);
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + r.u8(field);
  const min = n === 1 ? 0x80 : 2 ** (8 * (n - 1));
  if (v < min) throw new GbcsError(r.layer, 'INVALID_FIELD', field, `length ${v} not in its shortest form`);
  return v;
}
