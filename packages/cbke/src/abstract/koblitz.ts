/**
 * Koblitz curves E: y^2 + xy = x^3 + a*x^2 + 1 over GF(2^m) (SEC 2 §3, a in {0,1}, b = 1).
 *
 * Scalar multiplication of a point of the order-n subgroup (every validated public key, G,
 * a certificate's reconstruction point) is a width-4 τ-adic NAF (Solinas 2000; tnaf.ts,
 * tau-sum.ts): the Frobenius map (x², y²) replaces doublings, ~m/5 mixed additions in all.
 * Any other point takes the Montgomery ladder in López-Dahab x-only coordinates with y
 * recovered at the end (López & Dahab 1999; Guide to ECC Alg. 3.40): 5 multiplications and
 * 5 squarings per scalar bit, works for any point and any scalar (b = 1: no multiplication
 * by b in the doubling).
 *
 * Subgroup membership uses traces instead of a multiplication by n (Guide §3.6 point
 * halving): with a = 1 and h = 2, P is in the order-n subgroup iff Tr(x) = 1; with a = 0 and
 * h = 4, iff Tr(x) = 0 and a half of P is itself halvable (Tr(y + x*H(x)) = 0).
 *
 * NOT CONSTANT-TIME: the τNAF's additions follow the scalar's digits, the ladder's loop
 * length depends on the scalar's bit length, the field code skips zeros, and the inversion
 * and compression branch on values. Emulator use only.
 */

import { bigIntToBytes, bitLength } from '../bytes.js';
import { CbkeError } from '../errors.js';
import type { Fe, GF2m } from './gf2m.js';
import { tauSum, toAffine, toAffineAll } from './tau-sum.js';
import { type TnafParams, tnafDigits, tnafOf, tnafParams } from './tnaf.js';

/** τNAF window width of a point's own product: 3 precomputed points (α_3, α_5, α_7) per multiplication. */
const TNAF_WIDTH = 4;
/** τNAF window width for G, whose table (32 points) is kept: ~m/8 additions instead of ~m/5. */
const BASE_TNAF_WIDTH = 7;

/** The τNAF constants for a point's product, G's, and the digits ±1 its tables are built with. */
interface TnafWidths {
  readonly point: TnafParams;
  readonly base: TnafParams;
  readonly table: TnafParams;
}

/** α_u·P for the τNAF's digits u = 1, 3, 5, … and their negatives (tau-sum.ts). */
interface TnafTable {
  readonly table: readonly Point[];
  readonly negated: readonly Point[];
}

export interface AffinePoint {
  readonly x: Fe;
  readonly y: Fe;
}

/** A curve point; `null` is the point at infinity. */
export type Point = AffinePoint | null;

export interface KoblitzParams {
  readonly name: string;
  readonly field: GF2m;
  /** Curve coefficient a (0 or 1); b is 1. */
  readonly a: 0 | 1;
  /** Order of the base point. */
  readonly n: bigint;
  /** Cofactor (#E = h*n). */
  readonly h: bigint;
  readonly gx: bigint;
  readonly gy: bigint;
}

export class KoblitzCurve {
  readonly name: string;
  readonly F: GF2m;
  readonly a: 0 | 1;
  readonly n: bigint;
  readonly h: bigint;
  readonly G: AffinePoint;
  /** Bytes of a scalar mod n (big-endian). */
  readonly scalarLength: number;
  /** Compressed point length (1 + field bytes). */
  readonly compressedLength: number;
  private readonly aFe: Fe;
  private baseTable: TnafTable | null = null;
  private tnaf: TnafWidths | null = null;

  constructor(readonly params: KoblitzParams) {
    const p = params;
    this.name = p.name;
    this.F = p.field;
    this.a = p.a;
    this.n = p.n;
    this.h = p.h;
    this.aFe = p.a === 1 ? this.F.one() : this.F.zero();
    this.G = { x: this.F.fromBigInt(p.gx), y: this.F.fromBigInt(p.gy) };
    this.scalarLength = Math.ceil(bitLength(p.n) / 8);
    this.compressedLength = 1 + this.F.byteLength;
    if (!this.isOnCurve(this.G)) throw new Error(`${p.name}: base point not on curve`);
  }

