/**
 * The CH's Inter-PAN window (GBCS informative text, protocol-notes §4; CPA DEV.1.1.M949):
 * Inter-PAN is served only for 60 minutes from each power-on; a power cycle reopens it.
 * SECMP0037 (protocol-notes §10) removes the limit: `durationUs: 'unlimited'`.
 *
 * Runs on the device clock only. One instance per power cycle. Trace events (type
 * `interpan-window`): `state: 'open'` at power-on, `state: 'time-left'` every `reportEveryUs`
 * while open, `state: 'closed'` when the time is up (or `state: 'power-off'` when the CH is
 * switched off while open), each with `leftUs` / `openUs`.
 */
import type { Clock, Timer } from '@gbhan/clock';
import type { CommsHubTraceEvent } from './trace-events.js';

/** GB: 60 minutes. */
export const DEFAULT_INTERPAN_WINDOW_US = 60 * 60 * 1_000_000;
// ASSUMPTION: the time left is traced every 15 minutes while the window is open.
const DEFAULT_REPORT_EVERY_US = 15 * 60 * 1_000_000;

export interface InterPanWindowOptions {
  clock: Clock;
  /** Length of the window from power-on, or 'unlimited' (SECMP0037). */
  durationUs: number | 'unlimited';
  trace: (e: CommsHubTraceEvent) => void;
  reportEveryUs?: number;
}

export class InterPanWindow {
  readonly openedAtUs: number;
  private readonly timers: Timer[] = [];
  private stoppedAtUs: number | null = null;

  constructor(private readonly o: InterPanWindowOptions) {
    this.openedAtUs = o.clock.now();
    const d = o.durationUs;
    o.trace({ type: 'interpan-window', state: 'open', durationUs: d, leftUs: d === 'unlimited' ? null : d });
    if (d === 'unlimited') return;
    const every = o.reportEveryUs ?? DEFAULT_REPORT_EVERY_US;
    for (let t = every; t < d; t += every)
      this.timers.push(
        o.clock.setTimerAt(this.openedAtUs + t, () =>
          o.trace({ type: 'interpan-window', state: 'time-left', leftUs: d - t }),
        ),
      );
    this.timers.push(
      o.clock.setTimerAt(this.openedAtUs + d, () =>
        o.trace({ type: 'interpan-window', state: 'closed', openUs: d }),
      ),
    );
  }

  /** Open at virtual time `now` (default the clock's): [opened, opened + duration). */
  isOpen(now = this.o.clock.now()): boolean {
    if (this.stoppedAtUs !== null) return false;
    const d = this.o.durationUs;
    return d === 'unlimited' || now - this.openedAtUs < d;
  }

  /** Time left (null: unlimited). */
  leftUs(now = this.o.clock.now()): number | null {
    const d = this.o.durationUs;
    if (d === 'unlimited') return null;
    return this.isOpen(now) ? this.openedAtUs + d - now : 0;
  }

  /** How long the window has been open so far (up to now, or to power-off). */
  openUs(now = this.o.clock.now()): number {
    const end = this.stoppedAtUs ?? now;
    const d = this.o.durationUs;
    return Math.max(0, (d === 'unlimited' ? end : Math.min(end, this.openedAtUs + d)) - this.openedAtUs);
  }

  /** Power-off: the window ends with the power cycle. */
  stop(): void {
    if (this.stoppedAtUs !== null) return;
    const open = this.isOpen();
    const openUs = this.openUs();
    this.stoppedAtUs = this.o.clock.now();
    for (const t of this.timers) t.cancel();
    if (open) this.o.trace({ type: 'interpan-window', state: 'power-off', openUs });
  }
}
