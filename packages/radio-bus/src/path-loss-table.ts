/**
 * Path loss per (transmitter, receiver) pair of radios, per band, keyed by radio slot: each
 * registered radio holds a small integer slot, reused after it leaves, and each transmitting
 * slot has a row (NaN = not computed yet). So a lookup is two array reads.
 *
 * A row covers only the window of receiver slots it has been asked about, grown by doubling:
 * a sender is only ever asked about the radios within its reach (air-index.ts), and slots
 * follow registration order, so in a city of 4,000 radios a row holds a few hundred entries
 * rather than 4,000 (128 MB of rows, all but a few per cent NaN, before the windows).
 */
import type { Band } from './phy.js';

interface Row {
  /** The slot of `loss[0]`. */
  lo: number;
  loss: Float64Array;
}

export class PathLossTable {
  private readonly rows: Record<Band, (Row | undefined)[]> = { '2.4GHz': [], GB868: [] };
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
      for (const row of rows) {
        const i = row === undefined ? -1 : slot - row.lo;
        if (row !== undefined && i >= 0 && i < row.loss.length) row.loss[i] = Number.NaN;
      }
    }
    this.free.push(slot);
  }

  /** The loss from `tx` to `rx`, or NaN if not computed yet. */
  get(band: Band, tx: number, rx: number): number {
    const rows = this.rows[band];
    const v = read(rows[tx], rx);
    if (!Number.isNaN(v) || !this.reciprocal) return v;
    return read(rows[rx], tx);
  }

  set(band: Band, tx: number, rx: number, lossDb: number): void {
    const rows = this.rows[band];
    const row = rows[tx];
    if (row === undefined) {
      rows[tx] = { lo: rx, loss: Float64Array.of(lossDb) };
      return;
    }
    const hi = row.lo + row.loss.length;
    if (rx < row.lo || rx >= hi) {
      // Grow towards rx, at least doubling, never below slot 0.
      const want = Math.max(hi, rx + 1) - Math.min(row.lo, rx);
      const length = Math.max(want, 2 * row.loss.length);
      const lo = rx < row.lo ? Math.max(0, hi - length) : row.lo;
      const loss = new Float64Array(Math.max(length, hi - lo)).fill(Number.NaN);
      loss.set(row.loss, row.lo - lo);
      row.lo = lo;
      row.loss = loss;
    }
    row.loss[rx - row.lo] = lossDb;
  }
}

function read(row: Row | undefined, rx: number): number {
  if (row === undefined) return Number.NaN;
  const v = row.loss[rx - row.lo];
  return v === undefined ? Number.NaN : v;
}