  /** y^2 + xy = x^3 + a x^2 + 1. */
  isOnCurve(P: AffinePoint): boolean {
    const F = this.F;
    const x2 = F.sqr(P.x);
    const lhs = F.add(F.sqr(P.y), F.mul(P.x, P.y));
    let rhs = F.mul(x2, P.x);
    if (this.a === 1) rhs = F.add(rhs, x2);
    rhs = F.add(rhs, F.one());
    return F.eq(lhs, rhs);
  }

  /** In the subgroup of order n (see the module comment). Assumes P is on the curve. */
  inSubgroup(P: Point): boolean {
    if (P === null) return true;
    const F = this.F;
    if (F.isZero(P.x)) return false; // (0, 1) has order 2
    if (this.a === 1) {
      if (this.h !== 2n) throw new Error('unsupported cofactor');
      return F.trace(P.x) === 1;
    }
    if (this.h !== 4n) throw new Error('unsupported cofactor');
    if (F.trace(P.x) !== 0) return false;
    const lambda = F.halfTrace(P.x); // lambda^2 + lambda = x + a, a = 0
    return F.trace(F.add(P.y, F.mul(P.x, lambda))) === 0;
  }

  /** The slow definition, n*P = O, for tests. */
  inSubgroupByOrder(P: Point): boolean {
    return this.multiply(P, this.n) === null;
  }

  /** SEC 1 §3.2.2.1 public key validation: not O, on the curve, n*Q = O. */
  assertValidPublicKey(P: Point): asserts P is AffinePoint {
    if (P === null) throw new CbkeError('CBKE_POINT_INFINITY', 'point at infinity');
    if (!this.isOnCurve(P)) throw new CbkeError('CBKE_POINT_INVALID', 'point not on curve');
    if (!this.inSubgroup(P)) throw new CbkeError('CBKE_POINT_INVALID', 'point not in the order-n subgroup');
  }

  equals(P: Point, Q: Point): boolean {
    if (P === null || Q === null) return P === Q;
    return this.F.eq(P.x, Q.x) && this.F.eq(P.y, Q.y);
  }

  negate(P: Point): Point {
    if (P === null) return null;
    return { x: P.x, y: this.F.add(P.x, P.y) };
  }

  /** Affine addition (Guide §3.1.2). */
  add(P: Point, Q: Point): Point {
    if (P === null) return Q;
    if (Q === null) return P;
    const F = this.F;
    if (F.eq(P.x, Q.x)) {
      if (F.eq(P.y, Q.y)) return this.double(P);
      return null; // Q = -P
    }
    const lambda = F.div(F.add(P.y, Q.y), F.add(P.x, Q.x));
    let x3 = F.add(F.add(F.add(F.sqr(lambda), lambda), P.x), Q.x);
    if (this.a === 1) x3 = F.add(x3, this.aFe);
    const y3 = F.add(F.add(F.mul(lambda, F.add(P.x, x3)), x3), P.y);
    return { x: x3, y: y3 };
  }

  double(P: Point): Point {
    if (P === null) return null;
    const F = this.F;
    if (F.isZero(P.x)) return null;
    const lambda = F.add(P.x, F.div(P.y, P.x));
    let x3 = F.add(F.sqr(lambda), lambda);
    if (this.a === 1) x3 = F.add(x3, this.aFe);
    const y3 = F.add(F.add(F.sqr(P.x), F.mul(lambda, x3)), x3);
    return { x: x3, y: y3 };
  }

  /**
   * k*P for any k >= 0 and any point P on the curve: by the width-4 τNAF (tnaf.ts) when P is
   * in the order-n subgroup (every validated public key, G, a certificate's reconstruction
   * point), otherwise by the ladder, which needs nothing of P.
   */
  multiply(P: Point, k: bigint): Point {
    if (k < 0n) throw new CbkeError('CBKE_SCALAR_INVALID', 'negative scalar');
    if (P === null || k === 0n) return null;
    if (this.inSubgroup(P)) return this.multiplyTnaf(P, k);
    return this.multiplyLadder(P, k);
  }

  /**
   * k*P for P in the order-n subgroup (for any other point the result is wrong: the caller
   * checks, as `multiply` does): k mod δ in width-4 τNAF (tnaf.ts), summed by tau-sum.ts, a
   * Frobenius map per digit and a mixed addition per non-zero one (~m/5), against the
   * ladder's doubling and addition per bit: half the ladder's time on sect283k1
   * (bench/cbke.ts). k >= n is fine (nP = O).
   */
  multiplyTnaf(P: AffinePoint, k: bigint): Point {
    if (k < 0n) throw new CbkeError('CBKE_SCALAR_INVALID', 'negative scalar');
    const params = this.tnafParams();
    return this.tnafProduct(tnafDigits(params.point, k), this.tnafTable(P, params.point, params.table));
  }

