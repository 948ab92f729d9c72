/**
 * A run's trace as it happens: each event goes once through the trace file, the Wireshark
 * keys, the counts of the summary and the expectations, and is then let go, so a run's memory
 * does not grow with its length. Only the leading stretch at time 0 is held, to be put in
 * radio order (`canonicalizeStart`) before it goes on.
 */
import type { BusTraceEvent } from '@gbhan/radio-bus';
import { JsonlWriter } from '@gbhan/radio-bus';
import type { ReportCollector } from '@gbhan/report';
import { ExpectationWatch } from './expect.js';
import { riskRelevant } from './risks.js';
import type { Expectation } from './schema.js';
import type { Risk } from './schema-risks.js';

const START_TYPES = new Set(['attach', 'device', 'power', 'channel']);

/** Is `e` still part of the leading stretch `canonicalizeStart` reorders? */
export function isStartEvent(e: BusTraceEvent): boolean {
  return e.t === 0 && START_TYPES.has(e.type);
}

/** Put the leading stretch in radio order (each radio's own events keep their order). */
export function sortStart(head: readonly BusTraceEvent[]): BusTraceEvent[] {
  const h = head.map((e, i) => ({ e, i, r: (e as { radio?: string }).radio ?? '' }));
  h.sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : a.i - b.i));
  return h.map((x) => x.e);
}

/** Renders device key events as zigbee_pc_keys lines, one per distinct key (see `wiresharkKeys`). */
export class KeyCollector {
  private readonly seen = new Set<string>();
  readonly lines: string[] = [];
  constructor(private readonly names: ReadonlyMap<string, string>) {}

  push(e: BusTraceEvent): void {
    if (e.type !== 'device') return;
    const ev = e.event;
    if (ev.type !== 'key-export' && ev.type !== 'key') return;
    const raw = [ev.key, ev.linkKey, ev.networkKey].find((k) => typeof k === 'string') as string | undefined;
    const hex = raw?.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
    if (hex === undefined || hex.length !== 32 || this.seen.has(hex)) return;
    this.seen.add(hex);
    const parts = ['kind', 'origin', 'suite', 'initiator', 'responder', 'peer']
      .filter((k) => ev[k] !== undefined)
      .map((k) => `${k}=${String(ev[k])}`);
    const made = `${this.names.get(e.radio) ?? e.radio} ${parts.join(' ')} t=${e.t}us`.trim();
    const label = (typeof ev.label === 'string' ? ev.label : made).replace(/"/g, "'");
    this.lines.push(`"${hex}","Normal","${label}"`);
  }
}

export interface RadioCounts {
  id: string;
  type: string;
  eui64: string;
  tx: number;
  rx: number;
}

export class RunTrace {
  private head: BusTraceEvent[] | null = [];
  private readonly writer: JsonlWriter | null;
  readonly keys: KeyCollector;
  readonly watch: ExpectationWatch;
  readonly counts: Record<string, number> = {};
  readonly drops: Record<string, number> = {};
  readonly radios: Map<string, RadioCounts>;
  /** The events a risk of the scenario can count (`riskRelevant`), in trace order. */
  readonly riskEvents: BusTraceEvent[] = [];
  /** Per meter: time off supply so far (supply-interrupted .. supply-restored). */
  readonly supply = new Map<string, { offSince: number | null; offUs: number; interruptions: number }>();
  /** What report.html needs, gathered as the events pass (null: no report). */
  report: ReportCollector | null = null;
  /** Each event once more after the run's own uses (the live view). */
  readonly listeners: ((e: BusTraceEvent) => void)[] = [];

  constructor(
    tracePath: string | null,
    expectations: readonly Expectation[],
    names: ReadonlyMap<string, string>,
    devices: readonly { id: string; type: string; eui64: string }[],
    private readonly risks: readonly Risk[] = [],
    /** Also given every event, in trace order (a sweep's metric observers). */
    private readonly observer?: (e: BusTraceEvent) => void,
  ) {
    this.writer = tracePath === null ? null : new JsonlWriter(tracePath);
    this.keys = new KeyCollector(names);
    this.watch = new ExpectationWatch(expectations, names);
    this.radios = new Map(
      devices.map((d) => [d.eui64, { id: d.id, type: d.type, eui64: d.eui64, tx: 0, rx: 0 }]),
    );
  }

  push(e: BusTraceEvent): void {
    if (this.head !== null) {
      if (isStartEvent(e)) {
        this.head.push(e);
        return;
      }
      this.flushHead();
    }
    this.pass(e);
  }

  private flushHead(): void {
    const head = this.head;
    if (head === null) return;
    this.head = null;
    for (const h of sortStart(head)) this.pass(h);
  }

  private pass(e: BusTraceEvent): void {
    this.writer?.write(e);
    this.keys.push(e);
    this.watch.push(e);
    this.counts[e.type] = (this.counts[e.type] ?? 0) + 1;
    if (e.type === 'drop') this.drops[e.reason] = (this.drops[e.reason] ?? 0) + 1;
    else if (e.type === 'tx' || e.type === 'rx') {
      const r = this.radios.get(e.radio);
      if (r) r[e.type]++;
    } else if (e.type === 'device') this.supplyEvent(e.radio, e.t, String(e.event.type));
    if (this.risks.length > 0 && riskRelevant(this.risks, e)) this.riskEvents.push(e);
    this.observer?.(e);
    this.report?.push(e);
    for (const l of this.listeners) l(e);
  }

  private supplyEvent(radio: string, t: number, type: string): void {
    if (type !== 'supply-interrupted' && type !== 'supply-restored') return;
    const m = this.supply.get(radio) ?? { offSince: null, offUs: 0, interruptions: 0 };
    if (type === 'supply-interrupted' && m.offSince === null) {
      m.offSince = t;
      m.interruptions++;
    } else if (type === 'supply-restored' && m.offSince !== null) {
      m.offUs += t - m.offSince;
      m.offSince = null;
    }
    this.supply.set(radio, m);
  }

  /** The run is over: what was held goes out, the trace file is closed. */
  close(): void {
    this.flushHead();
    this.writer?.close();
  }
}
