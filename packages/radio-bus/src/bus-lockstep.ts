/**
 * The radio bus's scheduler: conservative lock-step over virtual time.
 *
 * Only when no radio is awaiting does the bus (1) apply the actions radios sent during the
 * instant, (2) answer `wake` requests, and (3) advance to the earliest of its own events and
 * the radios' timers, waking those radios. This file is that loop and the instant it moves
 * to; what the actions and events do is the air's and the actions' business.
 */
import type { BusState } from './bus-state.js';

/** Timer wake-ups of one radio at one virtual instant before it is judged stuck. */
const MAX_WAKES_PER_INSTANT = 1000;

export class BusLockStep {
  private stepping = false;

  constructor(private readonly s: BusState) {}

  /** Try to make progress; safe to call from anywhere (re-entrant calls are folded). */
  kick(): void {
    if (this.stepping || this.s.closed) return;
    this.stepping = true;
    try {
      this.step();
    } finally {
      this.stepping = false;
    }
  }

  private step(): void {
    const s = this.s;
    for (;;) {
      if (s.closed) return;
      if (s.awaitingCount > 0) {
        s.wall.armWatchdog();
        return;
      }
      if (s.actions.applyAll()) continue;
      if (this.answerWakes()) continue;
      s.wall.preemptPacing(() => this.nextEventTime());
      if (s.wall.pacingPending || s.controllerHolds > 0) return;
      // Only the start waits for the expected radios; later departures do not stop time.
      if (!s.expectedReached) {
        if (s.sorted.length < s.settings.expectRadios) return;
        s.expectedReached = true;
      }
      if (s.until < 0) return;
      if (s.syncPending) {
        // Sync round, at the start and at every runUntil: wake every radio at the current
        // instant. Messages on a link are ordered, so the idle replies carry whatever a device
        // did while time stood still (timers set by test code, by a socket client before time
        // began), even if its own updates were still in flight.
        s.syncPending = false;
        this.wakeAll();
        continue;
      }

      const tNext = Math.max(this.nextEventTime(), s.now);
      if (tNext > s.until || tNext === Number.POSITIVE_INFINITY) {
        if (!Number.isFinite(s.until)) return; // nothing to do: wait for clients
        if (s.wall.waitForWall(s.until)) return;
        if (s.now < s.until) {
          // Nothing happens before the end: jump there and bring every device's clock along,
          // so that what a caller does after runUntil starts from the bus's time.
          s.now = s.until;
          this.wakeAll();
          continue;
        }
        this.resolveWaiters();
        return;
      }
      if (s.wall.waitForWall(tNext)) return;
      this.advanceTo(tNext);
      this.resolveWaiters();
    }
  }

  /** Send every radio the current instant. */
  private wakeAll(): void {
    for (const r of this.s.sorted) this.s.links.send(r, { type: 'time', t: this.s.now });
  }

  /**
   * Answer the radios' `wake` requests at a barrier. Real-time mode, once time runs: virtual
   * time first moves to the instant the wall clock has reached, but stays before the next
   * scheduled event (events and radios' timers), so lock-step holds; otherwise the answer is
   * the current instant. A radio is answered once per instant while the bus has something to
   * advance to, so a device that keeps asking cannot stop time. Returns true if it sent any.
   */
  private answerWakes(): boolean {
    const s = this.s;
    if (s.wakers.size === 0) return false;
    const tNext = this.nextEventTime();
    const running =
      s.until >= 0 &&
      s.controllerHolds === 0 &&
      (s.expectedReached || s.sorted.length >= s.settings.expectRadios);
    if (running && s.wall.paced) {
      const target = Math.min(s.wall.pacedNow(), tNext - 1, s.until);
      if (target > s.now) s.now = target;
    }
    const canAdvance = running && tNext <= s.until && Number.isFinite(tNext);
    let sent = false;
    const wakers = [...s.wakers];
    if (wakers.length > 1) wakers.sort((a, b) => a.order - b.order);
    for (const r of wakers) {
      if (r.wakeId === null || (canAdvance && r.wokenAt === s.now)) continue;
      const id = r.wakeId;
      r.wakeId = null;
      s.wakers.delete(r);
      r.wokenAt = s.now;
      s.links.send(r, { type: 'time', t: s.now, wake: id });
      sent = true;
    }
    return sent;
  }

  /** The earliest bus event or radio timer (infinity if none). */
  private nextEventTime(): number {
    const t = this.s.peekEvent()?.t ?? Number.POSITIVE_INFINITY;
    return Math.min(t, this.s.timers.earliest());
  }

  private resolveWaiters(): void {
    const s = this.s;
    if (s.waiters.length === 0) return;
    const done = s.waiters.filter((w) => w.until <= s.now);
    if (done.length === 0) return;
    s.waiters = s.waiters.filter((w) => w.until > s.now);
    for (const w of done) w.resolve();
  }

  /** Move to instant `t`: run the bus events due by then, then wake the radios whose timer is due. */
  private advanceTo(t: number): void {
    const s = this.s;
    s.now = t;
    for (;;) {
      const ev = s.peekEvent();
      if (ev === undefined || ev.t > t) break;
      s.queue.pop();
      if (ev.kind === 'tx-end') s.air.endTransmission(ev.tx);
      else if (ev.kind === 'scheduled') {
        // Due: into the radio's actions ahead of whatever it sends at this instant, as if its
        // device had woken and sent it first (it is not woken for it).
        s.released(ev);
        s.queueAction(ev.radio, { ...ev.action, at: undefined });
      } else if (ev.kind === 'duty-recheck') s.air.dutyRecheck(ev.radio);
      else if (ev.kind === 'callback') ev.fn();
      else if (ev.kind === 'control') {
        const radio = s.byEui.get(ev.eui64);
        s.emit({
          t,
          type: 'control',
          radio: ev.eui64,
          command: ev.command,
          delivered: radio !== undefined,
        });
        if (radio !== undefined) s.links.send(radio, { type: 'control', t, command: ev.command });
      } else {
        const j = s.jammers[ev.jammer]!;
        s.emit({
          t,
          type: 'jam',
          band: j.band,
          page: j.page,
          channel: j.channel,
          on: ev.on,
          jammer: ev.jammer,
        });
      }
    }
    // The radios whose timer is due, in the bus's order; one awaiting (a bus event above sent it
    // something) keeps its timer for a later instant, as the scan of every radio did.
    for (const r of s.timers.takeDue(t)) {
      if (r.awaiting) s.setNext(r, r.next);
      else {
        r.next = null;
        if (r.wakeAt === t) r.wakesAtInstant++;
        else {
          r.wakeAt = t;
          r.wakesAtInstant = 1;
        }
        if (r.wakesAtInstant > MAX_WAKES_PER_INSTANT) {
          // A device that keeps asking to be woken at the same instant would stop time.
          s.links.reportError(
            r.port,
            'BUS_TIME_STUCK',
            `asked to be woken ${MAX_WAKES_PER_INSTANT} times at t=${t}`,
          );
          continue;
        }
        s.links.send(r, { type: 'time', t });
      }
    }
  }
}
