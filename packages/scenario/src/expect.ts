/**
 * Expectations, judged over the trace as it streams by: each one held or failed, with the
 * event that proves it (the first match, or the offending one) as time + a one-line summary.
 */
import type { BusTraceEvent } from '@gbhan/radio-bus';
import type { Expectation } from './schema.js';

export interface ExpectationResult {
  text: string;
  line: number | null;
  held: boolean;
  /** Why, in one line. */
  detail: string;
  /** The event that decided it, if one did. */
  event?: { t: number; summary: string };
}

/** Partial match: every field of the pattern equals the event's (objects recursively). */
export function matches(pattern: unknown, value: unknown): boolean {
  if (pattern !== null && typeof pattern === 'object' && !Array.isArray(pattern)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    for (const [k, p] of Object.entries(pattern)) {
      if (!matches(p, (value as Record<string, unknown>)[k])) return false;
    }
    return true;
  }
  if (Array.isArray(pattern)) {
    return (
      Array.isArray(value) && pattern.length === value.length && pattern.every((p, i) => matches(p, value[i]))
    );
  }
  return pattern === value;
}

/** Virtual time for people: 1h02m03.250s. */
export function formatTime(us: number): string {
  const ms = Math.round(us / 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${s % 1 === 0 ? s.toFixed(0) : s.toFixed(3)}s`;
  if (h > 0)
    return `${h}h${String(m).padStart(2, '0')}m${sec.padStart(s < 10 ? sec.length + 1 : sec.length, '0')}`;
  if (m > 0) return `${m}m${sec.padStart(s < 10 ? sec.length + 1 : sec.length, '0')}`;
  return sec;
}

export function summarizeEvent(e: BusTraceEvent, names: ReadonlyMap<string, string>): string {
  const n = (eui: string | null) => (eui === null ? '-' : (names.get(eui) ?? eui));
  switch (e.type) {
    case 'tx':
      return `tx ${n(e.radio)} frame ${e.frame} (${e.bytes} bytes)`;
    case 'rx':
      return `rx ${n(e.radio)} <- ${n(e.from)} frame ${e.frame} rssi ${e.rssi}`;
    case 'drop':
      return `drop ${n(e.radio)} <- ${n(e.from)} frame ${e.frame ?? '-'}: ${e.reason}`;
    case 'device':
      return `device ${n(e.radio)} ${JSON.stringify(e.event)}`;
    case 'control':
      return `control ${n(e.radio)} ${JSON.stringify(e.command)}${e.delivered ? '' : ' (not delivered)'}`;
    case 'jam':
      return `jam ${e.band} page ${e.page} ch ${e.channel} ${e.on ? 'on' : 'off'}`;
    case 'duty-cycle':
      return `duty-cycle ${n(e.radio)} ${e.state} (${e.percent}%)`;
    case 'power':
      return `power ${n(e.radio)} ${e.on ? 'on' : 'off'}`;
    case 'error':
      return `error ${n(e.radio)} ${e.code}: ${e.message}`;
    default:
      return `${e.type} ${n((e as { radio?: string }).radio ?? null)}`;
  }
}

function inWindow(t: number, x: Expectation): boolean {
  return (x.after === undefined || t >= x.after) && (x.before === undefined || t <= x.before);
}

function windowText(x: Expectation): string {
  if (x.after !== undefined && x.before !== undefined)
    return ` between ${formatTime(x.after)} and ${formatTime(x.before)}`;
  if (x.before !== undefined) return ` by ${formatTime(x.before)}`;
  if (x.after !== undefined) return ` after ${formatTime(x.after)}`;
  return '';
}

/**
 * Expectations judged as the events go by, keeping only what each one needs (its first hit,
 * a count, the step an order has reached), so a run never holds its trace in memory.
 */
export class ExpectationWatch {
  private readonly states: State[];

  constructor(
    private readonly expectations: readonly Expectation[],
    private readonly names: ReadonlyMap<string, string>,
  ) {
    this.states = expectations.map((x) =>
      x.kind === 'order'
        ? {
            hit: undefined,
            first: undefined,
            n: 0,
            step: 0,
            last: undefined,
            any: x.matches.map(() => undefined),
          }
        : { hit: undefined, first: undefined, n: 0, step: 0, last: undefined, any: [] },
    );
    for (const [i, x] of expectations.entries())
      for (const m of x.kind === 'order' ? x.matches : [x.match]) {
        const k = ExpectationWatch.key(m);
        const list = this.byKey.get(k) ?? [];
        if (list[list.length - 1] !== i) list.push(i);
        this.byKey.set(k, list);
      }
  }

  /**
   * The expectations an event of a type and radio may match, by `type|radio` (`type|*`: any
   * radio, `*`: any event): a scenario of many homes has hundreds of expectations, each about
   * one radio, and an event is only tried against its own.
   */
  private readonly byKey = new Map<string, number[]>();
  private readonly candidates = new Map<string, number[]>();

  private static key(m: Record<string, unknown>): string {
    if (typeof m.type !== 'string') return '*';
    return `${m.type}|${typeof m.radio === 'string' ? m.radio : '*'}`;
  }

  /** Which expectations to try for this event, in their order. */
  private tried(e: BusTraceEvent): number[] {
    const radio = (e as { radio?: unknown }).radio;
    const key = `${e.type}|${typeof radio === 'string' ? radio : '*'}`;
    let list = this.candidates.get(key);
    if (list === undefined) {
      const all = new Set([
        ...(this.byKey.get(key) ?? []),
        ...(this.byKey.get(`${e.type}|*`) ?? []),
        ...(this.byKey.get('*') ?? []),
      ]);
      list = [...all].sort((a, b) => a - b);
      this.candidates.set(key, list);
    }
    return list;
  }

  push(e: BusTraceEvent): void {
    if (this.expectations.length === 0) return;
    for (const i of this.tried(e)) {
      const x = this.expectations[i]!;
      const st = this.states[i]!;
      switch (x.kind) {
        case 'event':
          if (st.hit !== undefined) break;
          if (st.first === undefined && matches(x.match, e)) st.first = e;
          if (inWindow(e.t, x) && matches(x.match, e)) st.hit = e;
          break;
        case 'never':
          if (st.hit === undefined && inWindow(e.t, x) && matches(x.match, e)) st.hit = e;
          break;
        case 'count':
          if (!inWindow(e.t, x) || !matches(x.match, e)) break;
          st.n++;
          if (x.max !== undefined && st.n === x.max + 1) st.hit = e;
          break;
        default: {
          // 'order': the first event of each step, anywhere, for the failure message
          for (const [j, m] of x.matches.entries())
            if (st.any[j] === undefined && matches(m, e)) st.any[j] = e;
          if (st.step < x.matches.length && inWindow(e.t, x) && matches(x.matches[st.step], e)) {
            st.step++;
            st.last = e;
          }
        }
      }
    }
  }

  results(): ExpectationResult[] {
    const ev = (e: BusTraceEvent) => ({ t: e.t, summary: summarizeEvent(e, this.names) });
    return this.expectations.map((x, i): ExpectationResult => {
      const st = this.states[i]!;
      const base = { text: x.text, line: x.line };
      switch (x.kind) {
        case 'event': {
          const hit = st.hit;
          if (hit) return { ...base, held: true, detail: `at ${formatTime(hit.t)}`, event: ev(hit) };
          const late = st.first;
          return late
            ? {
                ...base,
                held: false,
                detail: `happened at ${formatTime(late.t)}, not${windowText(x)}`,
                event: ev(late),
              }
            : { ...base, held: false, detail: `never happened${windowText(x)}` };
        }
        case 'never': {
          const hit = st.hit;
          return hit
            ? { ...base, held: false, detail: `happened at ${formatTime(hit.t)}`, event: ev(hit) }
            : { ...base, held: true, detail: `did not happen${windowText(x)}` };
        }
        case 'count': {
          const n = st.n;
          const held = (x.min === undefined || n >= x.min) && (x.max === undefined || n <= x.max);
          const range = `${x.min ?? 0}..${x.max ?? '∞'}`;
          return {
            ...base,
            held,
            detail: `${n} (expected ${range})${windowText(x)}`,
            ...(st.hit === undefined ? {} : { event: ev(st.hit) }),
          };
        }
        default: {
          if (st.step === x.matches.length)
            return {
              ...base,
              held: true,
              detail: `in order, last at ${formatTime(st.last!.t)}`,
              event: ev(st.last!),
            };
          const any = st.any[st.step];
          return {
            ...base,
            held: false,
            detail: any
              ? `step ${st.step + 1} first happened at ${formatTime(any.t)}, not after step ${st.step}${windowText(x)}`
              : `step ${st.step + 1} never happened`,
            ...(any === undefined ? {} : { event: ev(any) }),
          };
        }
      }
    });
  }
}

interface State {
  /** event/never: the first in-window match; count: the (max+1)th. */
  hit: BusTraceEvent | undefined;
  /** event: the first match anywhere. */
  first: BusTraceEvent | undefined;
  n: number;
  /** order: steps done, the last step's event, each step's first match anywhere. */
  step: number;
  last: BusTraceEvent | undefined;
  any: (BusTraceEvent | undefined)[];
}

/** Judge `expectations` over a whole trace (what `ExpectationWatch` does as a run goes). */
export function evaluate(
  expectations: readonly Expectation[],
  trace: readonly BusTraceEvent[],
  names: ReadonlyMap<string, string>,
): ExpectationResult[] {
  const watch = new ExpectationWatch(expectations, names);
  for (const e of trace) watch.push(e);
  return watch.results();
}
