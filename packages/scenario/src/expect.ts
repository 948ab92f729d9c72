/**
 * Expectations, judged over the whole trace after the run: each one held or failed, with the
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

export function evaluate(
  expectations: readonly Expectation[],
  trace: readonly BusTraceEvent[],
  names: ReadonlyMap<string, string>,
): ExpectationResult[] {
  const ev = (e: BusTraceEvent) => ({ t: e.t, summary: summarizeEvent(e, names) });
  return expectations.map((x): ExpectationResult => {
    const base = { text: x.text, line: x.line };
    switch (x.kind) {
      case 'event': {
        const hit = trace.find((e) => inWindow(e.t, x) && matches(x.match, e));
        if (hit) return { ...base, held: true, detail: `at ${formatTime(hit.t)}`, event: ev(hit) };
        const late = trace.find((e) => matches(x.match, e));
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
        const hit = trace.find((e) => inWindow(e.t, x) && matches(x.match, e));
        return hit
          ? { ...base, held: false, detail: `happened at ${formatTime(hit.t)}`, event: ev(hit) }
          : { ...base, held: true, detail: `did not happen${windowText(x)}` };
      }
      case 'count': {
        let n = 0;
        let nth: BusTraceEvent | undefined;
        for (const e of trace) {
          if (!inWindow(e.t, x) || !matches(x.match, e)) continue;
          n++;
          if (x.max !== undefined && n === x.max + 1) nth = e;
        }
        const held = (x.min === undefined || n >= x.min) && (x.max === undefined || n <= x.max);
        const range = `${x.min ?? 0}..${x.max ?? '∞'}`;
        return {
          ...base,
          held,
          detail: `${n} (expected ${range})${windowText(x)}`,
          ...(nth === undefined ? {} : { event: ev(nth) }),
        };
      }
      default: {
        // 'order'
        let prev: BusTraceEvent | undefined;
        let from = 0;
        for (const [i, m] of x.matches.entries()) {
          const index = trace.findIndex((e, j) => j >= from && inWindow(e.t, x) && matches(m, e));
          const hit = index < 0 ? undefined : trace[index];
          if (hit === undefined) {
            const any = trace.find((e) => matches(m, e));
            return {
              ...base,
              held: false,
              detail: any
                ? `step ${i + 1} first happened at ${formatTime(any.t)}, not after step ${i}${windowText(x)}`
                : `step ${i + 1} never happened`,
              ...(any === undefined ? {} : { event: ev(any) }),
            };
          }
          prev = hit;
          from = index + 1;
        }
        return { ...base, held: true, detail: `in order, last at ${formatTime(prev!.t)}`, event: ev(prev!) };
      }
    }
  });
}
