/**
 * What every part of the radio bus shares: the radios and their per-radio bookkeeping, the
 * virtual clock and event queue, the lock-step flags, and the trace/frame listeners.
 *
 * The bus is split by concern (connections, actions, lock-step, air, wall clock), but all of
 * them act on the same instant and the same radios, so that state lives here once, in one
 * object each part holds, instead of being passed from hand to hand. The parts reach each
 * other through it as well (`s.links.send`, `s.lockStep.kick` ...); RadioBus wires them.
 */

import { MinHeap } from '@gbhan/clock';
import type { AddressFilter, FilterHeader } from './address-filter.js';
import type { HearStats } from './air-index.js';
import type { BusActions } from './bus-actions.js';
import type { BusAir } from './bus-air.js';
import type { BusConnections, Port } from './bus-connections.js';
import type { BusLockStep } from './bus-lockstep.js';
import type { BusWallClock } from './bus-wall-clock.js';
import type { CapturedFrame } from './capture.js';
import type { DutyCycleMeter, DutyCycleThresholds } from './duty-cycle.js';
import type { BusLinks } from './links.js';
import type { BandModel, Position } from './medium.js';
import type { Band, PhyTiming } from './phy.js';
import type { ClientMessage } from './protocol.js';
import { RadioTimers } from './radio-timers.js';
import type { BusTraceEvent, TraceListener } from './trace.js';

export interface JammerConfig {
  band: Band;
  page: number;
  channel: number;
  position: Position;
  txPowerDbm: number;
  startUs: number;
  endUs: number;
}

export interface Radio {
  eui64: string;
  name: string | undefined;
  port: Port;
  /** Index in `BusState.sorted` (the bus's canonical order), kept by `BusState.setSorted`. */
  order: number;
  /** Mark of the last frame whose reach it was found in (air-index.ts). */
  reachMark: number;
  /** Non-delivery counting (air-index.ts). */
  hear: HearStats;
  /** Its MAC's address filter (address-filter.ts); null: every frame it hears is sent to it. */
  filter: AddressFilter | null;
  /** Sequence number of its last frame that asked for an acknowledgment (-1: none yet). */
  awaitingAck: number;
  /** Index in the path-loss table while registered (and while its frames may still be heard); -1 after. */
  slot: number;
  band: Band;
  page: number;
  channel: number;
  position: Position;
  txPowerDbm: number;
  lossDb: number;
  sensitivityDbm: number;
  /** Given in hello (kept across a band switch) or the band's default (follows the band). */
  explicitTxPower: boolean;
  explicitSensitivity: boolean;
  powered: boolean;
  model: BandModel;
  timing: PhyTiming;
  /** Messages sent to it (every type but `error`): an idle must have seen them all. */
  sent: number;
  /** Sent something, no idle report yet. */
  awaiting: boolean;
  awaitingSinceWall: number;
  /** Virtual instant of its next timer (from its idle report); set through `BusState.setNext`. */
  next: number | null;
  /** Position in `BusState.timers` (-1: not in it). */
  timerSlot: number;
  /** Actions waiting for the barrier; a radio with any is in `BusState.acting`. */
  actions: ClientMessage[];
  /** Its scheduled `tx`/`cca` (sent with `at`) not yet due and not withdrawn. */
  scheduled: ScheduledEvent[];
  channelSince: number;
  poweredSince: number;
  /**
   * Own recent transmissions, for half-duplex checks: start and end of each, flat (start0, end0,
   * start1, ...), so a frame leaves no object behind on a radio that lives the whole run.
   */
  txIntervals: number[];
  /** GB868 duty-cycle meter of this transmitter; kept while the radio is on 2.4 GHz. */
  duty: DutyCycleMeter | null;
  dutyRecheckAt: number | null;
  wakeAt: number;
  wakesAtInstant: number;
  /** Virtual instant of `actionsAtInstant`: actions sent at it so far. */
  actionsAt: number;
  actionsAtInstant: number;
  /** Highest `wake` id not yet answered, or null. */
  wakeId: number | null;
  /** Instant the last `wake` was answered at (one answer per instant while time can move). */
  wokenAt: number;
}

export interface Transmission {
  frame: number;
  from: Radio;
  txId: number;
  /** Its sender wants a `tx-done`. */
  confirm: boolean;
  band: Band;
  page: number;
  channel: number;
  start: number;
  end: number;
  txPowerDbm: number;
  psdu: Uint8Array;
  /** The PSDU as it travels in `rx` messages, encoded once. */
  psduBase64: string;
  /** Its MAC header as the receivers' address filters read it, read once. */
  header: FilterHeader;
}

/** A `tx` or `cca` a radio sent with `at`: applied at that instant's first barrier. */
export interface ScheduledEvent {
  t: number;
  seq: number;
  kind: 'scheduled';
  radio: Radio;
  action: Extract<ClientMessage, { type: 'tx' } | { type: 'cca' }>;
  /** Cancelled, or its radio left: skipped when it comes due (and swept out when many pile up). */
  withdrawn: boolean;
}

export type BusEvent =
  | ScheduledEvent
  | { t: number; seq: number; kind: 'tx-end'; tx: Transmission }
  | { t: number; seq: number; kind: 'duty-recheck'; radio: Radio }
  | { t: number; seq: number; kind: 'jam'; jammer: number; on: boolean }
  | { t: number; seq: number; kind: 'control'; eui64: string; command: Record<string, unknown> }
  | { t: number; seq: number; kind: 'callback'; fn: () => void };

