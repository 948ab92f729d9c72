/**
 * A run's risk view: each risk of the scenario's `risks:` section (schema-risks.ts) measured
 * over the trace - how often it was attempted, took effect and was detected, and the delay
 * between two events - and scored by the SECMP0038 slides' formula:
 *
 *   Threat = capability x motivation;  Impact = max(confidentiality, integrity, availability)
 *   score  = (likelihood + Threat) x Impact        (1..5 scales: 2..150)
 *
 * The scores are the scenario file's inputs; only the counts and delays come from the run.
 * The rating bands are an assumption (the slides name Critical, High, Moderate, Low and
 * Negligible but not their thresholds): RATING_BANDS below.
 */
import type { BusTraceEvent } from '@gbhan/radio-bus';
import { formatTime, matches } from './expect.js';
import {
  type Matcher,
  RISK_CATEGORIES,
  type Risk,
  type RiskCategory,
  type ScoreName,
} from './schema-risks.js';

export type Rating = 'Critical' | 'High' | 'Moderate' | 'Low' | 'Negligible';

/**
 * Lowest score of each band, highest first (assumed: the slides give no thresholds). On the
 * 2..150 range: Critical from 2/3 of the top, High from 40 %, Moderate from 20 %, Low from 10,
 * Negligible below; all scores at the default 3 give 36, Moderate.
 */
export const RATING_BANDS: readonly { rating: Rating; min: number }[] = [
  { rating: 'Critical', min: 100 },
  { rating: 'High', min: 60 },
  { rating: 'Moderate', min: 30 },
  { rating: 'Low', min: 10 },
  { rating: 'Negligible', min: Number.NEGATIVE_INFINITY },
];

export interface RiskScore {
  threat: number;
  impact: number;
  score: number;
  rating: Rating;
}

/** The slides' formula: (likelihood + capability x motivation) x max(C, I, A), and its band. */
export function riskScore(s: Record<ScoreName, number>): RiskScore {
  const threat = s.capability * s.motivation;
  const impact = Math.max(s.confidentiality, s.integrity, s.availability);
  const score = (s.likelihood + threat) * impact;
  return { threat, impact, score, rating: ratingOf(score) };
}

export function ratingOf(score: number): Rating {
  return RATING_BANDS.find((b) => score >= b.min)!.rating;
}

export interface RiskDelay {
  /** `from` events followed by a `to` event. */
  samples: number;
  /** `from` events with no `to` event after them in the run. */
  unmatched: number;
  /** Seconds; null without samples. */
  medianS: number | null;
  maxS: number | null;
}

export interface RiskResult {
  id: string;
  category: RiskCategory;
  categoryTitle: string;
  title: string;
  line: number | null;
  /** The file's scores (inputs) and what the formula makes of them. */
  scores: Record<ScoreName, number> & RiskScore;
  defaulted: ScoreName[];
  /** False when nothing matched `attempts`: the run did not exercise the risk. */
  exercised: boolean;
  attempts: number;
  executed: number;
  detected: number;
  delay?: RiskDelay;
  /** The risk's window (virtual microseconds), when it has one. */
  afterUs?: number;
  beforeUs?: number;
}

