/**
 * The radio bus: the one owner of virtual time and of the shared medium.
 *
 * Conservative lock-step (as OTNS does): every attached radio is either *awaiting* (it was
 * sent something and has not yet reported idle) or idle with a next-timer time. Only when
 * no radio is awaiting does the bus (1) apply the actions radios sent during the instant,
 * in EUI64 order, and (2) advance to the earliest of its own events and the radios' timers.
 * Applying actions at the barrier in a fixed order is what makes a run repeat byte for byte
 * whatever order messages arrived in over the sockets.
 *
 * This file is the public face (configuration, RadioBus) and the wiring; each concern is a
 * file of its own, sharing one BusState:
 *   bus-connections.ts  ports, hello, client messages, sending, protocol errors, detaching
 *   bus-actions.ts      the actions radios send: bounded on arrival, applied at the barrier
 *   bus-lockstep.ts     the scheduler loop: barrier, wakes, advancing virtual time
 *   bus-air.ts          transmissions, delivery and drops, carrier sense, duty cycle
 *   bus-wall-clock.ts   real-time pacing and the idle watchdog
 *   links.ts            wired/IP links between radios (opaque bytes, latency, loss, bandwidth)
 */

import type { NonDeliveries } from './air-index.js';
import { BusActions } from './bus-actions.js';
import { BusAir } from './bus-air.js';
import { BusConnections, Port } from './bus-connections.js';
import { BusLockStep } from './bus-lockstep.js';
import { BusState, type JammerConfig } from './bus-state.js';
import { BusWallClock } from './bus-wall-clock.js';
import type { CapturedFrame } from './capture.js';
import { BusConfigError, mediumModelIssue } from './config.js';
import { DEFAULT_DUTY_CYCLE, type DutyCycleThresholds } from './duty-cycle.js';
import type { LatencyModel, LinkConfig } from './link-config.js';
import { BusLinks } from './links.js';
import { type BandModel, DEFAULT_BAND_MODELS, type Wall } from './medium.js';
import { type Band, defaultTiming, isValidChannel, type PhyTiming } from './phy.js';
import {
  ANY_AUDIBLE_OVERLAP,
  captureEffect,
  type FreeSpaceBand,
  type InterferenceModel,
  type MatrixConfig,
  type PropagationModel,
  type PropagationModelName,
  propagationModelFor,
} from './propagation.js';
import { type BusErrorCode, type BusMessage, BusProtocolError, type ClientMessage } from './protocol.js';
import type { TraceListener } from './trace.js';

export type { JammerConfig } from './bus-state.js';
export { Port };

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
  /** Wired/IP links by name (opaque bytes between member radios; see links.ts). */
  links?: Record<string, LinkConfig>;
  /**
   * `full` (default): every non-delivery is a `drop` event, also to each radio a frame did not
   * reach (`out-of-range`) and to each radio that heard it on another channel (`wrong-channel`);
   * `compact`: those two are only counted per radio (`nonDeliveries()`), so the trace grows
   * with the frames rather than frames x radios. Other drops are traced either way.
   */
  trace?: 'full' | 'compact';
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

export class RadioBus {
  private readonly s: BusState;

