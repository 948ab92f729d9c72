/** Byte helpers: a bounds-checked reader that throws GbcsError naming the field. */
import { GbcsError, type GbcsLayer } from './errors.js';

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:-]/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new TypeError(`not hex: ${hex}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function u16be(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}

export function u32be(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

export function u64be(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
}

export function readU64be(b: Uint8Array, offset = 0): bigint {
  return new DataView(b.buffer, b.byteOffset + offset, 8).getBigUint64(0);
}

export const U64_MAX = (1n << 64n) - 1n;

/** Checks an encoder argument; throws OUT_OF_RANGE naming the field. */
export function checkBytes(layer: GbcsLayer, field: string, b: Uint8Array, length: number): void {
  if (!(b instanceof Uint8Array) || b.length !== length)
    throw new GbcsError(layer, 'OUT_OF_RANGE', field, `expected ${length} bytes`);
}

export function checkUint(layer: GbcsLayer, field: string, v: number, bits: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits)
    throw new GbcsError(layer, 'OUT_OF_RANGE', field, `${v} is not an unsigned ${bits}-bit integer`);
}

export function checkU64(layer: GbcsLayer, field: string, v: bigint): void {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX)
    throw new GbcsError(layer, 'OUT_OF_RANGE', field, `${v} is not an unsigned 64-bit integer`);
}

export class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly layer: GbcsLayer,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number, field: string): void {
    if (this.remaining < n)
      throw new GbcsError(this.layer, 'TRUNCATED', field, `needs ${n} bytes, ${this.remaining} left`);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos++]!;
  }

  peek(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = (this.bytes[this.pos]! << 8) | this.bytes[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 4).getUint32(0);
    this.pos += 4;
    return v;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const v = readU64be(this.bytes, this.pos);
    this.pos += 8;
    return v;
  }

  /** A view (no copy) of the next n bytes. */
  take(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Expects one exact byte (a tag or a fixed length). */
  expect(value: number, field: string): void {
    const v = this.u8(field);
    if (v !== value)
      throw new GbcsError(
        this.layer,
        'INVALID_FIELD',
        field,
        `expected 0x${value.toString(16).padStart(2, '0')}, got 0x${v.toString(16).padStart(2, '0')}`,
      );
  }

  end(field: string): void {
    if (this.remaining !== 0)
      throw new GbcsError(this.layer, 'TRAILING_BYTES', field, `${this.remaining} bytes after the end`);
  }
}
