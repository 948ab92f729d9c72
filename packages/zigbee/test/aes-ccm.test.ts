/**
 * aes.ts and ccm.ts against outside truth: the FIPS-197 AES-128 examples, node:crypto's
 * aes-128-ecb on random keys and blocks, and node:crypto's aes-128-ccm / aes-128-ctr for
 * CCM* at every level on random keys, nonces and lengths (empty authenticated data and empty
 * messages included), with the key schedule cache reused across keys and checked after other
 * keys have been used (a stale schedule would seal under the wrong key).
 */
import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ccmStarDecrypt, ccmStarEncrypt, MIC_LENGTH } from '../src/index.js';
import { encryptBlock128, expandKey128 } from '../src/security/aes.js';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('AES-128 (FIPS-197)', () => {
  it('matches Appendix C.1 and Appendix B, and the key expansion of Appendix A.1', () => {
    const c1 = expandKey128(hex('000102030405060708090a0b0c0d0e0f'));
    expect(toHex(encryptBlock128(c1, hex('00112233445566778899aabbccddeeff')))).toBe(
      '69c4e0d86a7b0430d8cdb78070b4c55a',
    );
    const b = expandKey128(hex('2b7e151628aed2a6abf7158809cf4f3c'));
    expect(toHex(encryptBlock128(b, hex('3243f6a8885a308d313198a2e0370734')))).toBe(
      '3925841d02dc09fbdc118597196a0b32',
    );
    // A.1: w[43] of the same key.
    expect((b[43]! >>> 0).toString(16)).toBe('b6630ca6');
  });

  it('equals node:crypto aes-128-ecb on random keys and blocks', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (key, block) => {
          const e = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
          const want = Buffer.concat([e.update(block), e.final()]);
          expect(toHex(encryptBlock128(expandKey128(key), block))).toBe(want.toString('hex'));
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** node:crypto's CCM* for a level: CCM for 5-7, CCM over a || m for 1-3, CTR from A_1 for 4. */
function nodeCcmStar(
  key: Uint8Array,
  nonce: Uint8Array,
  a: Uint8Array,
  m: Uint8Array,
  level: number,
): string {
  const M = MIC_LENGTH[level as 0];
  if (level === 0) return toHex(m);
  if (level === 4) {
    const iv = new Uint8Array(16);
    iv[0] = 1;
    iv.set(nonce, 1);
    iv[15] = 1;
    const c = createCipheriv('aes-128-ctr', key, iv);
    return Buffer.concat([c.update(m), c.final()]).toString('hex');
  }
  const enc = level > 4;
  const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: M });
  c.setAAD(enc ? a : Buffer.concat([a, m]), { plaintextLength: enc ? m.length : 0 });
  const body = c.update(enc ? m : new Uint8Array(0));
  c.final();
  return Buffer.concat([enc ? body : m, c.getAuthTag()]).toString('hex');
}

describe('CCM* against node:crypto', () => {
  it('seals and opens as node:crypto at every level, keys reused and interleaved', () => {
    const keys = fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { minLength: 1, maxLength: 3 });
    const op = fc.record({
      k: fc.nat(),
      nonce: fc.uint8Array({ minLength: 13, maxLength: 13 }),
      a: fc.uint8Array({ maxLength: 70 }),
      m: fc.uint8Array({ maxLength: 130 }),
      level: fc.integer({ min: 0, max: 7 }),
    });
    fc.assert(
      fc.property(keys, fc.array(op, { minLength: 1, maxLength: 8 }), (ks, ops) => {
        for (const o of ops) {
          const key = ks[o.k % ks.length]!;
          const sealed = ccmStarEncrypt(key, o.nonce, o.a, o.m, o.level);
          expect(toHex(sealed)).toBe(nodeCcmStar(key, o.nonce, o.a, o.m, o.level));
          expect(toHex(ccmStarDecrypt(key, o.nonce, o.a, sealed, o.level))).toBe(toHex(o.m));
          if (MIC_LENGTH[o.level as 0] > 0 && ks.length > 1) {
            const other = ks[(o.k + 1) % ks.length]!;
            if (toHex(other) !== toHex(key))
              expect(() => ccmStarDecrypt(other, o.nonce, o.a, sealed, o.level)).toThrow(/MIC/);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('follows the key bytes, not the key object (a key changed in place, keys whose words XOR alike)', () => {
    const nonce = new Uint8Array(13).fill(7);
    const a = Uint8Array.of(1, 2, 3);
    const m = Uint8Array.of(4, 5, 6, 7, 8);
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    expect(toHex(ccmStarEncrypt(key, nonce, a, m, 5))).toBe(nodeCcmStar(key, nonce, a, m, 5));
    key[3]! ^= 0xff;
    expect(toHex(ccmStarEncrypt(key, nonce, a, m, 5))).toBe(nodeCcmStar(key, nonce, a, m, 5));
    // Same XOR of the four words as the key above (the cache's bucket), different key.
    const twin = key.slice();
    twin[0]! ^= 0x5a;
    twin[4]! ^= 0x5a;
    expect(toHex(ccmStarEncrypt(twin, nonce, a, m, 5))).toBe(nodeCcmStar(twin, nonce, a, m, 5));
    expect(toHex(ccmStarEncrypt(key, nonce, a, m, 5))).toBe(nodeCcmStar(key, nonce, a, m, 5));
  });

  it('refuses lengths CCM with L = 2 cannot carry', () => {
    const key = new Uint8Array(16);
    const nonce = new Uint8Array(13);
    expect(() => ccmStarEncrypt(key, nonce, new Uint8Array(0), new Uint8Array(0x10000), 5)).toThrow(
      RangeError,
    );
    expect(() => ccmStarEncrypt(key, nonce, new Uint8Array(0xff00), new Uint8Array(1), 5)).toThrow(
      RangeError,
    );
  });
});
