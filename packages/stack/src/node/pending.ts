/**
 * Answers a node waits for (Transport Key, association and rejoin responses, APS acks of
 * fragments, partner keys, NWK addresses), one helper for all of them: a waiter per key,
 * settled once by the frame that answers it, by a timeout in virtual time (the MAC engine's
 * timers, which power off cancels) or by `cancelAll` at power off. Callers of a key already
 * awaited share its answer (two sends to one unknown address ask once).
 */
import type { Timer } from '@gbhan/clock';

/** Where the timeouts come from: the MAC engine, so a power off cancels them. */
export interface TimerSource {
  timer(us: number, fn: () => void): Timer;
}

interface Waiting<V> {
  resolvers: ((value: V) => void)[];
  timer: Timer | null;
}

export class Pending<K, V> {
  private readonly waiting = new Map<K, Waiting<V>>();

  /**
   * @param cancelled what every waiter gets at power off
   * @param onSettle runs when a key is settled (by anything), before its waiters resume
   */
  constructor(
    private readonly timers: TimerSource,
    private readonly cancelled: V,
    private readonly onSettle?: (key: K, value: V) => void,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  has(key: K): boolean {
    return this.waiting.has(key);
  }

  /** Wait for the answer to `key` (no timeout until `expireAfter`). */
  wait(key: K): Promise<V> {
    return new Promise<V>((resolve) => {
      const w = this.waiting.get(key);
      if (w) w.resolvers.push(resolve);
      else this.waiting.set(key, { resolvers: [resolve], timer: null });
    });
  }

  /** Settle `key` with `value` once `us` of virtual time have passed, unless answered first. */
  expireAfter(key: K, us: number, value: V): void {
    const w = this.waiting.get(key);
    if (!w || w.timer) return;
    w.timer = this.timers.timer(us, () => this.settle(key, value));
  }

  /** `wait` and `expireAfter` in one. */
  request(key: K, timeoutUs: number, onTimeout: V): Promise<V> {
    const answer = this.wait(key);
    this.expireAfter(key, timeoutUs, onTimeout);
    return answer;
  }

  /** Give every waiter of `key` its answer; false when nobody waited for it. */
  settle(key: K, value: V): boolean {
    const w = this.waiting.get(key);
    if (!w) return false;
    this.waiting.delete(key);
    w.timer?.cancel();
    this.onSettle?.(key, value);
    for (const resolve of w.resolvers) resolve(value);
    return true;
  }

  /** Power off: every waiter gets the `cancelled` value, in the order they began. */
  cancelAll(): void {
    for (const key of [...this.waiting.keys()]) this.settle(key, this.cancelled);
  }
}
