/**
 * The radio bus: the one owner of virtual time and of the shared medium.
 *
 * Conservative lock-step (as OTNS does): every attached radio is either *awaiting* (it was
 * sent something and has not yet reported idle) or idle with a next-timer time. Only when
 * no radio is awaiting does the bus (1) apply the actions radios sent during the instant,
 * in EUI64 order, and (2) advance to the earliest of its own events and the radios' timers.
 * Applying actions at the barrier in a fixed order is what makes a run repeat byte for byte
 * whatever order messages arrived in over the sockets.
 */
import { performance } from 'node:perf_hooks';
import { MinHeap } from '@gbhan/clock';
import type { CapturedFrame } from './capture.js';
import { BusConfigError, mediumModelIssue } from './config.js';
import { DEFAULT_DUTY_CYCLE, DutyCycleMeter, type DutyCycleThresholds } from './duty-cycle.js';
import { type BandModel, DEFAULT_BAND_MODELS, lqiFor, type Position, type Wall } from './medium.js';
import { PathLossTable } from './path-loss-table.js';
import { airtimeUs, type Band, defaultTiming, isValidChannel, type PhyTiming } from './phy.js';
import { Prng } from './prng.js';
import {
  ANY_AUDIBLE_OVERLAP,
  captureEffect,
  type FreeSpaceBand,
  type InterferenceModel,
  type MatrixConfig,
  type PathEnd,
  type PropagationModel,
  type PropagationModelName,
  propagationModelFor,
} from './propagation.js';
import {
  type BusErrorCode,
  type BusMessage,
  BusProtocolError,
  type ClientMessage,
  type HelloMessage,
  PROTOCOL_VERSION,
  parseClientMessage,
} from './protocol.js';
import type { BusTraceEvent, DropReason, TraceListener } from './trace.js';

export interface JammerConfig {
  band: Band;
  page: number;
  channel: number;
  position: Position;
  txPowerDbm: number;
  startUs: number;
  endUs: number;
}

export interface RadioBusConfig {
  /** Seed for loss and shadowing draws; same seed + same inputs = same trace and capture. */
  seed?: number | string;
  bands?: Partial<Record<Band, Partial<BandModel>>>;
  timing?: Partial<Record<Band, Partial<PhyTiming>>>;
  walls?: Wall[];
  /** Probability that a frame a receiver would otherwise get is lost (0..1). */
  lossRate?: number;
  /**
   * Capture effect: a frame survives an overlap if it is this many dB stronger than every
   * interferer at the receiver. null (default) = any audible overlap destroys both.
   */
  captureThresholdDb?: number | null;
  /**
   * Propagation model by name: `log-distance` (default; `bands` path loss and `walls`),
   * `free-space` (Friis; `freeSpace`) or `matrix` (fixed loss per pair; `matrix`).
   */
  model?: PropagationModelName;
  freeSpace?: Partial<Record<Band, FreeSpaceBand>>;
  matrix?: MatrixConfig;
  /** A propagation model of your own instead of a named one. */
  propagation?: PropagationModel;
  /** An interference decision of your own instead of `captureThresholdDb`'s. */
  interference?: InterferenceModel;
  dutyCycle?: Partial<DutyCycleThresholds>;
  jammers?: JammerConfig[];
  /** Pace virtual time to the wall clock (speed 1 = real time). Omitted: as fast as possible. */
  realTime?: { speed: number };
  /** Wall-clock ms a radio may stay awaiting before it is timed out and dropped (0 = never). */
  idleTimeoutMs?: number;
  /** Virtual time does not start before this many radios have registered. */
  expectRadios?: number;
  /**
   * Actions (tx, cca, set-channel, power, trace) one radio may send at one virtual instant
   * before it is dropped with BUS_INSTANT_LIMIT: a client that keeps working would hold time
   * there for ever (0 = no limit).
   */
  maxActionsPerInstant?: number;
  /**
   * Actions one radio may have waiting for the barrier, i.e. sent since its last idle report,
   * before it is dropped with BUS_ACTION_BACKLOG (0 = no limit).
   */
  maxPendingActions?: number;
  /**
   * Bytes of bus messages a client may leave unread (a socket's unsent backlog) before it is
   * dropped with BUS_SEND_BACKLOG (0 = no limit).
   */
  maxSendBacklogBytes?: number;
}

/** Defaults far above what any shipped scenario's device reaches (at most 12 actions at one instant). */
export const DEFAULT_MAX_ACTIONS_PER_INSTANT = 10_000;
export const DEFAULT_MAX_PENDING_ACTIONS = 1000;
/** A well-behaved client has at most one lock-step round unread (kilobytes). */
export const DEFAULT_MAX_SEND_BACKLOG_BYTES = 16 * 1024 * 1024;

/** How the bus reaches one client: a socket or the in-process transport. */
export interface BusLink {
  send(msg: BusMessage): void;
  close(): void;
  /** Bytes sent but not yet taken by the client; a link without it never backs up. */
  backlogBytes?(): number;
  /** Cut the connection at once, without a closing handshake the client would never read. */
  abort?(): void;
}

