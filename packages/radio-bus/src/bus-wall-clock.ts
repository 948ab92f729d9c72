/**
 * Where the radio bus meets the wall clock: real-time pacing and the idle watchdog.
 *
 * Everything else in the bus runs on virtual time only; these two are the only places a
 * wall-clock timer decides anything. Pacing holds virtual time back until the wall clock
 * (times the speed factor) has caught up; the watchdog drops a radio that stays awaiting too
 * long, so a hung client cannot stop time for everyone.
 */
import { performance } from 'node:perf_hooks';
import type { BusState, Radio } from './bus-state.js';

export class BusWallClock {
  private watchdog: NodeJS.Timeout | null = null;
  private pacing: NodeJS.Timeout | null = null;
  /** The virtual instant the pacing timer waits for. */
  private pacingFor = 0;
  /** Real-time mode: wall ms at which virtual time `virtAnchor` started (0 = not yet). */
  private wallAnchor = 0;
  private virtAnchor = 0;

  constructor(
    private readonly s: BusState,
    /** Pace virtual time to the wall clock (speed 1 = real time); null: as fast as possible. */
    private realTime: { speed: number } | null,
    /** Wall-clock ms a radio may stay awaiting before it is timed out and dropped (0 = never). */
    private readonly idleTimeoutMs: number,
  ) {}

  /** A pacing timer is running (virtual time waits for the wall clock). */
  get pacingPending(): boolean {
    return this.pacing !== null;
  }

  /**
   * Something earlier than what pacing waits for came up meanwhile (a woken device's new
   * timer): drop the pacing timer so the lock-step paces to that instead of sleeping through it.
   */
  preemptPacing(nextEventTime: () => number): void {
    if (this.pacing !== null && nextEventTime() < this.pacingFor) {
      clearTimeout(this.pacing);
      this.pacing = null;
    }
  }

  /** Real-time mode with pacing started: virtual time follows the wall clock. */
  get paced(): boolean {
    return this.realTime !== null && this.wallAnchor !== 0;
  }

  /** Real-time mode: the virtual instant the wall clock has reached (reads it, as pacing does). */
  pacedNow(): number {
    const speed = this.realTime?.speed ?? 1;
    return Math.floor(this.virtAnchor + (performance.now() - this.wallAnchor) * 1000 * speed);
  }

  /**
   * Real-time mode: pacing starts with virtual time, once runUntil has been called and the
   * expected radios have registered, not before: the wall time spent waiting for them is not
   * owed, or the first seconds would run unpaced.
   */
  anchorPacing(): void {
    const s = this.s;
    if (this.realTime === null || this.wallAnchor !== 0 || s.until < 0) return;
    if (!s.expectedReached && s.sorted.length < s.settings.expectRadios) return;
    this.wallAnchor = performance.now();
    this.virtAnchor = s.now;
  }

  /**
   * Change the pace while time runs (a live view's speed control, or after a pause): pacing
   * starts again from the current instant, so virtual time neither races to catch up with the
   * wall time spent paused nor jumps ahead.
   */
  setPace(realTime: { speed: number } | null): void {
    if (this.pacing !== null) clearTimeout(this.pacing);
    this.pacing = null;
    this.realTime = realTime;
    this.wallAnchor = 0;
    this.anchorPacing();
  }

  /** Real-time mode: if the wall clock is behind `t`, wait for it (returns true if waiting). */
  waitForWall(t: number): boolean {
    if (this.realTime === null || t <= this.s.now) return false;
    const due = this.wallAnchor + (t - this.virtAnchor) / 1000 / this.realTime.speed;
    const wait = due - performance.now();
    if (wait <= 0.5) return false;
    // Real-time pacing is the one place virtual time waits on the wall clock.
    this.pacingFor = t;
    this.pacing = setTimeout(() => {
      this.pacing = null;
      this.s.lockStep.kick();
    }, wait);
    return true;
  }

  /**
   * Idle watchdog (wall clock): a radio that never reports idle is dropped, not waited on.
   * While any radio is awaiting, one timer runs for the earliest deadline (a radio that starts
   * awaiting later has a later one), so a drop comes when it is due, not up to a period late.
   */
  armWatchdog(delayMs = this.idleTimeoutMs): void {
    if (this.watchdog !== null || this.idleTimeoutMs <= 0 || this.s.closed) return;
    this.watchdog = setTimeout(() => this.watchdogFired(), delayMs);
  }

  private watchdogFired(): void {
    this.watchdog = null;
    const now = performance.now();
    const expired: Radio[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const r of this.s.sorted) {
      if (!r.awaiting) continue;
      const due = r.awaitingSinceWall + this.idleTimeoutMs;
      if (due <= now) expired.push(r);
      else next = Math.min(next, due);
    }
    // Re-armed before the drops: radios they make the bus wake start awaiting after `next`'s.
    if (next !== Number.POSITIVE_INFINITY) this.armWatchdog(next - now);
    for (const r of expired) {
      this.s.links.reportError(r.port, 'BUS_IDLE_TIMEOUT', `no idle report within ${this.idleTimeoutMs} ms`);
    }
    this.s.lockStep.kick();
  }

  clearTimers(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    if (this.pacing !== null) clearTimeout(this.pacing);
    this.watchdog = null;
    this.pacing = null;
  }
}