function inWindow(t: number, r: Risk): boolean {
  return (r.after === undefined || t >= r.after) && (r.before === undefined || t <= r.before);
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Each `from` event (in the risk's window) paired with the first `to` event after it in the
 * trace (anywhere later: an alert may come after the window); microseconds to seconds.
 */
function measureDelay(
  r: Risk,
  d: { from: Matcher; to: Matcher },
  trace: readonly BusTraceEvent[],
): RiskDelay {
  const delays: number[] = [];
  let unmatched = 0;
  let pending: number[] = []; // times of `from` events still waiting for a `to`
  for (const e of trace) {
    if (pending.length > 0 && matches(d.to, e)) {
      for (const t of pending) delays.push((e.t - t) / 1e6);
      pending = [];
    }
    if (inWindow(e.t, r) && matches(d.from, e)) pending.push(e.t);
  }
  unmatched = pending.length;
  delays.sort((a, b) => a - b);
  return {
    samples: delays.length,
    unmatched,
    medianS: delays.length === 0 ? null : median(delays),
    maxS: delays.length === 0 ? null : delays[delays.length - 1]!,
  };
}

/** Every risk measured over the trace, in the file's order. */
/**
 * True when `e` can change some risk's measurement: a run keeps only these (a streamed trace
 * is not held), and `measureRisks` over them gives what it gives over the whole trace.
 */
export function riskRelevant(risks: readonly Risk[], e: BusTraceEvent): boolean {
  return risks.some(
    (r) =>
      matches(r.attempts, e) ||
      matches(r.executed, e) ||
      matches(r.detected, e) ||
      (r.delay !== undefined && (matches(r.delay.from, e) || matches(r.delay.to, e))),
  );
}

export function measureRisks(risks: readonly Risk[], trace: readonly BusTraceEvent[]): RiskResult[] {
  return risks.map((r): RiskResult => {
    let attempts = 0;
    let executed = 0;
    let detected = 0;
    for (const e of trace) {
      if (!inWindow(e.t, r)) continue;
      if (matches(r.attempts, e)) attempts++;
      if (matches(r.executed, e)) executed++;
      if (matches(r.detected, e)) detected++;
    }
    return {
      id: r.id,
      category: r.category,
      categoryTitle: RISK_CATEGORIES[r.category],
      title: r.title,
      line: r.line,
      scores: { ...r.scores, ...riskScore(r.scores) },
      defaulted: r.defaulted,
      exercised: attempts > 0,
      attempts,
      executed,
      detected,
      ...(r.delay === undefined ? {} : { delay: measureDelay(r, r.delay, trace) }),
      ...(r.after === undefined ? {} : { afterUs: r.after }),
      ...(r.before === undefined ? {} : { beforeUs: r.before }),
    };
  });
}

const seconds = (s: number | null) => (s === null ? '-' : `${Number(s.toFixed(3))}s`);

/**
 * The table for people, grouped by category in the slides' order: per risk its score and
 * band (`*` when a score was left at its default), the counts, the delay and the title.
 */
export function riskLines(results: readonly RiskResult[]): string[] {
  if (results.length === 0) return [];
  const lines = [
    "  risks (score = (likelihood + capability x motivation) x max(C, I, A): the scores are the file's, the counts this run's; * = a score left at its default):",
  ];
  const header = ['id', 'score', 'rating', 'attempts', 'executed', 'detected', 'delay median/max', 'title'];
  const row = (r: RiskResult): string[] => [
    r.id,
    `${r.scores.score}${r.defaulted.length > 0 ? '*' : ''}`,
    r.scores.rating,
    String(r.attempts),
    r.exercised ? String(r.executed) : 'not',
    r.exercised ? String(r.detected) : 'exercised',
    r.delay === undefined
      ? '-'
      : `${seconds(r.delay.medianS)}/${seconds(r.delay.maxS)}${r.delay.unmatched > 0 ? ` (${r.delay.unmatched} unanswered)` : ''}`,
    `${r.title}${windowText(r)}`,
  ];
  const all = [header, ...results.map(row)];
  const widths = header.map((_, i) => Math.max(...all.map((cells) => cells[i]!.length)));
  const fmt = (cells: string[]) =>
    `      ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  for (const category of Object.keys(RISK_CATEGORIES) as RiskCategory[]) {
    const mine = results.filter((r) => r.category === category);
    if (mine.length === 0) continue;
    lines.push(`    ${RISK_CATEGORIES[category]}`, fmt(header));
    for (const r of mine) lines.push(fmt(row(r)));
  }
  return lines;
}

/** ` (after 5m, before 8m)` for a risk with a window. */
function windowText(r: RiskResult): string {
  const parts = [
    ...(r.afterUs === undefined ? [] : [`after ${formatTime(r.afterUs)}`]),
    ...(r.beforeUs === undefined ? [] : [`before ${formatTime(r.beforeUs)}`]),
  ];
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}
