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
  for (let i = digits.length - 1; i >= 0; i--) {
    if (!infinity) {
      X = F.sqr(X);
      Y = F.sqr(Y);
      Z = F.sqr(Z);
    }
    const d = digits[i]!;
    if (d === 0) continue;
    const Q = d > 0 ? table[(d - 1) >> 1] : negated[(-d - 1) >> 1];
    if (Q === undefined) throw new RangeError(`τ sum: no table point for digit ${d}`);
    if (Q === null) continue;
    if (infinity) {
      X = Q.x;
      Y = Q.y;
      Z = F.one();
      infinity = false;
      continue;
    }
    // Mixed addition (X : Y : Z) + (x2, y2), the affine formulas of Guide §3.1.2 with
    // x1 = X/Z, y1 = Y/Z²: λ = A/C for A = Y + y2·Z², B = X + x2·Z, C = Z·B; then
    // Z3 = C², X3 = A² + C·(A + B² + a·C), Y3 = A·C·(x2·Z3 + X3) + Z3·(X3 + y2·Z3).
    const A = F.add(Y, F.mul(Q.y, F.sqr(Z)));
    const B = F.add(X, F.mul(Q.x, Z));
    if (F.isZero(B)) {
      // Same x as Q: the sum is 2Q (same point) or O (its negative).
      const D = F.isZero(A) ? c.double(Q) : null;
      if (D === null) infinity = true;
      else {
        X = D.x;
        Y = D.y;
        Z = F.one();
      }
      continue;
    }
    const C = F.mul(Z, B);
    const Z3 = F.sqr(C);
    let t = F.add(A, F.sqr(B));
    if (c.a === 1) t = F.add(t, C);
    const X3 = F.add(F.sqr(A), F.mul(C, t));
    const Y3 = F.add(F.mul(F.mul(A, C), F.add(F.mul(Q.x, Z3), X3)), F.mul(Z3, F.add(X3, F.mul(Q.y, Z3))));
    X = X3;
    Y = Y3;
    Z = Z3;
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