interface Radio {
  eui64: string;
  name: string | undefined;
  port: Port;
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
  /** Sent something, no idle report yet. */
  awaiting: boolean;
  awaitingSinceWall: number;
  next: number | null;
  actions: ClientMessage[];
  channelSince: number;
  poweredSince: number;
  /** Own recent transmissions, for half-duplex checks. */
  txIntervals: { start: number; end: number }[];
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

/** Timer wake-ups of one radio at one virtual instant before it is judged stuck. */
const MAX_WAKES_PER_INSTANT = 1000;

interface Transmission {
  frame: number;
  from: Radio;
  txId: number;
  band: Band;
  page: number;
  channel: number;
  start: number;
  end: number;
  txPowerDbm: number;
  psdu: Uint8Array;
  /** The PSDU as it travels in `rx` messages, encoded once. */
  psduBase64: string;
}

type BusEvent =
  | { t: number; seq: number; kind: 'tx-end'; tx: Transmission }
  | { t: number; seq: number; kind: 'duty-recheck'; radio: Radio }
  | { t: number; seq: number; kind: 'jam'; jammer: number; on: boolean }
  | { t: number; seq: number; kind: 'control'; eui64: string; command: Record<string, unknown> }
  | { t: number; seq: number; kind: 'callback'; fn: () => void };

type Unsequenced<E> = E extends unknown ? Omit<E, 'seq'> : never;

/** One attached client. `receive` takes decoded-but-unvalidated messages. */
export class Port {
  radio: Radio | null = null;
  closed = false;
  constructor(
    private readonly bus: RadioBus,
    readonly link: BusLink,
  ) {}

  /** A message from the client (a parsed JSON value, not yet validated). */
  receive(value: unknown): void {
    if (this.closed) return;
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(value);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.bus.handle(this, msg);
  }

  /** Report a protocol error to this client and disconnect it. */
  fail(error: unknown): void {
    if (this.closed) return;
    const code: BusErrorCode = error instanceof BusProtocolError ? error.code : 'BUS_MALFORMED';
    const message = error instanceof Error ? error.message : String(error);
    this.bus.reportError(this, code, message);
  }

  /** The transport went away (socket closed, process died). */
  detached(reason = 'disconnected'): void {
    if (this.closed) return;
    this.closed = true;
    this.bus.detach(this, reason);
  }
}

interface Waiter {
  until: number;
  resolve: () => void;
}

export class RadioBus {
  private now = 0;
  private seq = 0;
  private frameSeq = 0;
  private readonly prng: Prng;
  private readonly bandModels: Record<Band, BandModel>;
  private readonly timings: Record<Band, PhyTiming>;
  private readonly dutyThresholds: DutyCycleThresholds;
  private readonly propagation: PropagationModel;
  private readonly interference: InterferenceModel;
  private readonly lossRate: number;
  private readonly jammers: JammerConfig[];
  private readonly idleTimeoutMs: number;
  private readonly expectRadios: number;
  private readonly realTime: { speed: number } | null;
  private readonly maxActionsPerInstant: number;
  private readonly maxPendingActions: number;
  private readonly maxSendBacklogBytes: number;

  private readonly ports = new Set<Port>();
  /** Registered radios sorted by EUI64: the bus's canonical order. */
  private sorted: Radio[] = [];
  private readonly byEui = new Map<string, Radio>();
  /** Radios with an unanswered `wake`. */
  private readonly wakers = new Set<Radio>();
  private readonly queue = new MinHeap<BusEvent>((a, b) => a.t < b.t || (a.t === b.t && a.seq < b.seq));
  private onAir: Transmission[] = [];
  private readonly pathLoss: PathLossTable;
  /** Radios gone from the bus whose frames are still on the air: their path losses are kept until then. */
  private retiring: Radio[] = [];
  private maxAirtime = 0;

  private readonly traceListeners: TraceListener[] = [];
  private readonly frameListeners: ((f: CapturedFrame) => void)[] = [];
  private waiters: Waiter[] = [];
  private until = -1;
  private stepping = false;
  private syncPending = true;
  /** Registered radios with `awaiting` set. */
  private awaitingCount = 0;
  private expectedReached = false;
  /** Outstanding `holdTime()` holds. */
  private controllerHolds = 0;
  private closed = false;
  private watchdog: NodeJS.Timeout | null = null;
  private pacing: NodeJS.Timeout | null = null;
  /** The virtual instant the pacing timer waits for. */
  private pacingFor = 0;
  /** Real-time mode: wall ms at which virtual time `virtAnchor` started (0 = not yet). */
  private wallAnchor = 0;
  private virtAnchor = 0;

