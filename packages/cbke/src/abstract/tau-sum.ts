/**
 * Σ u_i·τ^i over a τNAF's digits (tnaf.ts) on a Koblitz curve, in López-Dahab projective
 * coordinates (x = X/Z, y = Y/Z²): from the top digit, a Frobenius map τ(X : Y : Z) =
 * (X² : Y² : Z²) per digit, three squarings, and a mixed addition of an affine table point
 * per non-zero digit. No inversion: the caller makes the result affine.
 *
 * NOT CONSTANT-TIME (like the rest of this folder): emulator use only.
 */
import type { Fe, GF2m } from './gf2m.js';

export interface Affine {
  readonly x: Fe;
  readonly y: Fe;
}

/** A point in López-Dahab projective coordinates; Z is never zero (O is null). */
export interface LdPoint {
  readonly X: Fe;
  readonly Y: Fe;
  readonly Z: Fe;
}

/** What the sum needs from the curve. */
export interface CurveOps {
  readonly F: GF2m;
  readonly a: 0 | 1;
  /** Affine doubling (null for O). */
  double(P: Affine | null): Affine | null;
}

/**
 * Σ d_i·τ^i(…) over `digits` (least significant first), a digit ±u standing for
 * ±table[(u − 1)/2] (`negated` holds the negatives); null entries are O.
 */
export function tauSum(
  c: CurveOps,
  digits: Int8Array,
  table: readonly (Affine | null)[],
  negated: readonly (Affine | null)[],
): LdPoint | null {
  const F = c.F;
  let X: Fe = F.zero();
  let Y: Fe = F.zero();
  let Z: Fe = F.zero();
  let infinity = true;
  const s1 = F.zero();
  const s2 = F.zero();
  const s3 = F.zero();
  const s4 = F.zero();
  for (let i = digits.length - 1; i >= 0; i--) {
    if (!infinity) {
      // X, Y, Z are this sum's own (copied from the table, or fresh from an addition): the
      // Frobenius map squares them in place, three allocations fewer per digit.
      F.sqrInto(X, X);
      F.sqrInto(Y, Y);
      F.sqrInto(Z, Z);
    }
    const d = digits[i]!;
    if (d === 0) continue;
    const Q = d > 0 ? table[(d - 1) >> 1] : negated[(-d - 1) >> 1];
    if (Q === undefined) throw new RangeError(`τ sum: no table point for digit ${d}`);
    if (Q === null) continue;
    if (infinity) {
      X = Q.x.slice();
      Y = Q.y.slice();
      Z = F.one();
      infinity = false;
      continue;
    }
    // Mixed addition (X : Y : Z) + (x2, y2), the affine formulas of Guide §3.1.2 with
    // x1 = X/Z, y1 = Y/Z²: λ = A/C for A = Y + y2·Z², B = X + x2·Z, C = Z·B; then
    // Z3 = C², X3 = A² + C·(A + B² + a·C), Y3 = A·C·(x2·Z3 + X3) + Z3·(X3 + y2·Z3).
    // Computed in four scratch elements and X, Y, Z themselves (each overwritten once no
    // later term reads it): no allocation per digit.
    const A = F.addInto(Y, F.mulInto(Q.y, F.sqrInto(Z, s1), s1), s1);
    const B = F.addInto(X, F.mulInto(Q.x, Z, s2), s2);
    if (F.isZero(B)) {
      // Same x as Q: the sum is 2Q (same point) or O (its negative).
      const D = F.isZero(A) ? c.double(Q) : null;
      if (D === null) infinity = true;
      else {
        X = D.x.slice();
        Y = D.y.slice();
        Z = F.one();
      }
      continue;
    }
    const C = F.mulInto(Z, B, s3);
    const Z3 = F.sqrInto(C, Z);
    const t = F.addInto(A, F.sqrInto(B, s4), s4);
    if (c.a === 1) F.addInto(t, C, t);
    const X3 = F.addInto(F.sqrInto(A, s2), F.mulInto(C, t, s4), X);
    const AC = F.mulInto(A, C, s2);
    const left = F.mulInto(AC, F.addInto(F.mulInto(Q.x, Z3, s4), X3, s4), s2);
    const right = F.mulInto(Z3, F.addInto(X3, F.mulInto(Q.y, Z3, s4), s4), s4);
    F.addInto(left, right, Y);
  }
  return infinity ? null : { X, Y, Z };
}

/** The point made affine (one field inversion). */
export function toAffine(F: GF2m, P: LdPoint | null): Affine | null {
  if (P === null) return null;
  const zi = F.inv(P.Z);
  return { x: F.mul(P.X, zi), y: F.mul(P.Y, F.sqr(zi)) };
}

/** Every point made affine for one field inversion (simultaneous inversion). */
export function toAffineAll(F: GF2m, points: readonly (LdPoint | null)[]): (Affine | null)[] {
  const live = points.filter((p): p is LdPoint => p !== null);
  const invs = F.invAll(live.map((p) => p.Z));
  let j = 0;
  return points.map((p) => {
    if (p === null) return null;
    const zi = invs[j++]!;
    return { x: F.mul(p.X, zi), y: F.mul(p.Y, F.sqr(zi)) };
  });
}
