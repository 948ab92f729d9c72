import { createECDH, ECDH } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AffinePoint, KoblitzCurve } from '../src/abstract/koblitz.js';
import { tauSum, toAffine } from '../src/abstract/tau-sum.js';
import { bytesToHex } from '../src/bytes.js';
import { CbkeError } from '../src/errors.js';
import { sect163k1 } from '../src/sect163k1.js';
import { sect283k1 } from '../src/sect283k1.js';

const curves: KoblitzCurve[] = [sect163k1, sect283k1];

/** Deterministic bytes from a fast-check seed array. */
function scalarFrom(curve: KoblitzCurve, bytes: Uint8Array): bigint {
  let k = 0n;
  for (const b of bytes) k = (k << 8n) | BigInt(b);
  k %= curve.n;
  return k === 0n ? 1n : k;
}

const scalarBytes = (curve: KoblitzCurve) =>
  fc.uint8Array({ minLength: curve.scalarLength, maxLength: curve.scalarLength });

/** Random point of the whole group E (not only the subgroup): random x, solve for y. */
function anyPoint(curve: KoblitzCurve, seed: Uint8Array): AffinePoint | null {
  const xb = seed.slice(0, curve.F.byteLength);
  xb[0]! &= (1 << (curve.F.m % 8)) - 1;
  try {
    return curve.decodePoint(Uint8Array.of(0x02 | (seed[0]! & 1), ...xb));
  } catch {
    return null;
  }
}