  constructor(config: RadioBusConfig = {}) {
    this.prng = new Prng(config.seed ?? 1);
    this.bandModels = {
      '2.4GHz': { ...DEFAULT_BAND_MODELS['2.4GHz'], ...config.bands?.['2.4GHz'] },
      GB868: { ...DEFAULT_BAND_MODELS.GB868, ...config.bands?.GB868 },
    };
    this.timings = {
      '2.4GHz': { ...defaultTiming('2.4GHz'), ...config.timing?.['2.4GHz'] },
      GB868: { ...defaultTiming('GB868'), ...config.timing?.GB868 },
    };
    for (const b of ['2.4GHz', 'GB868'] as const) {
      this.maxAirtime = Math.max(this.maxAirtime, airtimeUs(this.timings[b].maxPsduBytes, this.timings[b]));
    }
    this.dutyThresholds = { ...DEFAULT_DUTY_CYCLE, ...config.dutyCycle };
    // Programmatic configs get the checks a medium file gets from parseMediumConfig.
    const issue = mediumModelIssue(config);
    if (issue !== null) throw new BusConfigError(issue.path.join('.'), issue.message);
    if (config.propagation !== undefined && config.model !== undefined)
      throw new BusConfigError('propagation', 'a model of your own or a model by name, not both');
    if (config.interference !== undefined && config.captureThresholdDb != null)
      throw new BusConfigError('interference', 'a decision of your own or captureThresholdDb, not both');
    this.propagation = config.propagation ?? propagationModelFor(config, this.bandModels);
    this.pathLoss = new PathLossTable(this.propagation.reciprocal);
    this.lossRate = config.lossRate ?? 0;
    const capture = config.captureThresholdDb ?? null;
    this.interference =
      config.interference ?? (capture === null ? ANY_AUDIBLE_OVERLAP : captureEffect(capture));
    this.jammers = [...(config.jammers ?? [])];
    this.idleTimeoutMs = config.idleTimeoutMs ?? 10_000;
    this.expectRadios = config.expectRadios ?? 0;
    this.realTime = config.realTime ?? null;
    this.maxActionsPerInstant = config.maxActionsPerInstant ?? DEFAULT_MAX_ACTIONS_PER_INSTANT;
    this.maxPendingActions = config.maxPendingActions ?? DEFAULT_MAX_PENDING_ACTIONS;
    this.maxSendBacklogBytes = config.maxSendBacklogBytes ?? DEFAULT_MAX_SEND_BACKLOG_BYTES;
    for (const [i, j] of this.jammers.entries()) this.scheduleJammer(j, i);
  }

  /** Current virtual time (us). */
  get time(): number {
    return this.now;
  }

  get radioCount(): number {
    return this.sorted.length;
  }

  onTrace(listener: TraceListener): void {
    this.traceListeners.push(listener);
  }

  /** Every frame put on the air, at its start time (what a sniffer captures). */
  onFrame(listener: (f: CapturedFrame) => void): void {
    this.frameListeners.push(listener);
  }

  /** Attach a client transport; the returned port is fed with the client's messages. */
  attach(link: BusLink): Port {
    const port = new Port(this, link);
    if (this.closed) {
      link.send({ type: 'error', t: this.now, code: 'BUS_SHUTDOWN', message: 'the bus is shutting down' });
      link.close();
      port.closed = true;
      return port;
    }
    this.ports.add(port);
    return port;
  }

  /** Add a jammer at run time (radio faults in scenarios). */
  addJammer(j: JammerConfig): void {
    this.jammers.push(j);
    this.scheduleJammer(j, this.jammers.length - 1);
    this.kick();
  }

  /**
   * Deliver `command` to the device behind radio `eui64` at virtual time `atUs` (scenario
   * timelines use this: power, Device Log updates, WAN up/down ...). Traced either way.
   */
  scheduleControl(eui64: string, atUs: number, command: Record<string, unknown>): void {
    this.push({ t: Math.max(this.now, Math.round(atUs)), kind: 'control', eui64, command });
    this.kick();
  }

  /**
   * Run `fn` in the controller at virtual time `atUs`, in order with the bus's other events
   * (a scenario runner crashes and restarts device processes this way).
   */
  schedule(atUs: number, fn: () => void): void {
    this.push({ t: Math.max(this.now, Math.round(atUs)), kind: 'callback', fn });
    this.kick();
  }

  /**
   * Keep virtual time where it is until the returned function is called (e.g. while a
   * restarted device process connects). Messages are still handled; only advancing waits.
   */
  holdTime(): () => void {
    this.controllerHolds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.controllerHolds--;
      this.kick();
    };
  }

  /** Take a radio off the bus now, as if its device had died; its connection is closed. */
  detachRadio(eui64: string, reason: string): boolean {
    const radio = this.byEui.get(eui64);
    if (radio === undefined) return false;
    radio.port.closed = true;
    this.detach(radio.port, reason);
    radio.port.link.close();
    return true;
  }

  /**
   * Let virtual time run up to `untilUs` (inclusive). Resolves once time has reached it and
   * every radio is idle, or earlier if nothing at all is left to happen before it.
   */
  runUntil(untilUs: number): Promise<void> {
    this.until = Math.max(this.until, untilUs);
    this.syncPending = true;
    this.anchorPacing();
    const p = new Promise<void>((resolve) => this.waiters.push({ until: untilUs, resolve }));
    this.kick();
    return p;
  }

  /** Disconnect every client and stop. Pending runUntil promises resolve. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const port of [...this.ports]) {
      port.closed = true;
      this.detach(port, 'shutdown');
      port.link.close();
    }
    this.clearTimers();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  // ---- client messages -------------------------------------------------------------------

  /** @internal called by Port with a validated message. */
  handle(port: Port, msg: ClientMessage): void {
    const radio = port.radio;
    if (msg.type === 'hello') {
      this.register(port, msg);
      return;
    }
    if (radio === null) {
      this.reportError(port, 'BUS_NOT_REGISTERED', `${msg.type} before hello`);
      return;
    }
    switch (msg.type) {
      case 'idle':
        radio.next = msg.next;
        if (radio.awaiting) {
          radio.awaiting = false;
          this.awaitingCount--;
        }
        this.kick();
        return;
      case 'wake':
        // Not an action and not awaiting: the radio stays idle (its device may hold it while it
        // waits for the answer), and the answer goes out at the next barrier (answerWakes).
        radio.wakeId = Math.max(radio.wakeId ?? 0, msg.id);
        this.wakers.add(radio);
        this.kick();
        return;
      case 'bye':
        port.closed = true;
        this.detach(port, 'bye');
        port.link.close();
        return;
      default:
        // tx, cca, set-channel, power, trace: applied at the next barrier, in EUI64 order.
        if (this.overActionLimits(radio)) return;
        radio.actions.push(msg);
        this.markAwaiting(radio);
    }
  }