  constructor(config: RadioBusConfig = {}) {
    const bandModels: Record<Band, BandModel> = {
      '2.4GHz': { ...DEFAULT_BAND_MODELS['2.4GHz'], ...config.bands?.['2.4GHz'] },
      GB868: { ...DEFAULT_BAND_MODELS.GB868, ...config.bands?.GB868 },
    };
    const timings: Record<Band, PhyTiming> = {
      '2.4GHz': { ...defaultTiming('2.4GHz'), ...config.timing?.['2.4GHz'] },
      GB868: { ...defaultTiming('GB868'), ...config.timing?.GB868 },
    };
    const dutyThresholds: DutyCycleThresholds = { ...DEFAULT_DUTY_CYCLE, ...config.dutyCycle };
    // Programmatic configs get the checks a medium file gets from parseMediumConfig.
    const issue = mediumModelIssue(config);
    if (issue !== null) throw new BusConfigError(issue.path.join('.'), issue.message);
    if (config.propagation !== undefined && config.model !== undefined)
      throw new BusConfigError('propagation', 'a model of your own or a model by name, not both');
    if (config.interference !== undefined && config.captureThresholdDb != null)
      throw new BusConfigError('interference', 'a decision of your own or captureThresholdDb, not both');
    const capture = config.captureThresholdDb ?? null;
    const s = new BusState(
      { bandModels, timings, dutyThresholds, expectRadios: config.expectRadios ?? 0 },
      config.jammers ?? [],
    );
    s.air = new BusAir(s, {
      seed: config.seed ?? 1,
      propagation: config.propagation ?? propagationModelFor(config, bandModels),
      interference: config.interference ?? (capture === null ? ANY_AUDIBLE_OVERLAP : captureEffect(capture)),
      lossRate: config.lossRate ?? 0,
      timings,
      trace: config.trace ?? 'full',
    });
    s.wall = new BusWallClock(s, config.realTime ?? null, config.idleTimeoutMs ?? 10_000);
    s.actions = new BusActions(
      s,
      config.maxActionsPerInstant ?? DEFAULT_MAX_ACTIONS_PER_INSTANT,
      config.maxPendingActions ?? DEFAULT_MAX_PENDING_ACTIONS,
    );
    s.links = new BusConnections(s, config.maxSendBacklogBytes ?? DEFAULT_MAX_SEND_BACKLOG_BYTES);
    s.lockStep = new BusLockStep(s);
    s.netLinks = new BusLinks(s, config.links ?? {}, config.seed ?? 1);
    this.s = s;
    for (const [i, j] of s.jammers.entries()) this.scheduleJammer(j, i);
  }

  /** Current virtual time (us). */
  get time(): number {
    return this.s.now;
  }

  get radioCount(): number {
    return this.s.sorted.length;
  }

  /**
   * Per radio (EUI64, also radios gone): frames sent on its channel that arrived below its
   * sensitivity (`out-of-range`), and frames it could have heard but was on another channel
   * (`wrong-channel` drops of a radio not on the frame's channel), so far.
   */
  nonDeliveries(): Map<string, NonDeliveries> {
    return this.s.air.nonDeliveries();
  }

  onTrace(listener: TraceListener): void {
    this.s.traceListeners.push(listener);
  }

  /** Every frame put on the air, at its start time (what a sniffer captures). */
  onFrame(listener: (f: CapturedFrame) => void): void {
    this.s.frameListeners.push(listener);
  }

  /** Attach a client transport; the returned port is fed with the client's messages. */
  attach(link: BusLink): Port {
    const port = new Port(this, link);
    if (this.s.closed) {
      link.send({ type: 'error', t: this.s.now, code: 'BUS_SHUTDOWN', message: 'the bus is shutting down' });
      link.close();
      port.closed = true;
      return port;
    }
    this.s.ports.add(port);
    return port;
  }

  /** Add a jammer at run time (radio faults in scenarios). */
  addJammer(j: JammerConfig): void {
    this.s.jammers.push(j);
    this.scheduleJammer(j, this.s.jammers.length - 1);
    this.s.lockStep.kick();
  }

  /**
   * Deliver `command` to the device behind radio `eui64` at virtual time `atUs` (scenario
   * timelines use this: power, Device Log updates, WAN up/down ...). Traced either way.
   */
  scheduleControl(eui64: string, atUs: number, command: Record<string, unknown>): void {
    this.s.push({ t: Math.max(this.s.now, Math.round(atUs)), kind: 'control', eui64, command });
    this.s.lockStep.kick();
  }

  /**
   * Bring wired/IP link `link` up or down at virtual time `atUs` (default now), in order with
   * the bus's other events; traced `link-state` when its state changes. Throws BusConfigError
   * for a link the bus does not have.
   */
  linkState(link: string, up: boolean, atUs = this.s.now): void {
    this.scheduleLinkChange(link, { up }, atUs);
  }

  /**
   * Change link `link`'s latency and/or loss from virtual time `atUs` (default now); messages
   * already sent keep their draws. Traced `link-set`.
   */
  linkSet(link: string, change: { latency?: LatencyModel | number; loss?: number }, atUs = this.s.now): void {
    this.scheduleLinkChange(link, change, atUs);
  }

