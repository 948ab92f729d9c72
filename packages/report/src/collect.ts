/**
 * What report.html needs, gathered from a run's trace while it streams past, in bounded
 * memory: per device the state intervals and marks of its timeline lanes, the application
 * exchanges of the sequence diagram (each tied to a capture frame), frames per radio link and
 * duty-cycle states. Every list has a cap; what goes past it is counted, and the page says so.
 */
import type { BusTraceEvent } from '@gbhan/radio-bus';
import { type Arrow, arrowOf } from './exchanges.js';

export interface ReportDevice {
  id: string;
  type: string;
  eui64: string;
  band: '2.4GHz' | 'GB868';
  channel: number;
  position: { x: number; y: number; z?: number };
  txPowerDbm?: number;
  sensitivityDbm?: number;
}

/** The tracks of a device's lane, in display order. */
export const TRACKS = [
  'power',
  'window',
  'wan',
  'join',
  'cbke',
  'tunnel',
  'reset',
  'alerts',
  'lock',
  'attack',
] as const;
export type Track = (typeof TRACKS)[number];

export interface Interval {
  start: number;
  /** null: still open at the end of the run. */
  end: number | null;
  label: string;
}
export interface Mark {
  t: number;
  label: string;
  /** `bad` marks (refusals, failures, alerts) are drawn in the warning colour. */
  bad: boolean;
}

export interface Lane {
  device: ReportDevice;
  intervals: Partial<Record<Track, Interval[]>>;
  marks: Partial<Record<Track, Mark[]>>;
  /** Intervals and marks past the per-track caps, counted only. */
  dropped: number;
}

export interface ReportLimits {
  intervalsPerTrack: number;
  marksPerTrack: number;
  arrows: number;
  dutyStates: number;
}
export const DEFAULT_REPORT_LIMITS: ReportLimits = {
  intervalsPerTrack: 100,
  marksPerTrack: 200,
  arrows: 1500,
  dutyStates: 2000,
};

/** Interval tracks: the device event that opens and the one that closes an interval. */
function intervalChange(
  type: string,
  ev: Record<string, unknown>,
): { track: Track; open: boolean; label: string } | null {
  switch (type) {
    case 'interpan-window':
      return { track: 'window', open: ev.state === 'open', label: 'Inter-PAN window open' };
    case 'wan-down':
      return { track: 'wan', open: true, label: 'WAN down' };
    case 'wan-up':
      return { track: 'wan', open: false, label: 'WAN down' };
    case 'joined':
    case 'rejoined':
      return { track: 'join', open: true, label: `on the HAN (PAN ${String(ev.panId ?? '?')})` };
    case 'nwk-state':
      return ev.state === 'not-joined' ? { track: 'join', open: false, label: '' } : null;
    case 'cbke-start':
      return { track: 'cbke', open: true, label: 'CBKE running' };
    case 'cbke-established':
    case 'cbke-failed':
      return { track: 'cbke', open: false, label: '' };
    case 'tunnel-established':
    case 'tunnel-request':
      return ev.status === undefined || ev.status === 0
        ? { track: 'tunnel', open: true, label: 'tunnel up' }
        : null;
    case 'tunnel-lost':
    case 'tunnel-closed':
      return { track: 'tunnel', open: false, label: '' };
    case 'optical':
      return ev.command === 'unlock' && ev.ok === true
        ? { track: 'lock', open: true, label: 'unlocked (optical)' }
        : null;
    case 'optical-relocked':
      return { track: 'lock', open: false, label: '' };
    default:
      return null;
  }
}

