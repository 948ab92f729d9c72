/**
 * Time for gbhan. Protocol code never reads the wall clock: it is handed a `Clock` whose
 * `now()` is virtual time in integer microseconds, and whose timers fire when that time is
 * reached. The radio bus owns the master time; each device's clock is a `ManualClock` the
 * bus client advances, so a 60-minute window costs only the events inside it.
 */
import { MinHeap } from './heap.js';

export { MinHeap } from './heap.js';

/** Units of virtual time (microseconds). */
export const MICROSECOND = 1;
export const MILLISECOND = 1_000;
export const SECOND = 1_000_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export interface Timer {
  /** Virtual time (us) at which the callback runs. */
  readonly at: number;
  readonly active: boolean;
  cancel(): void;
}

export interface Clock {
  /** Virtual time in microseconds since the run's epoch. */
  now(): number;
  /** Run `fn` once `delayUs` of virtual time has passed (0 = at the current instant, after what runs now). */
  setTimer(delayUs: number, fn: () => void): Timer;
  /** Run `fn` at virtual time `atUs` (clamped to now). */
  setTimerAt(atUs: number, fn: () => void): Timer;
}

class ScheduledTimer implements Timer {
  active = true;
  constructor(
    readonly at: number,
    readonly seq: number,
    readonly fn: () => void,
  ) {}
  cancel(): void {
    this.active = false;
  }
}

export class ClockError extends Error {
  constructor(
    readonly code: 'CLOCK_BACKWARDS' | 'CLOCK_BAD_DELAY',
    message: string,
  ) {
    super(message);
    this.name = 'ClockError';
  }
}

/**
 * A clock that moves only when told to. Tests drive it directly; the radio-bus client drives
 * it from the bus's time messages. Timers due at the same instant run in the order set.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new MinHeap<ScheduledTimer>(
    (a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq),
  );

  constructor(startUs = 0) {
    this.current = startUs;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayUs: number, fn: () => void): Timer {
    if (!Number.isFinite(delayUs) || delayUs < 0) {
      throw new ClockError('CLOCK_BAD_DELAY', `timer delay must be a finite number >= 0, got ${delayUs}`);
    }
    return this.setTimerAt(this.current + Math.round(delayUs), fn);
  }

  setTimerAt(atUs: number, fn: () => void): Timer {
    if (!Number.isFinite(atUs))
      throw new ClockError('CLOCK_BAD_DELAY', `timer time must be finite, got ${atUs}`);
    const t = new ScheduledTimer(Math.max(this.current, Math.round(atUs)), this.seq++, fn);
    this.timers.push(t);
    return t;
  }

  /** Virtual time of the earliest active timer, or null when none is set. */
  nextDue(): number | null {
    for (;;) {
      const top = this.timers.peek();
      if (top === undefined) return null;
      if (top.active) return top.at;
      this.timers.pop();
    }
  }

  /**
   * Move to `targetUs`, running every timer due on the way in time order (a timer set for
   * the current instant by a running timer runs in the same call).
   */
  advanceTo(targetUs: number): void {
    if (targetUs < this.current) {
      throw new ClockError('CLOCK_BACKWARDS', `cannot move time back from ${this.current} to ${targetUs}`);
    }
    for (;;) {
      const due = this.nextDue();
      if (due === null || due > targetUs) break;
      const t = this.timers.pop()!;
      this.current = t.at;
      t.active = false;
      t.fn();
    }
    this.current = targetUs;
  }

  /** Convenience for tests: advance by `deltaUs`. */
  advance(deltaUs: number): void {
    this.advanceTo(this.current + deltaUs);
  }

  /** Run timers until none is left or `limitUs` is reached; returns the time reached. */
  runAll(limitUs = Number.MAX_SAFE_INTEGER): number {
    for (;;) {
      const due = this.nextDue();
      if (due === null || due > limitUs) return this.current;
      this.advanceTo(due);
    }
  }
}

/** Format virtual microseconds as `HH:MM:SS.ffffff` for logs and reports. */
export function formatVirtualTime(us: number): string {
  const totalSeconds = Math.floor(us / SECOND);
  const micros = us - totalSeconds * SECOND;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(micros, 6)}`;
}

export class DurationError extends Error {
  readonly code = 'BAD_DURATION';
  constructor(input: string) {
    super(
      `not a duration: ${JSON.stringify(input)} (use e.g. 500ms, 90s, 60m, 2h, 3d, or a number of seconds)`,
    );
    this.name = 'DurationError';
  }
}

const DURATION_UNITS: Record<string, number> = {
  us: MICROSECOND,
  ms: MILLISECOND,
  s: SECOND,
  m: MINUTE,
  min: MINUTE,
  h: HOUR,
  d: 24 * HOUR,
};

/** Parse "500ms", "90s", "60m", "1h30m", "3d" or a bare number of seconds into microseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new DurationError(String(input));
    return Math.round(input * SECOND);
  }
  const s = input.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * SECOND);
  const re = /(\d+(?:\.\d+)?)(us|ms|min|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) throw new DurationError(input);
  return Math.round(total);
}