  private scheduleLinkChange(
    link: string,
    change: { up?: boolean; latency?: LatencyModel | number; loss?: number },
    atUs: number,
  ): void {
    this.s.netLinks.check(link, change);
    const t = Math.max(this.s.now, Math.round(atUs));
    this.s.push({ t, kind: 'callback', fn: () => this.s.netLinks.change(link, change) });
    this.s.lockStep.kick();
  }

  /**
   * Run `fn` in the controller at virtual time `atUs`, in order with the bus's other events
   * (a scenario runner crashes and restarts device processes this way).
   */
  schedule(atUs: number, fn: () => void): void {
    this.s.push({ t: Math.max(this.s.now, Math.round(atUs)), kind: 'callback', fn });
    this.s.lockStep.kick();
  }

  /**
   * Keep virtual time where it is until the returned function is called (e.g. while a
   * restarted device process connects). Messages are still handled; only advancing waits.
   */
  holdTime(): () => void {
    this.s.controllerHolds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.s.controllerHolds--;
      this.s.lockStep.kick();
    };
  }

  /**
   * Pace virtual time to the wall clock from now on (speed 1 = real time), or null: as fast as
   * possible. Pacing restarts at the current instant (a live view's speed control; call it
   * again before releasing a `holdTime()` pause, or time races to catch up).
   */
  setRealTime(realTime: { speed: number } | null): void {
    if (realTime !== null && !(realTime.speed > 0 && Number.isFinite(realTime.speed)))
      throw new BusConfigError('realTime.speed', `must be a number above 0, got ${realTime.speed}`);
    this.s.wall.setPace(realTime);
    this.s.lockStep.kick();
  }

  /**
   * Real-time mode once time runs: the virtual instant the wall clock has reached (at most the
   * run's end), which the bus time catches up with at its next event; null when not paced.
   */
  pacedTime(): number | null {
    const s = this.s;
    if (!s.wall.paced || s.controllerHolds > 0) return null;
    return Math.min(s.wall.pacedNow(), s.until);
  }

  /** Take a radio off the bus now, as if its device had died; its connection is closed. */
  detachRadio(eui64: string, reason: string): boolean {
    const radio = this.s.byEui.get(eui64);
    if (radio === undefined) return false;
    this.s.links.close(radio.port, reason);
    return true;
  }

  /**
   * Let virtual time run up to `untilUs` (inclusive). Resolves once time has reached it and
   * every radio is idle, or earlier if nothing at all is left to happen before it.
   */
  runUntil(untilUs: number): Promise<void> {
    const s = this.s;
    s.until = Math.max(s.until, untilUs);
    s.syncPending = true;
    s.wall.anchorPacing();
    const p = new Promise<void>((resolve) => s.waiters.push({ until: untilUs, resolve }));
    s.lockStep.kick();
    return p;
  }

  /** Disconnect every client and stop. Pending runUntil promises resolve. */
  close(): void {
    const s = this.s;
    if (s.closed) return;
    s.closed = true;
    for (const port of [...s.ports]) s.links.close(port, 'shutdown');
    s.wall.clearTimers();
    for (const w of s.waiters) w.resolve();
    s.waiters = [];
  }

  /** @internal called by Port with a validated message. */
  handle(port: Port, msg: ClientMessage): void {
    this.s.links.handle(port, msg);
  }

  /** @internal */
  reportError(port: Port, code: BusErrorCode, message: string): void {
    this.s.links.reportError(port, code, message);
  }

  /** @internal the client is gone: take it out of the lock-step so time keeps moving. */
  detach(port: Port, reason: string): void {
    this.s.links.detach(port, reason);
  }

  private scheduleJammer(j: JammerConfig, index: number): void {
    if (!isValidChannel(j.band, j.page, j.channel)) {
      throw new BusProtocolError(
        'BUS_BAD_CHANNEL',
        `jammer page ${j.page} channel ${j.channel} is not on band ${j.band}`,
      );
    }
    this.s.push({ t: Math.max(this.s.now, j.startUs), kind: 'jam', jammer: index, on: true });
    this.s.push({ t: Math.max(this.s.now, j.endUs), kind: 'jam', jammer: index, on: false });
  }
}
