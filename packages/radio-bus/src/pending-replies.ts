/**
 * Callers waiting for the bus's reply to a request, by request id (a `tx` awaiting its
 * `tx-done`, a `cca` its `cca-result`, a `link-send` its `link-done`).
 *
 * Not a Map: V8 gives a Map a new hash table each time a delete empties it, and a radio's
 * table goes from one entry to none at every frame. In a street, where the radio object lives
 * for the whole run, each of those tables outlives the young generation and is promoted (with
 * the other per-frame replacements in bus-air.ts and the MAC: 450 -> 412 MB promoted at 300
 * homes in 6 simulated minutes). Two arrays that only grow (at most a few entries are ever
 * outstanding) allocate nothing once warm.
 */
export class PendingReplies<T> {
  private readonly ids: number[] = [];
  private readonly values: (T | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  set(id: number, value: T): void {
    const n = this.count;
    if (n === this.ids.length) {
      this.ids.push(id);
      this.values.push(value);
    } else {
      this.ids[n] = id;
      this.values[n] = value;
    }
    this.count = n + 1;
  }

  /** The value waiting for `id`, removed; undefined if none (the others keep their order). */
  take(id: number): T | undefined {
    const { ids, values } = this;
    const n = this.count;
    for (let i = 0; i < n; i++) {
      if (ids[i] !== id) continue;
      const value = values[i];
      for (let j = i + 1; j < n; j++) {
        ids[j - 1] = ids[j]!;
        values[j - 1] = values[j];
      }
      values[n - 1] = undefined;
      this.count = n - 1;
      return value;
    }
    return undefined;
  }

  /** Every waiting value in the order they were set, the table left empty. */
  drain(): T[] {
    const out = this.values.slice(0, this.count) as T[];
    this.values.fill(undefined);
    this.count = 0;
    return out;
  }
}