describe.each(curves)('$name field', (curve) => {
  const F = curve.F;
  const elem = fc.uint8Array({ minLength: F.byteLength, maxLength: F.byteLength }).map((b) => {
    const c = b.slice();
    c[0]! &= (1 << (F.m % 8)) - 1;
    return F.fromBytes(c);
  });

  it('multiplication agrees with a BigInt reference, inverse and sqrt invert', () => {
    const f = curve === sect163k1 ? (1n << 163n) | 0xc9n : (1n << 283n) | 0x10a1n;
    const refMul = (a: bigint, b: bigint): bigint => {
      let r = 0n;
      for (let i = 0n; b >> i !== 0n; i++) if ((b >> i) & 1n) r ^= a << i;
      for (let i = BigInt(2 * F.m); i >= BigInt(F.m); i--) if ((r >> i) & 1n) r ^= f << (i - BigInt(F.m));
      return r;
    };
    fc.assert(
      fc.property(elem, elem, (a, b) => {
        expect(F.toBigInt(F.mul(a, b))).toBe(refMul(F.toBigInt(a), F.toBigInt(b)));
        expect(F.eq(F.sqr(a), F.mul(a, a))).toBe(true);
        expect(F.eq(F.sqr(F.sqrt(a)), a)).toBe(true);
        if (!F.isZero(a)) expect(F.isOne(F.mul(a, F.inv(a)))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('in-place forms equal the allocating ones with the output aliasing either input, inputs left alone', () => {
    fc.assert(
      fc.property(elem, elem, (a, b) => {
        const [a0, b0] = [a.slice(), b.slice()];
        const product = F.mul(a, b);
        const square = F.sqr(a);
        const sum = F.add(a, b);
        expect(F.eq(a, a0) && F.eq(b, b0)).toBe(true);
        expect(F.eq(F.mulInto(a, b, F.zero()), product)).toBe(true);
        expect(F.eq(F.sqrInto(a, F.zero()), square)).toBe(true);
        expect(F.eq(F.addInto(a, b, F.zero()), sum)).toBe(true);
        const x = a.slice();
        expect(F.eq(F.mulInto(x, b, x), product)).toBe(true);
        const y = b.slice();
        expect(F.eq(F.mulInto(a, y, y), product)).toBe(true);
        const z = a.slice();
        expect(F.eq(F.mulInto(z, z, z), F.mul(a, a))).toBe(true);
        const s = a.slice();
        expect(F.eq(F.sqrInto(s, s), square)).toBe(true);
        const u = a.slice();
        expect(F.eq(F.addInto(u, b, u), sum)).toBe(true);
        expect(F.eq(F.sqrN(a, 3), F.sqr(F.sqr(F.sqr(a))))).toBe(true);
        expect(F.eq(F.sqrN(a, 0), a) && F.sqrN(a, 0) !== a).toBe(true);
        expect(F.eq(a, a0) && F.eq(b, b0)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('trace mask agrees with the definition; half-trace solves z^2 + z = c', () => {
    fc.assert(
      fc.property(elem, (c) => {
        expect(F.trace(c)).toBe(F.traceByDefinition(c));
        if (F.trace(c) === 0) {
          const z = F.halfTrace(c);
          expect(F.eq(F.add(F.sqr(z), z), c)).toBe(true);
        }
      }),
      { numRuns: 10 },
    );
  });

  it('rejects field elements of the wrong length or with bits >= m', () => {
    expect(() => F.fromBytes(new Uint8Array(F.byteLength - 1))).toThrow(CbkeError);
    expect(() => F.fromBytes(new Uint8Array(F.byteLength).fill(0xff))).toThrow(CbkeError);
    expect(() => F.inv(F.zero())).toThrow(CbkeError);
  });
});

describe.each(curves)('$name curve vs node:crypto', (curve) => {
  it('k*G equals node:crypto public keys for random scalars', () => {
    fc.assert(
      fc.property(scalarBytes(curve), (bytes) => {
        const k = scalarFrom(curve, bytes);
        const ecdh = createECDH(curve.name);
        ecdh.setPrivateKey(curve.scalarToBytes(k));
        const P = curve.multiplyBase(k)!;
        expect(bytesToHex(curve.encodeUncompressed(P))).toBe(ecdh.getPublicKey('hex').toUpperCase());
        expect(bytesToHex(curve.compress(P))).toBe(ecdh.getPublicKey('hex', 'compressed').toUpperCase());
      }),
      { numRuns: 6 },
    );
  });

  it('x(k*Q) equals node:crypto computeSecret for random scalars and points', () => {
    fc.assert(
      fc.property(scalarBytes(curve), (bytes) => {
        const k = scalarFrom(curve, bytes);
        const peer = createECDH(curve.name);
        peer.generateKeys();
        const Q = curve.decodePublicKey(peer.getPublicKey(null, 'compressed'));
        const ecdh = createECDH(curve.name);
        ecdh.setPrivateKey(curve.scalarToBytes(k));
        const secret = ecdh.computeSecret(peer.getPublicKey());
        const R = curve.multiply(Q, k)!;
        expect(bytesToHex(curve.F.toBytes(R.x))).toBe(secret.toString('hex').toUpperCase());
      }),
      { numRuns: 6 },
    );
  });

  it('decompression agrees with ECDH.convertKey', () => {
    for (let i = 0; i < 4; i++) {
      const e = createECDH(curve.name);
      e.generateKeys();
      const comp = e.getPublicKey(null, 'compressed');
      const unc = ECDH.convertKey(comp, curve.name, undefined, 'hex', 'uncompressed') as string;
      expect(bytesToHex(curve.encodeUncompressed(curve.decodePoint(comp)))).toBe(unc.toUpperCase());
    }
  });

  it('group laws: (a+b)G = aG + bG, nG = O, kP + (-kP) = O', () => {
    fc.assert(
      fc.property(scalarBytes(curve), scalarBytes(curve), (ab, bb) => {
        const a = scalarFrom(curve, ab);
        const b = scalarFrom(curve, bb);
        const lhs = curve.multiplyBase((a + b) % curve.n);
        const rhs = curve.add(curve.multiplyBase(a), curve.multiplyBase(b));
        expect(curve.equals(lhs, rhs)).toBe(true);
        expect(curve.add(rhs, curve.negate(rhs))).toBeNull();
      }),
      { numRuns: 4 },
    );
    expect(curve.multiplyBase(curve.n)).toBeNull();
    expect(curve.equals(curve.multiplyBase(curve.n - 1n), curve.negate(curve.G))).toBe(true);
    expect(curve.equals(curve.multiplyBase(2n), curve.double(curve.G))).toBe(true);
  });

  it('the τNAF product (multiply on the subgroup, multiplyBase) agrees with the ladder', () => {
    fc.assert(
      fc.property(scalarBytes(curve), scalarBytes(curve), (pb, kb) => {
        const P = curve.multiplyLadder(curve.G, scalarFrom(curve, pb)) as AffinePoint;
        const k = scalarFrom(curve, kb);
        const want = curve.multiplyLadder(P, k);
        expect(curve.equals(curve.multiplyTnaf(P, k), want)).toBe(true);
        expect(curve.equals(curve.multiply(P, k), want)).toBe(true);
        expect(curve.equals(curve.multiplyBase(k), curve.multiplyLadder(curve.G, k))).toBe(true);
      }),
      { numRuns: 12 },
    );
    // Small scalars (no reduction needed), the ends of [1, n), k >= n (nP = O), k far above n.
    const P = curve.multiplyLadder(curve.G, 0x1234567n) as AffinePoint;
    const big = (1n << BigInt(2 * curve.F.m + 7)) - 12345n;
    for (const k of [
      1n,
      2n,
      3n,
      7n,
      15n,
      16n,
      17n,
      curve.n - 2n,
      curve.n - 1n,
      curve.n,
      curve.n + 1n,
      3n * curve.n + 5n,
      big,
    ]) {
      expect(curve.equals(curve.multiplyTnaf(P, k), curve.multiplyLadder(P, k)), `k = ${k}`).toBe(true);
      expect(curve.equals(curve.multiplyBase(k), curve.multiplyLadder(curve.G, k)), `k = ${k}`).toBe(true);
    }
    expect(curve.multiplyBase(0n)).toBeNull();
    expect(curve.multiplyTnaf(P, 0n)).toBeNull();
    expect(() => curve.multiplyBase(-1n)).toThrow(CbkeError);
    expect(() => curve.multiplyTnaf(P, -1n)).toThrow(CbkeError);
  });

  it('a point outside the subgroup takes the ladder: multiply agrees with it where the τNAF would not', () => {
    let outside = 0;
    for (let i = 1; outside < 3 && i < 200; i++) {
      const seed = new Uint8Array(curve.F.byteLength).fill(i);
      const P = anyPoint(curve, seed);
      if (P === null || curve.inSubgroup(P)) continue;
      outside++;
      const k = curve.n - 3n;
      expect(curve.equals(curve.multiply(P, k), curve.multiplyLadder(P, k))).toBe(true);
      // The τNAF reduces k modulo δ, which is only right on the subgroup: here it differs.
      expect(curve.equals(curve.multiplyTnaf(P, k), curve.multiplyLadder(P, k))).toBe(false);
    }
    expect(outside).toBe(3);
  });

  it('the τ sum handles Q + Q and Q + (-Q) in its mixed addition', () => {
    const F = curve.F;
    const Q = curve.multiplyBase(12345n) as AffinePoint;
    const tauQ = { x: F.sqr(Q.x), y: F.sqr(Q.y) };
    const table = [Q, tauQ];
    const negated = table.map((p) => curve.negate(p) as AffinePoint);
    const affine = (digits: number[]) => toAffine(F, tauSum(curve, Int8Array.from(digits), table, negated));
    // Digits [3, 1]: τ(Q) + table[1] = τQ + τQ = 2τQ; [-3, 1]: τQ - τQ = O.
    expect(curve.equals(affine([3, 1]), curve.double(tauQ))).toBe(true);
    expect(affine([-3, 1])).toBeNull();
    // And on past O: [1, -3, 1] is τ(τQ - τQ) + Q = Q.
    expect(curve.equals(affine([1, -3, 1]), Q)).toBe(true);
    expect(() => tauSum(curve, Int8Array.of(5), table, negated)).toThrow(RangeError);
  });

  it('subgroup test by traces agrees with n*P = O on points of the whole group', () => {
    let inside = 0;
    let outside = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: curve.F.byteLength, maxLength: curve.F.byteLength }), (seed) => {
        const P = anyPoint(curve, seed);
        if (P === null) return;
        const fast = curve.inSubgroup(P);
        expect(fast).toBe(curve.inSubgroupByOrder(P));
        if (fast) inside++;
        else outside++;
        // h*P always lands in the subgroup
        expect(curve.inSubgroup(curve.multiply(P, curve.h))).toBe(true);
      }),
      { numRuns: 16 },
    );
    expect(inside + outside).toBeGreaterThan(0);
  });

  it('rejects malformed and invalid points', () => {
    const L = curve.compressedLength;
    expect(() => curve.decodePoint(new Uint8Array(L - 1))).toThrow(CbkeError);
    const bad = curve.compress(curve.G);
    bad[0] = 0x05;
    expect(() => curve.decodePoint(bad)).toThrow(CbkeError);
    // find an x that is not on the curve
    let found = false;
    for (let i = 1; i < 64 && !found; i++) {
      const enc = new Uint8Array(L);
      enc[0] = 0x02;
      enc[L - 1] = i;
      try {
        curve.decodePoint(enc);
      } catch (err) {
        expect((err as CbkeError).code).toBe('CBKE_POINT_INVALID');
        found = true;
      }
    }
    expect(found).toBe(true);
    // the point of order 2 decodes but is not a valid public key
    const t = new Uint8Array(L);
    t[0] = 0x02;
    const T = curve.decodePoint(t);
    expect(() => curve.assertValidPublicKey(T)).toThrow(CbkeError);
    expect(() => curve.decodePublicKey(t)).toThrow(/subgroup/);
    // uncompressed off-curve
    const unc = curve.encodeUncompressed(curve.G);
    unc[unc.length - 1]! ^= 1;
    expect(() => curve.decodePoint(unc)).toThrow(CbkeError);
  });
});
