/**
 * Arithmetic in GF(2^m) with a polynomial basis, parameterised by m and a sparse reduction
 * polynomial (trinomial or pentanomial, SEC 2 §3). No JavaScript library does binary fields,
 * and BigInt shift-and-xor is two orders of magnitude too slow for CBKE, so elements are
 * little-endian arrays of 32-bit words (bit i of the polynomial = bit i%32 of word i/32):
 *
 * - multiplication: left-to-right comb with a 4-bit window and a 16-entry table of b(z)*u(z)
 *   (Hankerson-Menezes-Vanstone, Guide to ECC, Alg. 2.36), then word-wise fast reduction;
 * - squaring: bit spreading by a 256-entry table (Guide Alg. 2.39), then reduction;
 * - inversion: Itoh-Tsujii (a^(2^m-2) by an addition chain on m-1);
 * - half-trace for solving z^2 + z = c (m odd), used by point decompression (SEC 1 §2.3.4).
 *
 * NOT CONSTANT-TIME: the comb skips zero windows, reduction skips zero words and callers
 * branch on values. This is an emulator; do not use it to protect real keys.
 *
 * The methods reuse per-field scratch buffers, so a field object must not be used re-entrantly
 * (JavaScript is single-threaded, so this only matters inside the methods themselves).
 */
import { CbkeError } from '../errors.js';

/** A field element: `words` 32-bit little-endian words, bits >= m always zero. */
export type Fe = Int32Array;

/** 8 bits -> 16 bits with a zero between each (the square of a byte as a polynomial). */
const SPREAD = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let v = 0;
  for (let b = 0; b < 8; b++) if (i & (1 << b)) v |= 1 << (2 * b);
  SPREAD[i] = v;
}

/**
 * Straight-line JavaScript for one field: the 2W-word accumulator of the comb lives in local
 * variables (registers) rather than a typed array, every loop over words is unrolled and the
 * reduction's shifts are constants. This is 3-4x faster than the same algorithm with loops,
 * which is what makes a sect283k1 scalar multiplication take a few ms instead of tens.
 * The generated text depends only on (m, terms), never on data.
 */
