/**
 * Width-w τ-adic NAF of a scalar on a Koblitz curve (Solinas 2000; Guide to ECC §3.4).
 *
 * On a Koblitz curve the Frobenius map τ(x, y) = (x², y²) costs three squarings in López-Dahab
 * coordinates and satisfies τ² = μτ − 2 (μ = (−1)^(1−a)), so a scalar written in base τ
 * needs no doublings: k·P = Σ u_i τ^i(P). This file does the integer side only, in
 * Z[τ] with BigInt: k is first reduced modulo δ = (τ^m − 1)/(τ − 1) (δ·P = O for every point
 * of the order-n subgroup, so the expansion is ~m digits instead of 2m), then recoded with
 * digits 0 and ±α_u (u odd, below 2^(w−1)), α_u ≡ u (mod τ^w), at most one non-zero digit in
 * any w consecutive ones (Guide Alg. 3.69). tau-sum.ts evaluates it on points.
 *
 * The constants (δ, t_w, α_u) are computed here from m, a and w rather than copied from the
 * Guide's tables; tnaf.test.ts checks them against their defining congruences.
 */

/** An element r0 + r1·τ of Z[τ]. */
export type Ztau = readonly [bigint, bigint];

/** Z[τ] with τ² = μτ − 2. */
export class TauRing {
  readonly mu: bigint;

  constructor(readonly a: 0 | 1) {
    this.mu = a === 1 ? 1n : -1n;
  }

  mul(x: Ztau, y: Ztau): Ztau {
    const [a0, a1] = x;
    const [b0, b1] = y;
    return [a0 * b0 - 2n * a1 * b1, a0 * b1 + a1 * b0 + this.mu * a1 * b1];
  }

  /** The conjugate: τ̄ = μ − τ, so x·x̄ = N(x). */
  conj(x: Ztau): Ztau {
    return [x[0] + this.mu * x[1], -x[1]];
  }

  norm(x: Ztau): bigint {
    return x[0] * x[0] + this.mu * x[0] * x[1] + 2n * x[1] * x[1];
  }

  sub(x: Ztau, y: Ztau): Ztau {
    return [x[0] - y[0], x[1] - y[1]];
  }

  /** τ^e. */
  pow(e: number): Ztau {
    let r: Ztau = [1n, 0n];
    for (let i = 0; i < e; i++) r = this.mul(r, [0n, 1n]);
    return r;
  }

  /** x / y when y divides x exactly (throws otherwise). */
  divExact(x: Ztau, y: Ztau): Ztau {
    const N = this.norm(y);
    const [c0, c1] = this.mul(x, this.conj(y));
    if (c0 % N !== 0n || c1 % N !== 0n) throw new Error('Z[τ]: not divisible');
    return [c0 / N, c1 / N];
  }

  /**
   * x mod y with a small remainder: x − q·y for q = x/y rounded component by component
   * (the remainder's norm is at most a small multiple of N(y); any q gives the same residue).
   */
  mod(x: Ztau, y: Ztau): Ztau {
    const N = this.norm(y);
    const [c0, c1] = this.mul(x, this.conj(y));
    const q: Ztau = [roundDiv(c0, N), roundDiv(c1, N)];
    return this.sub(x, this.mul(q, y));
  }
}

/** round(c / N) for N > 0 (halves rounded up). */
function roundDiv(c: bigint, N: bigint): bigint {
  const twice = 2n * c + N;
  const d = 2n * N;
  const q = twice / d;
  return twice < 0n && q * d !== twice ? q - 1n : q;
}

/** What the recoding needs for one curve and window width. */
export interface TnafParams {
  readonly ring: TauRing;
  readonly w: number;
  /** δ = (τ^m − 1)/(τ − 1). */
  readonly delta: Ztau;
  /** t_w: τ ≡ t_w (mod τ^w), an integer below 2^w. */
  readonly tw: number;
  /** alpha[(u − 1)/2] = α_u for u = 1, 3, …, 2^(w−1) − 1. */
  readonly alpha: readonly Ztau[];
}

export function tnafParams(m: number, a: 0 | 1, w: number): TnafParams {
  const ring = new TauRing(a);
  const tauM = ring.pow(m);
  const delta = ring.divExact([tauM[0] - 1n, tauM[1]], [-1n, 1n]);
  const tauW = ring.pow(w);
  const mod = 1n << BigInt(w);
  // τ − t is divisible by τ^w iff (τ − t)·conj(τ^w) ≡ 0 (mod N(τ^w) = 2^w) in both parts.
  let tw = -1;
  for (let t = 0; t < 1 << w; t++) {
    const [c0, c1] = ring.mul([BigInt(-t), 1n], ring.conj(tauW));
    if (c0 % mod === 0n && c1 % mod === 0n) {
      tw = t;
      break;
    }
  }
  if (tw < 0) throw new Error(`no t_${w} for a = ${a}`);
  const alpha: Ztau[] = [];
  for (let u = 1; u < 1 << (w - 1); u += 2) alpha.push(ring.mod([BigInt(u), 0n], tauW));
  return { ring, w, delta, tw, alpha };
}

/**
 * The width-w τNAF of k mod δ, least significant digit first: 0, or ±u for odd u below
 * 2^(w−1), standing for ±α_u (Guide Alg. 3.69). Valid for points of the order-n subgroup
 * only (the reduction modulo δ relies on δ·P = O).
 */
export function tnafDigits(p: TnafParams, k: bigint): Int8Array {
  return tnafOf(p, p.ring.mod([k, 0n], p.delta));
}

/** The width-w τNAF of ρ itself (no reduction: ~log2 N(ρ) digits, twice an integer's bit length), least significant first. */
export function tnafOf(p: TnafParams, rho: Ztau): Int8Array {
  let [r0, r1] = rho;
  const half = 1 << (p.w - 1);
  const full = 1 << p.w;
  const mask = BigInt(full - 1);
  const tw = BigInt(p.tw);
  const mu = p.ring.mu;
  const digits: number[] = [];
  // A τNAF has ~log2 N(ρ) digits; far more means broken constants, not a long scalar.
  const cap = 2 * Math.max(p.ring.norm(rho).toString(2).length, 1) + 64;
  while (r0 !== 0n || r1 !== 0n) {
    if (digits.length > cap) throw new Error('τNAF recoding does not terminate');
    let d = 0;
    if ((r0 & 1n) === 1n) {
      let u = Number((r0 + r1 * tw) & mask); // & on BigInt is two's complement: u in [0, 2^w)
      if (u >= half) u -= full;
      const [b, g] = p.alpha[(Math.abs(u) - 1) >> 1]!;
      if (u > 0) {
        r0 -= b;
        r1 -= g;
      } else {
        r0 += b;
        r1 += g;
      }
      d = u;
    }
    digits.push(d);
    const h = r0 >> 1n; // r0 is even here: exact
    r0 = r1 + mu * h;
    r1 = -h;
  }
  return Int8Array.from(digits);
}
