/**
 * Path loss per (transmitter, receiver) pair of radios, per band, keyed by radio slot: each
 * registered radio holds a small integer slot, reused after it leaves, and each transmitting
 * slot has a Float64Array row (NaN = not computed yet). So a lookup is two array reads, and the
 * table is as large as the most radios on the bus at once rather than every pair that ever met.
 */
import type { Band } from './phy.js';

export class PathLossTable {
  private readonly rows: Record<Band, (Float64Array | undefined)[]> = { '2.4GHz': [], GB868: [] };
  private readonly free: number[] = [];
  private slots = 0;

  /** `reciprocal`: a pair's loss is the same both ways, so one direction serves the other. */
  constructor(private readonly reciprocal: boolean) {}

  /** A slot for a radio that registers. */
  acquire(): number {
    return this.free.pop() ?? this.slots++;
  }

  /** Forget every loss to or from `slot` and free it for the next radio. */
  release(slot: number): void {
    for (const rows of Object.values(this.rows)) {
      rows[slot] = undefined;
      for (const row of rows) if (row !== undefined && slot < row.length) row[slot] = Number.NaN;
    }
    this.free.push(slot);
  }

  /** The loss from `tx` to `rx`, or NaN if not computed yet. */
  get(band: Band, tx: number, rx: number): number {
    const rows = this.rows[band];
    const v = rows[tx]?.[rx];
    if (v !== undefined && !Number.isNaN(v)) return v;
    return (this.reciprocal ? rows[rx]?.[tx] : undefined) ?? Number.NaN;
  }

  set(band: Band, tx: number, rx: number, lossDb: number): void {
    const rows = this.rows[band];
    let row = rows[tx];
    if (row === undefined || rx >= row.length) {
      const grown = new Float64Array(Math.max(this.slots, rx + 1)).fill(Number.NaN);
      if (row !== undefined) grown.set(row);
      row = grown;
      rows[tx] = row;
    }
    row[rx] = lossDb;
  }
}