  /**
   * Count one more action of `radio` and drop the radio if it is past a bound: one that keeps
   * working at an instant would hold time there, one that never idles would grow its queue.
   */
  private overActionLimits(radio: Radio): boolean {
    if (radio.actionsAt !== this.now) {
      radio.actionsAt = this.now;
      radio.actionsAtInstant = 0;
    }
    radio.actionsAtInstant++;
    if (this.maxPendingActions > 0 && radio.actions.length >= this.maxPendingActions) {
      this.reportError(
        radio.port,
        'BUS_ACTION_BACKLOG',
        `more than ${this.maxPendingActions} actions without an idle report`,
      );
      return true;
    }
    if (this.maxActionsPerInstant > 0 && radio.actionsAtInstant > this.maxActionsPerInstant) {
      this.reportError(
        radio.port,
        'BUS_INSTANT_LIMIT',
        `more than ${this.maxActionsPerInstant} actions at t=${this.now}`,
      );
      return true;
    }
    return false;
  }

  private register(port: Port, msg: HelloMessage): void {
    if (port.radio !== null) {
      this.reportError(port, 'BUS_ALREADY_REGISTERED', `already registered as ${port.radio.eui64}`);
      return;
    }
    if (msg.version !== PROTOCOL_VERSION) {
      this.reportError(
        port,
        'BUS_VERSION',
        `protocol version ${msg.version} not supported (this bus speaks ${PROTOCOL_VERSION})`,
      );
      return;
    }
    if (this.byEui.has(msg.eui64)) {
      this.reportError(port, 'BUS_DUPLICATE_EUI64', `${msg.eui64} is already on the bus`);
      return;
    }
    if (!isValidChannel(msg.band, msg.page, msg.channel)) {
      this.reportError(
        port,
        'BUS_BAD_CHANNEL',
        `page ${msg.page} channel ${msg.channel} is not on band ${msg.band}`,
      );
      return;
    }
    const model = this.bandModels[msg.band];
    const radio: Radio = {
      eui64: msg.eui64,
      name: msg.name,
      port,
      slot: this.pathLoss.acquire(),
      band: msg.band,
      page: msg.page,
      channel: msg.channel,
      position: msg.position,
      txPowerDbm: msg.txPowerDbm ?? model.defaultTxPowerDbm,
      lossDb: msg.lossDb ?? 0,
      sensitivityDbm: msg.sensitivityDbm ?? model.defaultSensitivityDbm,
      explicitTxPower: msg.txPowerDbm !== undefined,
      explicitSensitivity: msg.sensitivityDbm !== undefined,
      powered: msg.powered ?? true,
      model,
      timing: this.timings[msg.band],
      awaiting: false,
      awaitingSinceWall: 0,
      next: null,
      actions: [],
      channelSince: this.now,
      poweredSince: this.now,
      txIntervals: [],
      duty: msg.band === 'GB868' ? new DutyCycleMeter(this.dutyThresholds) : null,
      dutyRecheckAt: null,
      wakeAt: -1,
      wakesAtInstant: 0,
      actionsAt: -1,
      actionsAtInstant: 0,
      wakeId: null,
      wokenAt: -1,
    };
    port.radio = radio;
    this.byEui.set(radio.eui64, radio);
    this.sorted.push(radio);
    this.sorted.sort((a, b) => (a.eui64 < b.eui64 ? -1 : a.eui64 > b.eui64 ? 1 : 0));
    this.emit({
      t: this.now,
      type: 'attach',
      radio: radio.eui64,
      ...(radio.name === undefined ? {} : { name: radio.name }),
      band: radio.band,
      page: radio.page,
      channel: radio.channel,
      position: radio.position,
    });
    this.send(radio, { type: 'welcome', version: PROTOCOL_VERSION, t: this.now, eui64: radio.eui64 });
    this.anchorPacing();
  }

  /** @internal */
  reportError(port: Port, code: BusErrorCode, message: string): void {
    this.emit({ t: this.now, type: 'error', radio: port.radio?.eui64 ?? null, code, message });
    try {
      port.link.send({ type: 'error', t: this.now, code, message });
    } finally {
      port.closed = true;
      this.detach(port, code);
      port.link.close();
    }
  }

  /** @internal the client is gone: take it out of the lock-step so time keeps moving. */
  detach(port: Port, reason: string): void {
    this.ports.delete(port);
    const radio = port.radio;
    if (radio !== null && this.byEui.get(radio.eui64) === radio) {
      if (radio.awaiting) {
        radio.awaiting = false;
        this.awaitingCount--;
      }
      this.byEui.delete(radio.eui64);
      this.wakers.delete(radio);
      this.sorted = this.sorted.filter((r) => r !== radio);
      this.retiring.push(radio);
      this.releaseRetired();
      this.emit({ t: this.now, type: 'detach', radio: radio.eui64, reason });
    }
    this.kick();
  }

  // ---- the lock-step ----------------------------------------------------------------------

  private markAwaiting(radio: Radio): void {
    if (!radio.awaiting) {
      radio.awaiting = true;
      this.awaitingCount++;
      radio.awaitingSinceWall = performance.now();
      // No watchdog running means no other radio is awaiting: this deadline is the earliest.
      this.armWatchdog();
    }
  }

