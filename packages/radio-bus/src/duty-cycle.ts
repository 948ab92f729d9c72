/**
 * 868 MHz duty-cycle accounting per transmitter over a rolling hour (the Sub-GHz cluster's
 * Limited / Critical / Suspended states, protocol-notes §6). The bus refuses a frame that
 * would take a radio past the Suspended threshold: that frame never reaches the air.
 */
import { HOUR } from '@gbhan/clock';

export type DutyCycleState = 'normal' | 'limited' | 'critical' | 'suspended';

export interface DutyCycleThresholds {
  /** Percent of the rolling hour. Defaults 1.0 / 1.8 / 2.5 (Silicon Labs Sub-GHz example). */
  limitedPercent: number;
  criticalPercent: number;
  suspendedPercent: number;
}

export const DEFAULT_DUTY_CYCLE: DutyCycleThresholds = {
  limitedPercent: 1.0,
  criticalPercent: 1.8,
  suspendedPercent: 2.5,
};

const WINDOW = HOUR;

export class DutyCycleMeter {
  /** Bursts in time order; they never overlap (a radio sends one frame at a time). */
  private bursts: { start: number; end: number }[] = [];
  private head = 0;
  /** Total airtime of bursts[head..]. */
  private booked = 0;
  state: DutyCycleState = 'normal';

  constructor(private readonly thresholds: DutyCycleThresholds) {}

  /** Airtime (us) within (now - 1 h, now]. */
  usedUs(now: number): number {
    const from = now - WINDOW;
    while (this.head < this.bursts.length && this.bursts[this.head]!.end <= from) {
      const b = this.bursts[this.head++]!;
      this.booked -= b.end - b.start;
    }
    if (this.head > 1024 && this.head * 2 > this.bursts.length) {
      this.bursts = this.bursts.slice(this.head);
      this.head = 0;
    }
    if (this.head >= this.bursts.length) return 0;
    // Only the oldest burst can straddle the window's start, only the newest its end.
    const first = this.bursts[this.head]!;
    const last = this.bursts[this.bursts.length - 1]!;
    const used = this.booked - Math.max(0, from - first.start) - Math.max(0, last.end - now);
    return Math.max(0, used);
  }

  percent(now: number, extraUs = 0): number {
    return ((this.usedUs(now) + extraUs) / WINDOW) * 100;
  }

  stateFor(percent: number): DutyCycleState {
    const t = this.thresholds;
    if (percent >= t.suspendedPercent) return 'suspended';
    if (percent >= t.criticalPercent) return 'critical';
    if (percent >= t.limitedPercent) return 'limited';
    return 'normal';
  }

  /** Would sending `airtime` now exceed the Suspended threshold? */
  wouldExceed(now: number, airtime: number): boolean {
    return this.percent(now, airtime) > this.thresholds.suspendedPercent;
  }

  /** Book a transmission; the state is evaluated as of the end of the frame. */
  record(start: number, airtime: number): void {
    this.bursts.push({ start, end: start + airtime });
    this.booked += airtime;
  }

  /** Time at which the oldest booked airtime leaves the window (when the state may fall). */
  nextExpiry(): number | null {
    const first = this.bursts[this.head];
    return first === undefined ? null : first.end + WINDOW;
  }
}
