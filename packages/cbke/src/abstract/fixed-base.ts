/**
 * k*G for a fixed base point G by a table of its multiples: k = sum d_i 2^(w i) with w-bit
 * digits d_i, and row i of the table holds d * 2^(w i) * G for d = 1 .. 2^w - 1 (affine), so
 * k*G is the sum of one entry per non-zero digit - no doublings (Guide to ECC §3.3.1, the
 * fixed-base windowing idea, here with every multiple stored).
 *
 * The entries are summed pairwise in a tree, and each level's additions share one field
 * inversion (Montgomery's simultaneous inversion, Guide Alg. 2.26 idea: 3 multiplications per
 * element instead of an inversion each). With w = 5 on sect283k1 that is ~57 affine additions
 * and 6 inversions instead of the ladder's 283 x (5M + 5S): CBKE's ephemeral keys, ECQV
 * requests and certificates are base-point multiplications, which commissioning a street of
 * homes does thousands of times. The table (57 x 31 points) is built once per curve, on first
 * use, the same way.
 *
 * NOT CONSTANT-TIME (like the rest of this folder): emulator use only.
 */
import type { Fe, GF2m } from './gf2m.js';

export interface Affine {
  x: Fe;
  y: Fe;
}

/** What the table and the sum need from the curve: its field, `a`, and a general addition. */
export interface CurveOps {
  readonly F: GF2m;
  readonly a: 0 | 1;
  /** Affine addition handling every case (P = Q, P = -Q, infinity as null). */
  add(P: Affine | null, Q: Affine | null): Affine | null;
  double(P: Affine | null): Affine | null;
}

/** Inverses of every element of `zs` (none zero) for one field inversion. */
function invertAll(F: GF2m, zs: Fe[]): Fe[] {
  const n = zs.length;
  const prefix: Fe[] = new Array(n);
  prefix[0] = zs[0]!;
  for (let i = 1; i < n; i++) prefix[i] = F.mul(prefix[i - 1]!, zs[i]!);
  let inv = F.inv(prefix[n - 1]!);
  const out: Fe[] = new Array(n);
  for (let i = n - 1; i > 0; i--) {
    out[i] = F.mul(inv, prefix[i - 1]!);
    inv = F.mul(inv, zs[i]!);
  }
  out[0] = inv;
  return out;
}

/**
 * P_j + Q_j for every pair, one inversion for all the pairs whose x differ (Guide §3.1.2:
 * lambda = (y1 + y2) / (x1 + x2), x3 = lambda^2 + lambda + x1 + x2 + a, y3 = lambda (x1 + x3)
 * + x3 + y1); pairs with equal x (P = +-Q) go through the curve's own addition.
 */
function addPairs(c: CurveOps, pairs: [Affine, Affine][]): (Affine | null)[] {
  const F = c.F;
  const out: (Affine | null)[] = new Array(pairs.length);
  const batch: number[] = [];
  const dens: Fe[] = [];
  for (let j = 0; j < pairs.length; j++) {
    const [P, Q] = pairs[j]!;
    if (F.eq(P.x, Q.x)) out[j] = c.add(P, Q);
    else {
      batch.push(j);
      dens.push(F.add(P.x, Q.x));
    }
  }
  if (batch.length === 0) return out;
  const invs = invertAll(F, dens);
  const a = c.a === 1 ? F.one() : null;
  for (let b = 0; b < batch.length; b++) {
    const j = batch[b]!;
    const [P, Q] = pairs[j]!;
    const lambda = F.mul(F.add(P.y, Q.y), invs[b]!);
    let x3 = F.add(F.add(F.add(F.sqr(lambda), lambda), P.x), Q.x);
    if (a !== null) x3 = F.add(x3, a);
    const y3 = F.add(F.add(F.mul(lambda, F.add(P.x, x3)), x3), P.y);
    out[j] = { x: x3, y: y3 };
  }
  return out;
}

/** The sum of `points` (null if empty or if they cancel), pairwise in a tree. */
export function sumPoints(c: CurveOps, points: Affine[]): Affine | null {
  let level = points;
  while (level.length > 1) {
    const pairs: [Affine, Affine][] = [];
    for (let i = 0; i + 1 < level.length; i += 2) pairs.push([level[i]!, level[i + 1]!]);
    const next = addPairs(c, pairs).filter((p): p is Affine => p !== null);
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0] ?? null;
}

export class FixedBaseTable {
  /** rows[i][d - 1] = d * 2^(w i) * G. */
  private readonly rows: Affine[][];
  private readonly mask: bigint;

  constructor(
    private readonly c: CurveOps,
    G: Affine,
    /** Bits of the scalars it serves (the order's bit length). */
    bits: number,
    private readonly w = 5,
  ) {
    this.mask = (1n << BigInt(w)) - 1n;
    const count = Math.ceil(bits / w);
    const size = (1 << w) - 1;
    // Row bases B_i = 2^(w i) G, by w doublings each.
    const bases: Affine[] = [G];
    for (let i = 1; i < count; i++) {
      let B: Affine | null = bases[i - 1]!;
      for (let k = 0; k < w; k++) B = c.double(B);
      if (B === null) throw new Error('fixed-base table: the base point has a small order');
      bases.push(B);
    }
    this.rows = bases.map((B) => [B]);
    // d = 2 doubles; d >= 3 adds B_i to (d-1) B_i, all rows at once (x differ: n is prime and large).
    const doubled = bases.map((B) => c.double(B));
    for (let i = 0; i < count; i++) this.rows[i]!.push(doubled[i]!);
    for (let d = 3; d <= size; d++) {
      const next = addPairs(
        c,
        bases.map((B, i) => [this.rows[i]![d - 2]!, B]),
      );
      for (let i = 0; i < count; i++) this.rows[i]!.push(next[i]!);
    }
  }

  /** k*G for 0 <= k < 2^(w * rows); null for k*G = O. */
  multiply(k: bigint): Affine | null {
    const points: Affine[] = [];
    for (let i = 0; k > 0n; i++, k >>= BigInt(this.w)) {
      const d = Number(k & this.mask);
      if (d === 0) continue;
      const row = this.rows[i];
      if (row === undefined) throw new RangeError('scalar too large for the fixed-base table');
      points.push(row[d - 1]!);
    }
    return sumPoints(this.c, points);
  }
}
