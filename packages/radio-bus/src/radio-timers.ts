/**
 * The radios' timers, for the lock-step: each registered radio whose `next` is set, in a
 * binary min-heap on `next` that knows where each radio sits (`Radio.timerSlot`), so that an
 * idle report moves its radio in O(log N) and the earliest timer is read in O(1). The
 * lock-step asks it for the earliest timer and for the radios due by an instant, instead of
 * scanning every radio at every step.
 *
 * Ties have no order here: the radios due at an instant are returned sorted by the bus's
 * order (`Radio.order`, EUI64), which is the order the scan visited them in.
 */

/** What the heap needs of a radio. */
export interface TimedRadio {
  next: number | null;
  order: number;
  /** Position in the heap, -1 when not in it. */
  timerSlot: number;
}

export class RadioTimers<R extends TimedRadio> {
  private readonly items: R[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The earliest timer (infinity if none). */
  earliest(): number {
    const top = this.items[0];
    return top === undefined ? Number.POSITIVE_INFINITY : (top.next as number);
  }

  /** `r.next` was set (a number or null): put `r` where that puts it. */
  update(r: R): void {
    if (r.next === null) {
      this.remove(r);
      return;
    }
    const i = r.timerSlot;
    if (i < 0) {
      this.items.push(r);
      r.timerSlot = this.items.length - 1;
      this.up(r.timerSlot);
      return;
    }
    this.down(this.up(i));
  }

  /** `r` leaves the heap (its timer cleared or the radio gone). */
  remove(r: R): void {
    const i = r.timerSlot;
    if (i < 0) return;
    const a = this.items;
    const last = a.pop() as R;
    r.timerSlot = -1;
    if (i === a.length) return;
    a[i] = last;
    last.timerSlot = i;
    this.down(this.up(i));
  }

  /** Take out every radio whose timer is at or before `t`; returned in the bus's order. */
  takeDue(t: number): R[] {
    const due: R[] = [];
    for (;;) {
      const top = this.items[0];
      if (top === undefined || (top.next as number) > t) break;
      this.remove(top);
      due.push(top);
    }
    if (due.length > 1) due.sort((a, b) => a.order - b.order);
    return due;
  }

  private less(i: number, j: number): boolean {
    return (this.items[i]!.next as number) < (this.items[j]!.next as number);
  }

  private swap(i: number, j: number): void {
    const a = this.items;
    const x = a[i]!;
    const y = a[j]!;
    a[i] = y;
    a[j] = x;
    y.timerSlot = i;
    x.timerSlot = j;
  }

  private up(i: number): number {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
    return i;
  }

  private down(i: number): number {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return i;
      this.swap(i, m);
      i = m;
    }
  }
}