  private send(radio: Radio, msg: BusMessage): void {
    // A radio dropped earlier in this barrier must not be counted as awaiting again.
    if (radio.port.closed) return;
    this.markAwaiting(radio);
    const link = radio.port.link;
    link.send(msg);
    if (this.maxSendBacklogBytes > 0 && link.backlogBytes !== undefined) {
      const backlog = link.backlogBytes();
      if (backlog > this.maxSendBacklogBytes) {
        this.reportError(
          radio.port,
          'BUS_SEND_BACKLOG',
          `${backlog} bytes unread (more than ${this.maxSendBacklogBytes})`,
        );
        // It does not read: a closing handshake would keep the backlog for the close timeout.
        link.abort?.();
      }
    }
  }

  /** Try to make progress; safe to call from anywhere (re-entrant calls are folded). */
  private kick(): void {
    if (this.stepping || this.closed) return;
    this.stepping = true;
    try {
      this.step();
    } finally {
      this.stepping = false;
    }
  }

  private anyAwaiting(): boolean {
    return this.awaitingCount > 0;
  }

  private step(): void {
    for (;;) {
      if (this.closed) return;
      if (this.anyAwaiting()) {
        this.armWatchdog();
        return;
      }
      if (this.applyActions()) continue;
      if (this.answerWakes()) continue;
      if (this.pacing !== null && this.nextEventTime() < this.pacingFor) {
        // Something earlier than what pacing waits for came up meanwhile (a woken device's new
        // timer): pace to that instead of sleeping through it.
        clearTimeout(this.pacing);
        this.pacing = null;
      }
      if (this.pacing !== null || this.controllerHolds > 0) return;
      // Only the start waits for the expected radios; later departures do not stop time.
      if (!this.expectedReached) {
        if (this.sorted.length < this.expectRadios) return;
        this.expectedReached = true;
      }
      if (this.until < 0) return;
      if (this.syncPending) {
        // Sync round, at the start and at every runUntil: wake every radio at the current
        // instant. Messages on a link are ordered, so the idle replies carry whatever a device
        // did while time stood still (timers set by test code, by a socket client before time
        // began), even if its own updates were still in flight.
        this.syncPending = false;
        for (const r of this.sorted) this.send(r, { type: 'time', t: this.now });
        continue;
      }

      let tNext = this.queue.peek()?.t ?? Number.POSITIVE_INFINITY;
      for (const r of this.sorted) if (r.next !== null && r.next < tNext) tNext = r.next;
      tNext = Math.max(tNext, this.now);
      if (tNext > this.until || tNext === Number.POSITIVE_INFINITY) {
        if (!Number.isFinite(this.until)) return; // nothing to do: wait for clients
        if (this.waitForWall(this.until)) return;
        if (this.now < this.until) {
          // Nothing happens before the end: jump there and bring every device's clock along,
          // so that what a caller does after runUntil starts from the bus's time.
          this.now = this.until;
          for (const r of this.sorted) this.send(r, { type: 'time', t: this.now });
          continue;
        }
        this.resolveWaiters();
        return;
      }
      if (this.waitForWall(tNext)) return;
      this.advanceTo(tNext);
      this.resolveWaiters();
    }
  }

  /**
   * Answer the radios' `wake` requests at a barrier. Real-time mode, once time runs: virtual
   * time first moves to the instant the wall clock has reached, but stays before the next
   * scheduled event (events and radios' timers), so lock-step holds; otherwise the answer is
   * the current instant. A radio is answered once per instant while the bus has something to
   * advance to, so a device that keeps asking cannot stop time. Returns true if it sent any.
   */
  private answerWakes(): boolean {
    if (this.wakers.size === 0) return false;
    const tNext = this.nextEventTime();
    const running =
      this.until >= 0 &&
      this.controllerHolds === 0 &&
      (this.expectedReached || this.sorted.length >= this.expectRadios);
    if (this.realTime !== null && running && this.wallAnchor !== 0) {
      const target = Math.min(this.pacedNow(), tNext - 1, this.until);
      if (target > this.now) this.now = target;
    }
    const canAdvance = running && tNext <= this.until && Number.isFinite(tNext);
    let sent = false;
    for (const r of this.sorted.filter((x) => this.wakers.has(x))) {
      if (r.wakeId === null || (canAdvance && r.wokenAt === this.now)) continue;
      const id = r.wakeId;
      r.wakeId = null;
      this.wakers.delete(r);
      r.wokenAt = this.now;
      this.send(r, { type: 'time', t: this.now, wake: id });
      sent = true;
    }
    return sent;
  }

  /** The earliest bus event or radio timer (infinity if none). */
  private nextEventTime(): number {
    let t = this.queue.peek()?.t ?? Number.POSITIVE_INFINITY;
    for (const r of this.sorted) if (r.next !== null && r.next < t) t = r.next;
    return t;
  }

  /** Real-time mode: the virtual instant the wall clock has reached (reads it, as pacing does). */
  private pacedNow(): number {
    const speed = this.realTime?.speed ?? 1;
    return Math.floor(this.virtAnchor + (performance.now() - this.wallAnchor) * 1000 * speed);
  }

  private resolveWaiters(): void {
    if (this.waiters.length === 0) return;
    const done = this.waiters.filter((w) => w.until <= this.now);
    if (done.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.until > this.now);
    for (const w of done) w.resolve();
  }