function generateArithmetic(
  m: number,
  W: number,
  terms: readonly number[],
): {
  mul: (a: Fe, b: Fe, table: Int32Array, r: Fe) => Fe;
  sqr: (a: Fe, spread: Uint16Array, r: Fe) => Fe;
} {
  const W1 = W + 1;
  const topWord = m >>> 5;
  const topBits = m & 31;
  const acc = Array.from({ length: 2 * W }, (_, i) => `c${i}`);
  const fold = (src: string, exp: number, out: string[]) => {
    // xor `src` (a word of coefficients of z^exp .. z^(exp+31)) into the accumulator
    const w = exp >>> 5;
    const off = exp & 31;
    out.push(`c${w} ^= ${src} << ${off};`);
    if (off !== 0) out.push(`c${w + 1} ^= ${src} >>> ${32 - off};`);
  };
  // Fast reduction (Guide §2.3.5): z^m = sum z^k, high words first, then the top partial word.
  const reduce: string[] = ['let t = 0;'];
  for (let i = 2 * W - 1; i > topWord; i--) {
    reduce.push(`t = c${i};`);
    for (const k of terms) fold('t', 32 * i - m + k, reduce);
  }
  reduce.push(`t = c${topWord} >>> ${topBits};`, `c${topWord} &= ${(1 << topBits) - 1};`);
  for (const k of terms) fold('t', k, reduce);
  // Every word of the inputs is read before `r` is written, so `r` may be one of them.
  for (let i = 0; i < W; i++) reduce.push(`r[${i}] = c${i};`);
  reduce.push('return r;');

  const mul: string[] = [];
  // Table: row u = u(z) * b(z), W+1 words; row 0 stays zero.
  for (let i = 0; i < W; i++) mul.push(`T[${W1 + i}] = b[${i}];`);
  mul.push(`T[${W1 + W}] = 0;`);
  for (let u = 2; u < 16; u++) {
    for (let i = 0; i < W1; i++) {
      if (u % 2 === 0) {
        const src = (u / 2) * W1;
        mul.push(
          i === 0
            ? `T[${u * W1}] = T[${src}] << 1;`
            : `T[${u * W1 + i}] = (T[${src + i}] << 1) | (T[${src + i - 1}] >>> 31);`,
        );
      } else {
        mul.push(`T[${u * W1 + i}] = T[${(u - 1) * W1 + i}] ^ T[${W1 + i}];`);
      }
    }
  }
  for (let j = 0; j < W; j++) mul.push(`const a${j} = a[${j}];`);
  mul.push(`let ${acc.map((c) => `${c} = 0`).join(', ')};`, 'let u = 0;');
  for (let k = 28; k >= 0; k -= 4) {
    for (let j = 0; j < W; j++) {
      mul.push(`u = ((a${j} >>> ${k}) & 15) * ${W1};`);
      for (let i = 0; i < W1; i++) mul.push(`c${j + i} ^= T[u + ${i}];`);
    }
    if (k !== 0) {
      for (let i = 2 * W - 1; i > 0; i--) mul.push(`c${i} = (c${i} << 4) | (c${i - 1} >>> 28);`);
      mul.push('c0 <<= 4;');
    }
  }
  const sqr: string[] = ['let v = 0;'];
  for (let i = 0; i < W; i++) {
    sqr.push(
      `v = a[${i}];`,
      `const c${2 * i} = S[v & 255] | (S[(v >>> 8) & 255] << 16);`,
      `const c${2 * i + 1} = S[(v >>> 16) & 255] | (S[v >>> 24] << 16);`,
    );
  }
  // The squaring accumulator must be mutable for the reduction.
  const sqrBody = sqr.join('\n').replaceAll('const c', 'let c');
  const reduceBody = reduce.join('\n');
  return {
    mul: new Function('a', 'b', 'T', 'r', `'use strict';\n${mul.join('\n')}\n${reduceBody}`) as (
      a: Fe,
      b: Fe,
      T: Int32Array,
      r: Fe,
    ) => Fe,
    sqr: new Function('a', 'S', 'r', `'use strict';\n${sqrBody}\n${reduceBody}`) as (
      a: Fe,
      S: Uint16Array,
      r: Fe,
    ) => Fe,
  };
}

export class GF2m {
  /** Number of 32-bit words in an element. */
  readonly words: number;
  /** Bytes in the SEC 1 octet-string form of an element (big-endian). */
  readonly byteLength: number;
  /** Exponents of the reduction polynomial below m, including 0 (x^m = sum of x^k). */
  private readonly lowTerms: readonly number[];
  private readonly topWord: number;
  private readonly topBits: number;
  private readonly table: Int32Array;
  private readonly mulImpl: (a: Fe, b: Fe, table: Int32Array, r: Fe) => Fe;
  private readonly sqrImpl: (a: Fe, spread: Uint16Array, r: Fe) => Fe;
  private traceMask: Fe | undefined;

  /**
   * @param m extension degree
   * @param middleTerms exponents k of f(z) = z^m + sum z^k + 1 other than m and 0, e.g. [12, 7, 5]
   */
  constructor(
    readonly m: number,
    middleTerms: readonly number[],
  ) {
    if (m % 32 === 0 || m < 64) throw new RangeError('unsupported m');
    for (const k of middleTerms) if (k <= 0 || k >= m - 32) throw new RangeError('unsupported polynomial');
    this.words = Math.ceil(m / 32);
    this.byteLength = Math.ceil(m / 8);
    this.lowTerms = [...middleTerms, 0];
    this.topWord = m >>> 5;
    this.topBits = m & 31;
    this.table = new Int32Array(16 * (this.words + 1));
    const gen = generateArithmetic(m, this.words, this.lowTerms);
    this.mulImpl = gen.mul;
    this.sqrImpl = gen.sqr;
  }

  zero(): Fe {
    return new Int32Array(this.words);
  }

  one(): Fe {
    const r = new Int32Array(this.words);
    r[0] = 1;
    return r;
  }

  isZero(a: Fe): boolean {
    for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
    return true;
  }