type Unsequenced<E> = E extends unknown ? Omit<E, 'seq'> : never;

export interface Waiter {
  until: number;
  resolve: () => void;
}

/** The bus's settings every part reads: band models and timings, and the start condition. */
export interface BusSettings {
  bandModels: Record<Band, BandModel>;
  timings: Record<Band, PhyTiming>;
  dutyThresholds: DutyCycleThresholds;
  /** Virtual time does not start before this many radios have registered. */
  expectRadios: number;
}

export class BusState {
  /** Current virtual time (us). */
  now = 0;
  private seq = 0;
  readonly queue = new MinHeap<BusEvent>((a, b) => a.t < b.t || (a.t === b.t && a.seq < b.seq));
  readonly ports = new Set<Port>();
  /** Registered radios sorted by EUI64: the bus's canonical order. */
  sorted: Radio[] = [];
  readonly byEui = new Map<string, Radio>();
  /** Radios with an unanswered `wake`. */
  readonly wakers = new Set<Radio>();
  /** Registered radios whose `next` is set, earliest first. */
  readonly timers = new RadioTimers<Radio>();
  /** Registered radios with actions waiting for the barrier. */
  readonly acting = new Set<Radio>();
  readonly jammers: JammerConfig[];

  readonly traceListeners: TraceListener[] = [];
  readonly frameListeners: ((f: CapturedFrame) => void)[] = [];
  waiters: Waiter[] = [];
  until = -1;
  syncPending = true;
  /** Registered radios with `awaiting` set. */
  awaitingCount = 0;
  expectedReached = false;
  /** Outstanding `holdTime()` holds. */
  controllerHolds = 0;
  closed = false;

  // The parts, wired by RadioBus right after this is built.
  links!: BusConnections;
  actions!: BusActions;
  lockStep!: BusLockStep;
  air!: BusAir;
  wall!: BusWallClock;
  /** The wired/IP links (not `links`, which are the clients' connections). */
  netLinks!: BusLinks;

  constructor(
    readonly settings: BusSettings,
    jammers: readonly JammerConfig[],
  ) {
    this.jammers = [...jammers];
  }

  /** Queue a bus event; events at one instant run in the order they were pushed. */
  push(ev: Unsequenced<BusEvent>): void {
    this.queue.push({ ...ev, seq: this.seq++ } as BusEvent);
  }

  /** Scheduled actions withdrawn but still in `queue`. */
  private withdrawnCount = 0;

  /** The earliest bus event that still counts (withdrawn scheduled actions are dropped here). */
  peekEvent(): BusEvent | undefined {
    for (;;) {
      const ev = this.queue.peek();
      if (ev === undefined || ev.kind !== 'scheduled' || !ev.withdrawn) return ev;
      this.queue.pop();
      this.withdrawnCount--;
    }
  }

  /** `radio` scheduled `action` for instant `t` (applied at the barrier, so in the bus's order). */
  schedule(radio: Radio, t: number, action: ScheduledEvent['action']): void {
    const ev: ScheduledEvent = { t, seq: this.seq++, kind: 'scheduled', radio, action, withdrawn: false };
    radio.scheduled.push(ev);
    this.queue.push(ev);
  }

  /** The scheduled action is due: no longer the radio's to withdraw. */
  released(ev: ScheduledEvent): void {
    const list = ev.radio.scheduled;
    const i = list.indexOf(ev);
    if (i >= 0) list.splice(i, 1);
  }

  /**
   * Withdraw `radio`'s scheduled actions with this `id` (all of them with null: it left). They
   * stay in the heap until due, unless they come to half of it: then they are swept out, so a
   * client that schedules far ahead and cancels cannot grow the queue without bound.
   */
  withdraw(radio: Radio, id: number | null): void {
    const list = radio.scheduled;
    let w = 0;
    for (let r = 0; r < list.length; r++) {
      const ev = list[r]!;
      if (id === null || ev.action.id === id) {
        ev.withdrawn = true;
        this.withdrawnCount++;
      } else list[w++] = ev;
    }
    list.length = w;
    if (this.withdrawnCount > 64 && this.withdrawnCount * 2 > this.queue.size) {
      this.queue.removeWhere((e) => e.kind === 'scheduled' && e.withdrawn);
      this.withdrawnCount = 0;
    }
  }

  emit(event: BusTraceEvent): void {
    for (const l of this.traceListeners) l(event);
  }

  /** Set the registered radios (sorted by EUI64) and number them in that order. */
  setSorted(radios: Radio[], from = 0): void {
    this.sorted = radios;
    for (let i = from; i < radios.length; i++) radios[i]!.order = i;
  }

  /** A radio registered: into `sorted` at its EUI64's place (binary search, no re-sort). */
  insertSorted(radio: Radio): void {
    const a = this.sorted;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid]!.eui64 < radio.eui64) lo = mid + 1;
      else hi = mid;
    }
    const radios = a.slice();
    radios.splice(lo, 0, radio);
    this.setSorted(radios, lo);
  }

  /** A radio's timer is now `next` (null: none). */
  setNext(radio: Radio, next: number | null): void {
    radio.next = next;
    if (this.isRegistered(radio)) this.timers.update(radio);
  }

  /** A radio has an action for the barrier. */
  queueAction(radio: Radio, action: ClientMessage): void {
    radio.actions.push(action);
    this.acting.add(radio);
  }

  /** Is `radio` still the one registered under its EUI64 (not detached meanwhile)? */
  isRegistered(radio: Radio): boolean {
    return this.byEui.get(radio.eui64) === radio;
  }
}
