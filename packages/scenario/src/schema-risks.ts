/**
 * A scenario's `risks:` section: the SECMP0038 risk assessment (SSC, 2019: 98 risks in four
 * categories, scored "aligned with ISO27005") made something a run measures. Each risk names
 * the events that show it was attempted, that it took effect and that it was detected (the
 * same matchers as expectations, checked against the trace event catalogue when the file
 * loads), optionally a delay between two events, and its scores. The scores are the file's
 * inputs (an assessor's judgement), not findings of the run: the run only counts events.
 * Apart from schema.ts, which only calls these; measured by risks.ts.
 */
import { duration } from '@gbhan/stack';
import { z } from 'zod';

/** The slides' four risk categories, in their order, with their titles. */
export const RISK_CATEGORIES = {
  'consumer-wlan': 'Consumer WLAN',
  'consumer-han': 'Consumer HAN',
  'dcc-user-infrastructure': 'DCC User Infrastructure',
  'alternative-channel': 'Alternative Channel',
} as const;
export type RiskCategory = keyof typeof RISK_CATEGORIES;

/** Every score is an integer on 1..5 (ISO 27005 practice: a five-point ordinal scale). */
export const SCORE_MIN = 1;
export const SCORE_MAX = 5;
/** An omitted score: the scale's midpoint, i.e. "not assessed" (listed in the result's `defaulted`). */
export const SCORE_DEFAULT = 3;
export const SCORE_NAMES = [
  'likelihood',
  'capability',
  'motivation',
  'confidentiality',
  'integrity',
  'availability',
] as const;
export type ScoreName = (typeof SCORE_NAMES)[number];

const score = z.number().int().min(SCORE_MIN).max(SCORE_MAX).optional();
const match = z.record(z.string(), z.unknown());

/** One risk as written (matchers not yet resolved nor checked against the catalogue). */
export const RiskSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ., - and _ only'),
  category: z.enum(Object.keys(RISK_CATEGORIES) as [RiskCategory, ...RiskCategory[]]),
  title: z.string().min(1),
  /** How likely the event is to happen (and happen again). */
  likelihood: score,
  /** Threat = capability x motivation of the threat actor. */
  capability: score,
  motivation: score,
  /** Impact = the largest of the three. */
  confidentiality: score,
  integrity: score,
  availability: score,
  /** Events showing the risk was tried: 0 of them = "not exercised". */
  attempts: match,
  /** Events showing it took effect (the control failed). */
  executed: match,
  /** Events showing a control noticed it (a refusal, a log entry, an alert). */
  detected: match,
  /** From each `from` event to the next `to` event (e.g. attack to alert at the DCC). */
  delay: z.strictObject({ from: match, to: match }).optional(),
  /** Only events in [after, before] count (the `from` of a delay; its `to` may come later). */
  after: duration.optional(),
  before: duration.optional(),
});
export const RisksSectionSchema = z.array(RiskSchema).default([]);

export type Matcher = Record<string, unknown>;

/** A loaded risk: matchers resolved (device ids as EUI64s) and checked, every score filled in. */
export interface Risk {
  id: string;
  category: RiskCategory;
  title: string;
  scores: Record<ScoreName, number>;
  /** The scores the file left out (each SCORE_DEFAULT). */
  defaulted: ScoreName[];
  attempts: Matcher;
  executed: Matcher;
  detected: Matcher;
  delay?: { from: Matcher; to: Matcher };
  after?: number;
  before?: number;
  line: number | null;
}

type Path = (string | number)[];

/**
 * The section with each matcher resolved and checked by `resolveMatch` (the expectations'
 * own: device ids become EUI64s, an unknown event or field throws SCENARIO_BAD_EVENT with its
 * line). `fail` throws the loader's error for a duplicate id or an empty window.
 */
export function resolveRisks(
  section: z.output<typeof RisksSectionSchema>,
  resolveMatch: (m: Matcher, path: Path) => Matcher,
  line: (path: Path) => number | null,
  fail: (code: 'SCENARIO_DUPLICATE_ID' | 'SCENARIO_BAD_TIME', path: Path, message: string) => never,
): Risk[] {
  const seen = new Set<string>();
  return section.map((r, i): Risk => {
    const path: Path = ['risks', i];
    if (seen.has(r.id))
      fail('SCENARIO_DUPLICATE_ID', [...path, 'id'], `duplicate risk id ${JSON.stringify(r.id)}`);
    seen.add(r.id);
    if (r.after !== undefined && r.before !== undefined && r.after > r.before)
      fail(
        'SCENARIO_BAD_TIME',
        [...path, 'after'],
        'after is later than before: no event can be in that window',
      );
    const scores = {} as Record<ScoreName, number>;
    const defaulted: ScoreName[] = [];
    for (const name of SCORE_NAMES) {
      scores[name] = r[name] ?? SCORE_DEFAULT;
      if (r[name] === undefined) defaulted.push(name);
    }
    return {
      id: r.id,
      category: r.category,
      title: r.title,
      scores,
      defaulted,
      attempts: resolveMatch(r.attempts, [...path, 'attempts']),
      executed: resolveMatch(r.executed, [...path, 'executed']),
      detected: resolveMatch(r.detected, [...path, 'detected']),
      ...(r.delay === undefined
        ? {}
        : {
            delay: {
              from: resolveMatch(r.delay.from, [...path, 'delay', 'from']),
              to: resolveMatch(r.delay.to, [...path, 'delay', 'to']),
            },
          }),
      ...(r.after === undefined ? {} : { after: r.after }),
      ...(r.before === undefined ? {} : { before: r.before }),
      line: line(path),
    };
  });
}
