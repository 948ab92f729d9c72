/**
 * The run's trace event catalogue: the bus's events, and the device events of every package
 * (stack, application runtime, comms hub, meters, PPMID, HHT, attacker, and the plain radio
 * here). Expectations are checked against it when a scenario loads (`checkMatch`), a run's
 * trace against it line by line (`checkTraceFile`), and docs/trace-events.md is generated from
 * it (`traceEventsMarkdown`). The packages' catalogues come with their kinds (kinds.ts), whose
 * modules load no protocol code.
 */
import { readFileSync } from 'node:fs';
import {
  type AnyTraceCatalogue,
  BUS_TRACE_EVENTS,
  checkTraceMatch,
  defineTraceEvents,
  listOf,
  mergeTraceCatalogues,
  type TraceEventOf,
  type TraceIssue,
  type TxStatus,
  validateTraceEvent,
} from '@gbhan/radio-bus';
import { APP_TRACE_EVENTS, type AppEmitted } from '@gbhan/runtime/trace-events';
import { STACK_TRACE_EVENTS } from '@gbhan/stack/trace-events';
import { z } from 'zod';
import { DEVICE_KINDS } from './kinds.js';

/** The built-in plain 802.15.4 radio's events (device type `radio`). */
export const SCENARIO_TRACE_EVENTS = defineTraceEvents(
  'scenario',
  'The built-in plain 802.15.4 radio (device type `radio`); it also uses `control-refused` (runtime).',
  {
    acked: {
      description: 'A data request the radio sent was acknowledged.',
      fields: { seq: z.number().int().min(0).max(255).describe('MAC sequence number') },
    },
    'tx-refused': {
      description: 'The bus refused a transmission.',
      fields: { status: z.enum(listOf<Exclude<TxStatus, 'sent'>>()(['duty-cycle', 'busy', 'off'])) },
    },
    'unknown-command': {
      description: 'A timeline action the radio does not know.',
      fields: { action: z.string() },
    },
  },
);
export type ScenarioTraceEvent = TraceEventOf<typeof SCENARIO_TRACE_EVENTS>;

/** What the scenario's device code traces: the plain radio's events and the stack's (`control-refused`, `key-export`). */
export type ScenarioEmitted = ScenarioTraceEvent | AppEmitted;

/** `radio.trace(event)`, with the compiler holding `event` to its declaration. */
export function traceScenario(
  radio: { trace(event: Record<string, unknown>): void },
  event: ScenarioEmitted,
): void {
  radio.trace(event);
}

/** The catalogues, bottom-up: the stack's, each kind's (a package with two kinds once), the plain radio's. */
const DEVICE_CATALOGUES: readonly AnyTraceCatalogue[] = [
  STACK_TRACE_EVENTS,
  APP_TRACE_EVENTS,
  ...new Set(DEVICE_KINDS.map((k) => k.traceEvents)),
  SCENARIO_TRACE_EVENTS,
];

/** Every package's device events, each declared once (a type declared twice throws here). */
export const DEVICE_TRACE_EVENTS: AnyTraceCatalogue = mergeTraceCatalogues(
  'device',
  'Events devices report (`{type: device, radio, event: {...}}`).',
  DEVICE_CATALOGUES,
);

/** The catalogues in documentation order: the bus, then the device packages bottom-up. */
export const TRACE_CATALOGUES: readonly AnyTraceCatalogue[] = [BUS_TRACE_EVENTS, ...DEVICE_CATALOGUES];

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Can an expectation's matcher match any event? Checked against the bus's events and, for a
 * device event's `event: {...}`, the devices'. Null when it can; else what is wrong and where
 * (`path` into the matcher).
 */
export function checkMatch(pattern: Record<string, unknown>): TraceIssue | null {
  const { event, ...rest } = pattern;
  const nested = pattern.type === 'device' && isObject(event);
  const issue = checkTraceMatch(BUS_TRACE_EVENTS, nested ? rest : pattern);
  if (issue !== null || !nested) return issue;
  const inner = checkTraceMatch(DEVICE_TRACE_EVENTS, event);
  return inner === null ? null : { path: ['event', ...inner.path], message: inner.message };
}

/** Strict check of one trace event (a `trace.jsonl` line): the bus's, and a device's inside. */
export function checkTraceEvent(event: unknown): TraceIssue | null {
  const issue = validateTraceEvent(BUS_TRACE_EVENTS, event);
  if (issue !== null || (event as { type: unknown }).type !== 'device') return issue;
  const inner = validateTraceEvent(DEVICE_TRACE_EVENTS, (event as { event: unknown }).event);
  return inner === null ? null : { path: ['event', ...inner.path], message: inner.message };
}

export interface TraceFileProblem {
  /** 1-based line of trace.jsonl. */
  line: number;
  /** The event's type (for a device event, `device:<its type>`). */
  type: string;
  path: string;
  message: string;
}

/**
 * Every event of a trace file that does not match its declaration (an undeclared type or
 * field, a value of the wrong type), at most `limit` of them, with their line numbers.
 */
export function checkTraceFile(file: string, limit = 20): TraceFileProblem[] {
  const problems: TraceFileProblem[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [i, text] of lines.entries()) {
    if (text === '') continue;
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (e) {
      problems.push({ line: i + 1, type: '?', path: '', message: `not JSON: ${(e as Error).message}` });
      continue;
    }
    const issue = checkTraceEvent(event);
    if (issue === null) continue;
    const e = event as { type?: unknown; event?: { type?: unknown } };
    problems.push({
      line: i + 1,
      type: e.type === 'device' ? `device:${String(e.event?.type)}` : String(e.type),
      path: issue.path.join('.'),
      message: issue.message,
    });
    if (problems.length >= limit) break;
  }
  return problems;
}