  private tnafParams(): TnafWidths {
    this.tnaf ??= {
      point: tnafParams(this.F.m, this.a, TNAF_WIDTH),
      base: tnafParams(this.F.m, this.a, BASE_TNAF_WIDTH),
      table: tnafParams(this.F.m, this.a, 2),
    };
    return this.tnaf;
  }

  /** P_u = α_u·P for the odd u below 2^(w−1) of `width` (each by its own short τNAF) and their negatives, affine. */
  private tnafTable(P: AffinePoint, width: TnafParams, table2: TnafParams): TnafTable {
    const single = [P];
    const singleNeg = [this.negate(P)];
    const table = toAffineAll(
      this.F,
      width.alpha.map((alpha) => tauSum(this, tnafOf(table2, alpha), single, singleNeg)),
    );
    return { table, negated: table.map((Q) => this.negate(Q)) };
  }

  private tnafProduct(digits: Int8Array, t: TnafTable): Point {
    return toAffine(this.F, tauSum(this, digits, t.table, t.negated));
  }

  /**
   * k*P for any k >= 0 and any point P on the curve: Montgomery ladder in López-Dahab
   * x-only coordinates, y recovered by Guide Alg. 3.40 step 3 (Mxy). Not constant-time.
   */
  multiplyLadder(P: Point, k: bigint): Point {
    if (k < 0n) throw new CbkeError('CBKE_SCALAR_INVALID', 'negative scalar');
    if (P === null || k === 0n) return null;
    const F = this.F;
    const x = P.x;
    if (F.isZero(x)) return (k & 1n) === 1n ? P : null; // (0, 1), order 2
    // P1 = (X1:Z1) = P, P2 = (X2:Z2) = 2P; invariant P2 - P1 = P.
    let X1 = x;
    let Z1 = F.one();
    let Z2 = F.sqr(x);
    let X2 = F.add(F.sqr(Z2), F.one()); // x^4 + b
    const bits = k.toString(2);
    for (let i = 1; i < bits.length; i++) {
      if (bits.charCodeAt(i) === 49) {
        // P1 <- P1 + P2, P2 <- 2 P2
        const t1 = F.mul(X1, Z2);
        const t2 = F.mul(X2, Z1);
        Z1 = F.sqr(F.add(t1, t2));
        X1 = F.add(F.mul(x, Z1), F.mul(t1, t2));
        const xs = F.sqr(X2);
        const zs = F.sqr(Z2);
        Z2 = F.mul(xs, zs);
        X2 = F.sqr(F.add(xs, zs)); // X^4 + b Z^4 with b = 1
      } else {
        // P2 <- P1 + P2, P1 <- 2 P1
        const t1 = F.mul(X1, Z2);
        const t2 = F.mul(X2, Z1);
        Z2 = F.sqr(F.add(t1, t2));
        X2 = F.add(F.mul(x, Z2), F.mul(t1, t2));
        const xs = F.sqr(X1);
        const zs = F.sqr(Z1);
        Z1 = F.mul(xs, zs);
        X1 = F.sqr(F.add(xs, zs));
      }
    }
    // Mxy: recover (x3, y3) of P1 = kP from P, P1 and P2 = (k+1)P.
    if (F.isZero(Z1)) return null;
    if (F.isZero(Z2)) return this.negate(P); // (k+1)P = O so kP = -P
    const y = P.y;
    const z1z2 = F.mul(Z1, Z2);
    const inv = F.inv(F.mul(x, z1z2)); // 1 / (x Z1 Z2)
    const x3 = F.mul(F.mul(X1, F.mul(x, Z2)), inv); // X1 / Z1
    const t = F.add(F.mul(F.add(X1, F.mul(x, Z1)), F.add(X2, F.mul(x, Z2))), F.mul(F.add(F.sqr(x), y), z1z2));
    const y3 = F.add(F.mul(F.mul(F.add(x, x3), t), inv), y);
    return { x: x3, y: y3 };
  }