/** Point marks: which track a device event is drawn on, and whether it is bad news. */
function markOf(type: string, ev: Record<string, unknown>): { track: Track; bad: boolean } | null {
  if (type.startsWith('attacker-') || type === 'ppmid-attack') return { track: 'attack', bad: true };
  switch (type) {
    case 'joined':
    case 'rejoined':
    case 'associated':
    case 'child-authenticated':
      return { track: 'join', bad: false };
    case 'join-refused':
    case 'join-failed':
    case 'rejoin-failed':
    case 'leave-requested':
    case 'device-log-refused':
      return { track: 'join', bad: true };
    case 'cbke-established':
      return { track: 'cbke', bad: false };
    case 'cbke-failed':
      return { track: 'cbke', bad: true };
    case 'tunnel-established':
      return { track: 'tunnel', bad: false };
    case 'tunnel-request-failed':
    case 'tunnel-lost':
      return { track: 'tunnel', bad: true };
    case 'reset-han':
      return { track: 'reset', bad: false };
    case 'alert':
    case 'device-alert':
    case 'gbcs-command-refused':
      return { track: 'alerts', bad: true };
    case 'optical':
      return ev.command === 'status' ? null : { track: 'lock', bad: ev.ok === false };
    case 'optical-relocked':
      return { track: 'lock', bad: false };
    case 'wan-down':
    case 'wan-command-failed':
      return { track: 'wan', bad: true };
    case 'wan-up':
      return { track: 'wan', bad: false };
    case 'interpan-window':
    case 'interpan-handover':
    case 'interpan-handover-sent':
    case 'interpan-scan':
    case 'interpan-backoff':
      return { track: 'window', bad: type === 'interpan-backoff' };
    case 'interpan-pairing':
      return { track: 'window', bad: ev.result !== 'paired' };
    case 'join-retry':
      return { track: 'join', bad: true };
    default:
      return null;
  }
}