  isOne(a: Fe): boolean {
    if (a[0] !== 1) return false;
    for (let i = 1; i < a.length; i++) if (a[i] !== 0) return false;
    return true;
  }

  eq(a: Fe, b: Fe): boolean {
    for (let i = 0; i < this.words; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  add(a: Fe, b: Fe): Fe {
    const r = new Int32Array(this.words);
    for (let i = 0; i < this.words; i++) r[i] = a[i]! ^ b[i]!;
    return r;
  }

  /** a + b written into `out` (which may be a or b), returned. */
  addInto(a: Fe, b: Fe, out: Fe): Fe {
    for (let i = 0; i < this.words; i++) out[i] = a[i]! ^ b[i]!;
    return out;
  }

  /** Bit i (coefficient of z^i). */
  bit(a: Fe, i: number): number {
    return (a[i >>> 5]! >>> (i & 31)) & 1;
  }

  /** a*b mod f: left-to-right comb, window 4 (Guide Alg. 2.36), generated for this field. */
  mul(a: Fe, b: Fe): Fe {
    return this.mulImpl(a, b, this.table, new Int32Array(this.words));
  }

  /**
   * a*b written into `out` (which may be a or b), returned. For loops that would otherwise
   * allocate an element per step: a CBKE exchange made ~8 MB of them.
   */
  mulInto(a: Fe, b: Fe, out: Fe): Fe {
    return this.mulImpl(a, b, this.table, out);
  }

  /** a^2 mod f: spread the bits (Guide Alg. 2.39), generated for this field. */
  sqr(a: Fe): Fe {
    return this.sqrImpl(a, SPREAD, new Int32Array(this.words));
  }

  /** a^2 written into `out` (which may be a), returned. */
  sqrInto(a: Fe, out: Fe): Fe {
    return this.sqrImpl(a, SPREAD, out);
  }

  /** a^(2^n), a new element (squared in place). */
  sqrN(a: Fe, n: number): Fe {
    const r = a.slice();
    for (let i = 0; i < n; i++) this.sqrImpl(r, SPREAD, r);
    return r;
  }

  /** a^-1 by Itoh-Tsujii: beta_k = a^(2^k - 1), a^-1 = beta_{m-1}^2. */
  inv(a: Fe): Fe {
    if (this.isZero(a)) throw new CbkeError('CBKE_FIELD_ELEMENT', 'inverse of zero');
    const e = this.m - 1;
    // Two elements for the whole chain (m - 1 squarings and ~log2(m) multiplications).
    const beta = a.slice();
    const t = new Int32Array(this.words);
    let k = 1;
    for (let i = 31 - Math.clz32(e) - 1; i >= 0; i--) {
      t.set(beta);
      for (let j = 0; j < k; j++) this.sqrImpl(t, SPREAD, t);
      this.mulImpl(t, beta, this.table, beta);
      k *= 2;
      if ((e >>> i) & 1) {
        this.sqrImpl(beta, SPREAD, beta);
        this.mulImpl(beta, a, this.table, beta);
        k += 1;
      }
    }
    return this.sqrImpl(beta, SPREAD, beta);
  }

  /**
   * The inverses of every element of `zs` (none zero) for one inversion: Montgomery's
   * simultaneous inversion (Guide Alg. 2.26 idea), 3 multiplications per element.
   */
  invAll(zs: readonly Fe[]): Fe[] {
    const n = zs.length;
    if (n === 0) return [];
    const prefix: Fe[] = new Array(n);
    prefix[0] = zs[0]!;
    for (let i = 1; i < n; i++) prefix[i] = this.mul(prefix[i - 1]!, zs[i]!);
    let inv = this.inv(prefix[n - 1]!);
    const out: Fe[] = new Array(n);
    for (let i = n - 1; i > 0; i--) {
      out[i] = this.mul(inv, prefix[i - 1]!);
      inv = this.mul(inv, zs[i]!);
    }
    out[0] = inv;
    return out;
  }

  div(a: Fe, b: Fe): Fe {
    return this.mul(a, this.inv(b));
  }

  /** sqrt(a) = a^(2^(m-1)). */
  sqrt(a: Fe): Fe {
    return this.sqrN(a, this.m - 1);
  }

  /** Absolute trace Tr(a) = sum a^(2^i), a linear map to {0,1}: parity of a & mask. */
  trace(a: Fe): number {
    const mask = this.getTraceMask();
    let acc = 0;
    for (let i = 0; i < this.words; i++) acc ^= a[i]! & mask[i]!;
    acc ^= acc >>> 16;
    acc ^= acc >>> 8;
    acc ^= acc >>> 4;
    acc ^= acc >>> 2;
    acc ^= acc >>> 1;
    return acc & 1;
  }

  /** Tr(z^i) for each basis element, by the definition (once per field, ~m^2 squarings). */
  private getTraceMask(): Fe {
    if (this.traceMask) return this.traceMask;
    const mask = this.zero();
    for (let i = 0; i < this.m; i++) {
      const basis = this.zero();
      basis[i >>> 5] = 1 << (i & 31);
      if (this.traceByDefinition(basis) === 1) mask[i >>> 5]! |= 1 << (i & 31);
    }
    this.traceMask = mask;
    return mask;
  }

  /** Tr(a) computed as a + a^2 + ... + a^(2^(m-1)); slow, for the mask and for tests. */
  traceByDefinition(a: Fe): number {
    const t = a.slice();
    const sum = a.slice();
    for (let i = 1; i < this.m; i++) {
      this.sqrImpl(t, SPREAD, t);
      for (let w = 0; w < this.words; w++) sum[w]! ^= t[w]!;
    }
    if (!this.isZero(sum) && !this.isOne(sum)) throw new Error('trace not in GF(2)');
    return sum[0]!;
  }

  /**
   * Half-trace H(c) = sum_{i=0}^{(m-1)/2} c^(2^(2i)) (m odd). When Tr(c) = 0, z = H(c) solves
   * z^2 + z = c (SEC 1 §2.3.4 / Guide §3.6.2); the other solution is z + 1.
   */
  halfTrace(c: Fe): Fe {
    const h = c.slice();
    for (let i = 0; i < (this.m - 1) / 2; i++) {
      this.sqrImpl(h, SPREAD, h);
      this.sqrImpl(h, SPREAD, h);
      for (let w = 0; w < this.words; w++) h[w]! ^= c[w]!;
    }
    return h;
  }

  /** SEC 1 §2.3.6: big-endian octet string of exactly byteLength bytes, value < 2^m. */
  fromBytes(bytes: Uint8Array): Fe {
    if (bytes.length !== this.byteLength) {
      throw new CbkeError('CBKE_FIELD_ELEMENT', `field element must be ${this.byteLength} bytes`);
    }
    const r = this.zero();
    for (let i = 0; i < bytes.length; i++) {
      const bitPos = 8 * (bytes.length - 1 - i);
      r[bitPos >>> 5]! |= bytes[i]! << (bitPos & 31);
    }
    if (r[this.topWord]! >>> this.topBits !== 0) {
      throw new CbkeError('CBKE_FIELD_ELEMENT', `field element has bits at or above ${this.m}`);
    }
    return r;
  }

  /** SEC 1 §2.3.5: big-endian, byteLength bytes. */
  toBytes(a: Fe): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    for (let i = 0; i < out.length; i++) {
      const bitPos = 8 * (out.length - 1 - i);
      out[i] = (a[bitPos >>> 5]! >>> (bitPos & 31)) & 0xff;
    }
    return out;
  }

  fromBigInt(v: bigint): Fe {
    if (v < 0n || v >> BigInt(this.m) !== 0n) throw new CbkeError('CBKE_FIELD_ELEMENT', 'out of range');
    const r = this.zero();
    let x = v;
    for (let i = 0; i < this.words; i++) {
      r[i] = Number(x & 0xffffffffn) | 0;
      x >>= 32n;
    }
    return r;
  }

  toBigInt(a: Fe): bigint {
    let v = 0n;
    for (let i = this.words - 1; i >= 0; i--) v = (v << 32n) | BigInt(a[i]! >>> 0);
    return v;
  }
}