  /** k*G (G has order n): the width-7 τNAF product with G's table of α_u·G kept. */
  multiplyBase(k: bigint): Point {
    if (k < 0n) throw new CbkeError('CBKE_SCALAR_INVALID', 'negative scalar');
    const params = this.tnafParams();
    this.baseTable ??= this.tnafTable(this.G, params.base, params.table);
    return this.tnafProduct(tnafDigits(params.base, k), this.baseTable);
  }

  /** SEC 1 §2.3.3 compressed form: 02|03 (y~ = lsb of y/x) || x. */
  compress(P: AffinePoint): Uint8Array {
    const F = this.F;
    const out = new Uint8Array(this.compressedLength);
    const ybit = F.isZero(P.x) ? 0 : F.bit(F.div(P.y, P.x), 0);
    out[0] = 0x02 | ybit;
    out.set(F.toBytes(P.x), 1);
    return out;
  }

  /** SEC 1 §2.3.3 uncompressed form 04 || x || y (for node:crypto interop). */
  encodeUncompressed(P: AffinePoint): Uint8Array {
    const out = new Uint8Array(1 + 2 * this.F.byteLength);
    out[0] = 0x04;
    out.set(this.F.toBytes(P.x), 1);
    out.set(this.F.toBytes(P.y), 1 + this.F.byteLength);
    return out;
  }

  /**
   * SEC 1 §2.3.4: decode a compressed (02/03) or uncompressed (04) point; the point is on
   * the curve by construction. Throws CbkeError CBKE_POINT_INVALID. Subgroup membership is
   * checked separately (`assertValidPublicKey`).
   */
  decodePoint(bytes: Uint8Array): AffinePoint {
    const F = this.F;
    const L = F.byteLength;
    const prefix = bytes[0];
    try {
      if (bytes.length === 1 + 2 * L && prefix === 0x04) {
        const P = { x: F.fromBytes(bytes.subarray(1, 1 + L)), y: F.fromBytes(bytes.subarray(1 + L)) };
        if (!this.isOnCurve(P)) throw new CbkeError('CBKE_POINT_INVALID', 'point not on curve');
        return P;
      }
      if (bytes.length !== 1 + L || (prefix !== 0x02 && prefix !== 0x03)) {
        throw new CbkeError('CBKE_POINT_INVALID', `bad point encoding (length ${bytes.length})`);
      }
      const x = F.fromBytes(bytes.subarray(1));
      if (F.isZero(x)) return { x, y: F.one() }; // y = sqrt(b) = 1
      // y = x z with z^2 + z = x + a + b/x^2
      let beta = F.add(x, F.inv(F.sqr(x)));
      if (this.a === 1) beta = F.add(beta, this.aFe);
      let z = F.halfTrace(beta);
      if (!F.eq(F.add(F.sqr(z), z), beta)) throw new CbkeError('CBKE_POINT_INVALID', 'x not on curve');
      if (F.bit(z, 0) !== (prefix & 1)) z = F.add(z, F.one());
      return { x, y: F.mul(x, z) };
    } catch (err) {
      if (err instanceof CbkeError) {
        throw err.code === 'CBKE_POINT_INVALID' ? err : new CbkeError('CBKE_POINT_INVALID', err.message);
      }
      throw err;
    }
  }

  /** Decode and fully validate a public key (SEC 1 §3.2.2). */
  decodePublicKey(bytes: Uint8Array): AffinePoint {
    const P = this.decodePoint(bytes);
    this.assertValidPublicKey(P);
    return P;
  }

  /** Scalar in [1, n-1] from big-endian bytes. */
  scalarToBytes(k: bigint): Uint8Array {
    return bigIntToBytes(k, this.scalarLength);
  }

  /** Random scalar in [1, n-1] by rejection sampling from `random(len)` bytes. */
  randomScalar(random: (length: number) => Uint8Array): bigint {
    const bits = bitLength(this.n);
    const mask = (1n << BigInt(bits)) - 1n;
    for (let i = 0; i < 1000; i++) {
      const bytes = random(this.scalarLength);
      let k = 0n;
      for (const b of bytes) k = (k << 8n) | BigInt(b);
      k &= mask;
      if (k > 0n && k < this.n) return k;
    }
    throw new CbkeError('CBKE_SCALAR_INVALID', 'random source produced no valid scalar');
  }
}