/** A device event in one short line (scenario ids for EUI64s): marks' and arrows' tooltips. */
export function eventLabel(type: string, ev: Record<string, unknown>, name: (eui: string) => string): string {
  const parts = Object.entries(ev)
    .filter(([k, v]) => k !== 'type' && v !== undefined && (typeof v !== 'object' || v === null))
    .slice(0, 5)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /^[0-9a-f]{16}$/i.test(v) ? name(v) : String(v)}`);
  return `${type}${parts.length > 0 ? ` ${parts.join(' ')}` : ''}`;
}

/** The list of `track` in a lane's record, made on first use. */
function listIn<T>(record: Partial<Record<Track, T[]>>, track: Track): T[] {
  let list = record[track];
  if (list === undefined) {
    list = [];
    record[track] = list;
  }
  return list;
}

/** The arrow waiting for its sender's next frame, or sitting on the receiver's last one. */
interface PendingArrow {
  arrow: Arrow;
}

export class ReportCollector {
  readonly lanes = new Map<string, Lane>();
  readonly arrows: Arrow[] = [];
  /** Arrows past the cap, counted by from/to/label. */
  readonly arrowsOver = new Map<string, number>();
  /** Pairs heard, by EUI64 (sender -> receiver -> index into `pairs`), in first-heard order. */
  private readonly pairIndex = new Map<string, Map<string, number>>();
  private readonly pairs: { from: string; to: string; frames: number }[] = [];
  readonly txPerDevice = new Map<string, number>();
  readonly duty: { t: number; device: string; state: string; percent: number }[] = [];
  dutyOver = 0;
  readonly drops: Record<string, number> = {};
  /** Latest interpan-report per hub. */
  readonly interpanReports = new Map<string, Record<string, unknown>>();
  frames = 0;
  lastT = 0;
  private readonly byEui = new Map<string, ReportDevice>();
  private readonly lastRx = new Map<string, number>();
  private readonly awaitingTx = new Map<string, PendingArrow[]>();

  constructor(
    readonly devices: readonly ReportDevice[],
    readonly limits: ReportLimits = DEFAULT_REPORT_LIMITS,
  ) {
    for (const d of devices) {
      this.byEui.set(d.eui64, d);
      this.lanes.set(d.eui64, { device: d, intervals: {}, marks: {}, dropped: 0 });
    }
  }

  /** The scenario id of an EUI64 (the EUI64 itself only for a radio the scenario does not have). */
  name = (eui: string): string => this.byEui.get(eui)?.id ?? eui;

  /** Frames heard per (sender, receiver) pair, by scenario id: `from\tto` -> count, in first-heard order. */
  get linkFrames(): Map<string, number> {
    return new Map(this.pairs.map((p) => [`${this.name(p.from)}\t${this.name(p.to)}`, p.frames]));
  }

  push(e: BusTraceEvent): void {
    this.lastT = e.t;
    switch (e.type) {
      case 'tx':
        this.tx(e.radio, e.frame, e.t);
        return;
      case 'rx': {
        this.lastRx.set(e.radio, e.frame + 1);
        // Counted by EUI64 without building a key per frame (a city hears millions); named below.
        let to = this.pairIndex.get(e.from);
        if (to === undefined) {
          to = new Map();
          this.pairIndex.set(e.from, to);
        }
        const i = to.get(e.radio);
        if (i !== undefined) this.pairs[i]!.frames++;
        else {
          to.set(e.radio, this.pairs.length);
          this.pairs.push({ from: e.from, to: e.radio, frames: 1 });
        }
        return;
      }
      case 'drop':
        this.drops[e.reason] = (this.drops[e.reason] ?? 0) + 1;
        return;
      case 'duty-cycle':
        if (this.duty.length < this.limits.dutyStates)
          this.duty.push({ t: e.t, device: this.name(e.radio), state: e.state, percent: e.percent });
        else this.dutyOver++;
        return;
      case 'device':
        this.deviceEvent(e.radio, e.t, e.event as Record<string, unknown>);
        return;
      default:
        return;
    }
  }

  private tx(radio: string, frame: number, t: number): void {
    this.frames++;
    const id = this.name(radio);
    this.txPerDevice.set(id, (this.txPerDevice.get(id) ?? 0) + 1);
    // The capture numbers frames from 1 in the order they went on air (pcap writer order).
    const waiting = this.awaitingTx.get(radio);
    if (waiting === undefined) return;
    this.awaitingTx.delete(radio);
    for (const p of waiting) if (p.arrow.t <= t) p.arrow.frame = frame + 1;
  }

  private powerChange(radio: string, on: boolean, t: number): void {
    const lane = this.lanes.get(radio);
    if (lane === undefined) return;
    const list = listIn(lane.intervals, 'power');
    const open = list[list.length - 1];
    if (on) {
      if (open === undefined || open.end !== null)
        this.addInterval(lane, 'power', { start: t, end: null, label: 'on' });
    } else if (open !== undefined && open.end === null) open.end = t;
  }

  private addInterval(lane: Lane, track: Track, iv: Interval): void {
    const list = listIn(lane.intervals, track);
    if (list.length >= this.limits.intervalsPerTrack) {
      lane.dropped++;
      return;
    }
    list.push(iv);
  }

  private deviceEvent(radio: string, t: number, ev: Record<string, unknown>): void {
    const type = String(ev.type);
    // The device's power, not its radio's: a sleepy meter turns its receiver off between polls.
    if (type === 'power') this.powerChange(radio, ev.on === true, t);
    const lane = this.lanes.get(radio);
    if (lane !== undefined) {
      if (type === 'interpan-report') this.interpanReports.set(lane.device.id, ev);
      const change = intervalChange(type, ev);
      if (change !== null) {
        const list = listIn(lane.intervals, change.track);
        const open = list[list.length - 1];
        const isOpen = open !== undefined && open.end === null;
        if (change.open && !isOpen)
          this.addInterval(lane, change.track, { start: t, end: null, label: change.label });
        else if (!change.open && isOpen) open.end = t;
      }
      const mark = markOf(type, ev);
      if (mark !== null) {
        const list = listIn(lane.marks, mark.track);
        if (list.length < this.limits.marksPerTrack)
          list.push({ t, label: eventLabel(type, ev, this.name), bad: mark.bad });
        else lane.dropped++;
      }
    }
    const arrow = arrowOf(radio, t, type, ev, this.name);
    if (arrow === null) return;
    if (this.arrows.length >= this.limits.arrows) {
      const key = `${arrow.from}\t${arrow.to}\t${arrow.label.split(' ')[0]}`;
      this.arrowsOver.set(key, (this.arrowsOver.get(key) ?? 0) + 1);
      return;
    }
    this.arrows.push(arrow);
    if (arrow.side === 'receiver') {
      const f = this.lastRx.get(radio);
      if (f !== undefined) arrow.frame = f;
    } else if (arrow.side === 'sender') {
      const list = this.awaitingTx.get(radio) ?? [];
      list.push({ arrow });
      this.awaitingTx.set(radio, list);
    }
  }
}
