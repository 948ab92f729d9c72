/** The byte helpers every codec leans on: hex and EUI64 conversions, including their caches. */
import { describe, expect, it } from 'vitest';
import {
  eui64FromLittleEndian,
  eui64LittleEndianShared,
  eui64ToLittleEndian,
  fromHex,
  toHex,
  Writer,
} from '../src/bytes.js';
import { buildNonce } from '../src/security/aux-header.js';

describe('byte helpers', () => {
  it('an EUI64 to on-air bytes and back; each call gets its own copy', () => {
    const eui = '00124b0001020304';
    const a = eui64ToLittleEndian(eui);
    expect(toHex(a)).toBe('04030201004b1200');
    a.fill(0xff); // a caller that writes into its copy
    const b = eui64ToLittleEndian(eui);
    expect(toHex(b)).toBe('04030201004b1200');
    expect(b).not.toBe(eui64ToLittleEndian(eui));
    expect(eui64FromLittleEndian(b)).toBe(eui);
    expect(() => eui64ToLittleEndian('00124B0001020304')).toThrow(RangeError);
    expect(() => eui64ToLittleEndian('00124b00010203')).toThrow(RangeError);
  });

  it('the shared bytes are one array per EUI64, which writers and nonces copy, never hand out', () => {
    const eui = '00124b0001020399';
    const shared = eui64LittleEndianShared(eui);
    expect(eui64LittleEndianShared(eui)).toBe(shared);
    const frame = new Writer().u8(1).eui64(eui).finish();
    const nonce = buildNonce(eui, 7, 0x2d);
    frame.fill(0);
    nonce.fill(0);
    expect(toHex(eui64LittleEndianShared(eui))).toBe('99030201004b1200');
    expect(toHex(eui64ToLittleEndian(eui))).toBe('99030201004b1200');
    expect(() => eui64LittleEndianShared('not-an-eui64')).toThrow(RangeError);
  });

  it('hex with separators or either case, and bad hex refused', () => {
    expect(toHex(fromHex('0aFf'))).toBe('0aff');
    expect(toHex(fromHex('0a:ff 01'))).toBe('0aff01');
    expect(fromHex('')).toEqual(new Uint8Array(0));
    expect(() => fromHex('abc')).toThrow(RangeError);
    expect(() => fromHex('zz')).toThrow(RangeError);
    const x = fromHex('0102');
    expect(x.constructor).toBe(Uint8Array);
  });
});