  /**
   * Real-time mode: pacing starts with virtual time, once runUntil has been called and the
   * expected radios have registered, not before: the wall time spent waiting for them is not
   * owed, or the first seconds would run unpaced.
   */
  private anchorPacing(): void {
    if (this.realTime === null || this.wallAnchor !== 0 || this.until < 0) return;
    if (!this.expectedReached && this.sorted.length < this.expectRadios) return;
    this.wallAnchor = performance.now();
    this.virtAnchor = this.now;
  }

  /** Real-time mode: if the wall clock is behind `t`, wait for it (returns true if waiting). */
  private waitForWall(t: number): boolean {
    if (this.realTime === null || t <= this.now) return false;
    const due = this.wallAnchor + (t - this.virtAnchor) / 1000 / this.realTime.speed;
    const wait = due - performance.now();
    if (wait <= 0.5) return false;
    // Real-time pacing is the one place virtual time waits on the wall clock.
    this.pacingFor = t;
    this.pacing = setTimeout(() => {
      this.pacing = null;
      this.kick();
    }, wait);
    return true;
  }

  /**
   * Idle watchdog (wall clock): a radio that never reports idle is dropped, not waited on.
   * While any radio is awaiting, one timer runs for the earliest deadline (a radio that starts
   * awaiting later has a later one), so a drop comes when it is due, not up to a period late.
   */
  private armWatchdog(delayMs = this.idleTimeoutMs): void {
    if (this.watchdog !== null || this.idleTimeoutMs <= 0 || this.closed) return;
    this.watchdog = setTimeout(() => this.watchdogFired(), delayMs);
  }

  private watchdogFired(): void {
    this.watchdog = null;
    const now = performance.now();
    const expired: Radio[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const r of this.sorted) {
      if (!r.awaiting) continue;
      const due = r.awaitingSinceWall + this.idleTimeoutMs;
      if (due <= now) expired.push(r);
      else next = Math.min(next, due);
    }
    // Re-armed before the drops: radios they make the bus wake start awaiting after `next`'s.
    if (next !== Number.POSITIVE_INFINITY) this.armWatchdog(next - now);
    for (const r of expired) {
      this.reportError(r.port, 'BUS_IDLE_TIMEOUT', `no idle report within ${this.idleTimeoutMs} ms`);
    }
    this.kick();
  }

  private clearTimers(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    if (this.pacing !== null) clearTimeout(this.pacing);
    this.watchdog = null;
    this.pacing = null;
  }

  /** Apply queued client actions in EUI64 order, then each radio's in arrival order. */
  private applyActions(): boolean {
    let any = false;
    for (const radio of this.sorted) {
      if (radio.actions.length === 0) continue;
      any = true;
      const actions = radio.actions;
      radio.actions = [];
      for (const a of actions) {
        if (this.byEui.get(radio.eui64) !== radio) break;
        this.applyAction(radio, a);
      }
    }
    return any;
  }

  private applyAction(radio: Radio, a: ClientMessage): void {
    switch (a.type) {
      case 'tx':
        this.startTransmission(radio, a.id, a.psdu);
        return;
      case 'cca':
        this.send(radio, { type: 'cca-result', t: this.now, id: a.id, busy: this.channelBusy(radio) });
        return;
      case 'set-channel': {
        const band = a.band ?? radio.band;
        if (!isValidChannel(band, a.page, a.channel)) {
          this.reportError(
            radio.port,
            'BUS_BAD_CHANNEL',
            `page ${a.page} channel ${a.channel} is not on band ${band}`,
          );
          return;
        }
        if (band !== radio.band) this.switchBand(radio, band);
        radio.page = a.page;
        radio.channel = a.channel;
        radio.channelSince = this.now;
        this.emit({
          t: this.now,
          type: 'channel',
          radio: radio.eui64,
          page: a.page,
          channel: a.channel,
          ...(a.band === undefined ? {} : { band }),
        });
        return;
      }
      case 'trace':
        this.emit({ t: this.now, type: 'device', radio: radio.eui64, event: a.event });
        return;
      case 'power':
        if (radio.powered === a.on) return;
        radio.powered = a.on;
        radio.poweredSince = this.now;
        this.emit({ t: this.now, type: 'power', radio: radio.eui64, on: a.on });
        return;
      default:
        return;
    }
  }

  /**
   * A dual-band radio moves to the other band: that band's propagation model and PHY timing,
   * its default tx power and sensitivity unless hello gave them. The GB868 duty-cycle meter
   * stays with the transmitter, so time spent on 2.4 GHz does not reset the rolling hour.
   */
  private switchBand(radio: Radio, band: Band): void {
    const model = this.bandModels[band];
    radio.band = band;
    radio.model = model;
    radio.timing = this.timings[band];
    if (!radio.explicitTxPower) radio.txPowerDbm = model.defaultTxPowerDbm;
    if (!radio.explicitSensitivity) radio.sensitivityDbm = model.defaultSensitivityDbm;
    if (band === 'GB868') radio.duty ??= new DutyCycleMeter(this.dutyThresholds);
  }

