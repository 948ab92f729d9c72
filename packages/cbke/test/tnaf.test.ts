import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type TauRing, tnafDigits, tnafOf, tnafParams, type Ztau } from '../src/abstract/tnaf.js';
import { sect163k1 } from '../src/sect163k1.js';
import { sect283k1 } from '../src/sect283k1.js';

/** Σ d_i·α_|d_i|·τ^i back in Z[τ] (a digit ±u stands for ±α_u). */
function tauValue(ring: TauRing, digits: Int8Array, alpha: readonly Ztau[]): Ztau {
  let r: Ztau = [0n, 0n];
  for (let i = digits.length - 1; i >= 0; i--) {
    r = ring.mul(r, [0n, 1n]);
    const d = digits[i]!;
    if (d === 0) continue;
    const [b, g] = alpha[(Math.abs(d) - 1) >> 1]!;
    r = d > 0 ? [r[0] + b, r[1] + g] : [r[0] - b, r[1] - g];
  }
  return r;
}

function divides(ring: TauRing, x: Ztau, y: Ztau): boolean {
  const N = ring.norm(y);
  const [c0, c1] = ring.mul(x, ring.conj(y));
  return c0 % N === 0n && c1 % N === 0n;
}

describe.each([sect163k1, sect283k1])('$name τNAF', (curve) => {
  const m = curve.F.m;

  it('the constants meet their definitions: N(δ) = n, δ(τ − 1) = τ^m − 1, τ ≡ t_w and α_u ≡ u (mod τ^w)', () => {
    for (const w of [2, 3, 4, 5, 6, 7]) {
      const p = tnafParams(m, curve.a, w);
      const { ring } = p;
      expect(ring.norm(p.delta)).toBe(curve.n);
      const tauM = ring.pow(m);
      expect(ring.mul(p.delta, [-1n, 1n])).toEqual([tauM[0] - 1n, tauM[1]]);
      const tauW = ring.pow(w);
      expect(ring.norm(tauW)).toBe(1n << BigInt(w));
      expect(divides(ring, [BigInt(-p.tw), 1n], tauW)).toBe(true);
      expect(p.alpha.length).toBe(1 << (w - 2));
      for (const [i, alpha] of p.alpha.entries()) {
        const u = BigInt(2 * i + 1);
        expect(divides(ring, [alpha[0] - u, alpha[1]], tauW), `α_${u}`).toBe(true);
        // Small: its norm below that of τ^w, so the recoding shrinks ρ.
        expect(ring.norm(alpha) < ring.norm(tauW)).toBe(true);
      }
    }
  });

  it('digits: odd and below 2^(w−1), at most one non-zero in any w in a row, summing back to k mod δ', () => {
    for (const w of [2, 4, 5, 7]) {
      const p = tnafParams(m, curve.a, w);
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: (1n << BigInt(m + 40)) - 1n }), (k) => {
          const digits = tnafDigits(p, k);
          let last = -w;
          for (const [i, d] of digits.entries()) {
            if (d === 0) continue;
            expect(Math.abs(d) % 2).toBe(1);
            expect(Math.abs(d)).toBeLessThan(1 << (w - 1));
            expect(i - last).toBeGreaterThanOrEqual(w);
            last = i;
          }
          // ~m digits after the reduction modulo δ, whatever the size of k.
          expect(digits.length).toBeLessThanOrEqual(m + w + 4);
          const v = tauValue(p.ring, digits, p.alpha);
          expect(divides(p.ring, [k - v[0], -v[1]], p.delta)).toBe(true);
        }),
        { numRuns: 40 },
      );
      expect(tnafDigits(p, 0n).length).toBe(0);
      expect(tnafDigits(p, curve.n).length).toBe(0);
    }
  });

  it('tnafOf expands an element of Z[τ] exactly (no reduction)', () => {
    const p = tnafParams(m, curve.a, 4);
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(1n << 90n), max: 1n << 90n }),
        fc.bigInt({ min: -(1n << 90n), max: 1n << 90n }),
        (r0, r1) => {
          expect(tauValue(p.ring, tnafOf(p, [r0, r1]), p.alpha)).toEqual([r0, r1]);
        },
      ),
      { numRuns: 40 },
    );
  });
});