  private advanceTo(t: number): void {
    this.now = t;
    for (;;) {
      const ev = this.queue.peek();
      if (ev === undefined || ev.t > t) break;
      this.queue.pop();
      if (ev.kind === 'tx-end') this.endTransmission(ev.tx);
      else if (ev.kind === 'duty-recheck') this.dutyRecheck(ev.radio);
      else if (ev.kind === 'callback') ev.fn();
      else if (ev.kind === 'control') {
        const radio = this.byEui.get(ev.eui64);
        this.emit({
          t,
          type: 'control',
          radio: ev.eui64,
          command: ev.command,
          delivered: radio !== undefined,
        });
        if (radio !== undefined) this.send(radio, { type: 'control', t, command: ev.command });
      } else {
        const j = this.jammers[ev.jammer]!;
        this.emit({
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
    for (const r of this.sorted) {
      if (r.next !== null && r.next <= t && !r.awaiting) {
        r.next = null;
        if (r.wakeAt === t) r.wakesAtInstant++;
        else {
          r.wakeAt = t;
          r.wakesAtInstant = 1;
        }
        if (r.wakesAtInstant > MAX_WAKES_PER_INSTANT) {
          // A device that keeps asking to be woken at the same instant would stop time.
          this.reportError(
            r.port,
            'BUS_TIME_STUCK',
            `asked to be woken ${MAX_WAKES_PER_INSTANT} times at t=${t}`,
          );
          continue;
        }
        this.send(r, { type: 'time', t });
      }
    }
  }

  private push(ev: Unsequenced<BusEvent>): void {
    this.queue.push({ ...ev, seq: this.seq++ } as BusEvent);
  }

  private scheduleJammer(j: JammerConfig, index: number): void {
    if (!isValidChannel(j.band, j.page, j.channel)) {
      throw new BusProtocolError(
        'BUS_BAD_CHANNEL',
        `jammer page ${j.page} channel ${j.channel} is not on band ${j.band}`,
      );
    }
    this.push({ t: Math.max(this.now, j.startUs), kind: 'jam', jammer: index, on: true });
    this.push({ t: Math.max(this.now, j.endUs), kind: 'jam', jammer: index, on: false });
  }

  // ---- the medium -------------------------------------------------------------------------

  private startTransmission(radio: Radio, txId: number, psduB64: string): void {
    const psdu = new Uint8Array(Buffer.from(psduB64, 'base64'));
    if (psdu.length > radio.timing.maxPsduBytes || psdu.length === 0) {
      this.reportError(
        radio.port,
        'BUS_PSDU_TOO_LONG',
        `PSDU of ${psdu.length} bytes (1..${radio.timing.maxPsduBytes} allowed)`,
      );
      return;
    }
    const airtime = airtimeUs(psdu.length, radio.timing);
    const refuse = (status: 'busy' | 'off' | 'duty-cycle') =>
      this.send(radio, { type: 'tx-done', t: this.now, id: txId, status, airtimeUs: 0 });
    if (!radio.powered) {
      refuse('off');
      return;
    }
    const last = radio.txIntervals[radio.txIntervals.length - 1];
    if (last !== undefined && last.end > this.now) {
      refuse('busy');
      return;
    }
    const duty = radio.band === 'GB868' ? radio.duty : null;
    if (duty?.wouldExceed(this.now, airtime)) {
      this.emit({
        t: this.now,
        type: 'drop',
        radio: null,
        from: radio.eui64,
        frame: null,
        reason: 'duty-cycle',
      });
      this.updateDutyState(radio, this.now, airtime);
      refuse('duty-cycle');
      return;
    }
    const tx: Transmission = {
      frame: this.frameSeq++,
      from: radio,
      txId,
      band: radio.band,
      page: radio.page,
      channel: radio.channel,
      start: this.now,
      end: this.now + airtime,
      txPowerDbm: radio.txPowerDbm,
      psdu,
      psduBase64: psduB64,
    };
    radio.txIntervals.push({ start: tx.start, end: tx.end });
    this.onAir.push(tx);
    this.emit({
      t: this.now,
      type: 'tx',
      radio: radio.eui64,
      frame: tx.frame,
      band: tx.band,
      page: tx.page,
      channel: tx.channel,
      bytes: psdu.length,
      airtimeUs: airtime,
      psdu: Buffer.from(psdu).toString('hex'),
    });
    for (const l of this.frameListeners) {
      l({ timeUs: tx.start, psdu, page: tx.page, channel: tx.channel, source: radio.eui64 });
    }
    if (duty !== null) {
      duty.record(this.now, airtime);
      this.updateDutyState(radio, tx.end, 0);
    }
    this.push({ t: tx.end, kind: 'tx-end', tx });
  }

  private endTransmission(tx: Transmission): void {
    const horizon = this.now - this.maxAirtime;
    this.onAir = this.onAir.filter((o) => o.end >= horizon || o === tx);
    if (this.retiring.length > 0) this.releaseRetired();
    const overlapping = this.onAir.filter(
      (o) =>
        o !== tx &&
        o.band === tx.band &&
        o.page === tx.page &&
        o.channel === tx.channel &&
        o.start < tx.end &&
        o.end > tx.start,
    );
    const activeJammers = this.jammers.filter(
      (j) =>
        j.band === tx.band &&
        j.page === tx.page &&
        j.channel === tx.channel &&
        j.startUs < tx.end &&
        j.endUs > tx.start,
    );
    for (const r of this.sorted) {
      if (r === tx.from || r.band !== tx.band) continue;
      const rssi = this.receivedPower(tx.from, r, tx.txPowerDbm, tx.band);
      const audible = rssi >= r.sensitivityDbm;
      const sameChannel = r.page === tx.page && r.channel === tx.channel;
      if (!audible) {
        if (sameChannel) this.drop(tx, r, 'out-of-range');
        continue;
      }
      let reason: DropReason | null = null;
      if (!sameChannel || r.channelSince > tx.start) reason = 'wrong-channel';
      else if (!r.powered || r.poweredSince > tx.start) reason = 'receiver-off';
      else if (r.txIntervals.some((i) => i.start < tx.end && i.end > tx.start)) reason = 'receiver-busy';
      else if (
        activeJammers.some((j) => this.powerAt(j.position, j.txPowerDbm, r, j.band) >= r.sensitivityDbm)
      )
        reason = 'jammed';
      else if (this.collides(rssi, r, overlapping)) reason = 'collision';
      else if (this.lossRate > 0 && this.prng.next() < this.lossRate) reason = 'loss';
      if (reason !== null) {
        this.drop(tx, r, reason);
        continue;
      }
      const lqi = lqiFor(rssi, r.sensitivityDbm, r.model);
      this.emit({
        t: this.now,
        type: 'rx',
        radio: r.eui64,
        from: tx.from.eui64,
        frame: tx.frame,
        rssi: round1(rssi),
        lqi,
      });
      this.send(r, {
        type: 'rx',
        t: this.now,
        start: tx.start,
        psdu: tx.psduBase64,
        rssi: Math.round(rssi),
        lqi,
      });
    }
    const from = tx.from;
    from.txIntervals = from.txIntervals.filter((i) => i.end >= horizon);
    if (this.byEui.get(from.eui64) === from) {
      this.send(from, {
        type: 'tx-done',
        t: this.now,
        id: tx.txId,
        status: 'sent',
        airtimeUs: tx.end - tx.start,
      });
    }
  }

  private collides(rssi: number, r: Radio, overlapping: Transmission[]): boolean {
    for (const o of overlapping) {
      if (o.from === r) continue;
      const other = this.receivedPower(o.from, r, o.txPowerDbm, o.band);
      if (this.interference.destroys(rssi, other, r.sensitivityDbm)) return true;
    }
    return false;
  }

  private drop(tx: Transmission, r: Radio, reason: DropReason): void {
    this.emit({ t: this.now, type: 'drop', radio: r.eui64, from: tx.from.eui64, frame: tx.frame, reason });
  }

  /** Carrier sense: is any audible frame or jammer on this radio's channel right now? */
  private channelBusy(r: Radio): boolean {
    for (const o of this.onAir) {
      if (o.from === r || o.band !== r.band || o.page !== r.page || o.channel !== r.channel) continue;
      if (
        o.start <= this.now &&
        o.end > this.now &&
        this.receivedPower(o.from, r, o.txPowerDbm, o.band) >= r.sensitivityDbm
      )
        return true;
    }
    return this.jammers.some(
      (j) =>
        j.band === r.band &&
        j.page === r.page &&
        j.channel === r.channel &&
        j.startUs <= this.now &&
        j.endUs > this.now &&
        this.powerAt(j.position, j.txPowerDbm, r, j.band) >= r.sensitivityDbm,
    );
  }

  /** Received power at `to` from `from` (dBm), shadowing drawn per call when the model has it. */
  private receivedPower(from: Radio, to: Radio, txPowerDbm: number, band: Band): number {
    let loss = from.slot < 0 || to.slot < 0 ? Number.NaN : this.pathLoss.get(band, from.slot, to.slot);
    if (Number.isNaN(loss)) {
      loss = this.propagation.pathLossDb(from, to, band);
      if (Number.isNaN(loss)) throw new Error(`propagation model ${this.propagation.name}: path loss NaN`);
      if (from.slot >= 0 && to.slot >= 0) this.pathLoss.set(band, from.slot, to.slot, loss);
    }
    const shadow = this.propagation.shadowingDb(from, to, band, this.prng);
    return txPowerDbm - loss - from.lossDb - to.lossDb + shadow;
  }

  /** Received power at `to` from a jammer at `position` (no shadowing, not cached). */
  private powerAt(position: Position, txPowerDbm: number, to: Radio, band: Band): number {
    const jammer: PathEnd = { eui64: null, position };
    return txPowerDbm - this.propagation.pathLossDb(jammer, to, band) - to.lossDb;
  }

  /** Free the path-loss slots of radios gone from the bus once none of their frames is on the air. */
  private releaseRetired(): void {
    this.retiring = this.retiring.filter((r) => {
      if (this.onAir.some((o) => o.from === r)) return true;
      this.pathLoss.release(r.slot);
      r.slot = -1;
      return false;
    });
  }

  // ---- duty cycle -------------------------------------------------------------------------

  private updateDutyState(radio: Radio, at: number, extra: number): void {
    const duty = radio.duty;
    if (duty === null) return;
    const percent = duty.percent(at, extra);
    const state = duty.stateFor(percent);
    if (state !== duty.state) {
      duty.state = state;
      const p = Math.round(percent * 1000) / 1000;
      this.emit({ t: this.now, type: 'duty-cycle', radio: radio.eui64, state, percent: p });
      if (this.byEui.get(radio.eui64) === radio)
        this.send(radio, { type: 'duty-cycle', t: this.now, state, percent: p });
    }
    const expiry = duty.nextExpiry();
    if (duty.state !== 'normal' && expiry !== null && radio.dutyRecheckAt === null) {
      radio.dutyRecheckAt = expiry;
      this.push({ t: expiry, kind: 'duty-recheck', radio });
    }
  }

  private dutyRecheck(radio: Radio): void {
    radio.dutyRecheckAt = null;
    this.updateDutyState(radio, this.now, 0);
  }

  private emit(event: BusTraceEvent): void {
    for (const l of this.traceListeners) l(event);
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
