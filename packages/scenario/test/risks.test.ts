/**
 * The `risks:` section: load errors with file:line (the expectations' matcher checks), the
 * SECMP0038 formula on hand-computed values, the measurement over a synthetic trace, and a
 * real run whose summary.json and printed report carry the table.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusTraceEvent } from '@gbhan/radio-bus';
import { describe, expect, it } from 'vitest';
import {
  measureRisks,
  parseScenario,
  type Risk,
  ratingOf,
  resultLines,
  riskScore,
  runScenario,
  ScenarioError,
} from '../src/index.js';

const HEAD = `name: risky
duration: 2m
devices:
  - { id: hub, type: radio, eui64: 00124b0000000001, channel: 15, position: { x: 0, y: 0 }, config: { short: 0 } }
  - { id: near, type: radio, eui64: 00124b0000000002, channel: 15, position: { x: 5, y: 0 }, config: { period: 5s } }
  - { id: far, type: radio, eui64: 00124b0000000003, channel: 15, position: { x: 400, y: 0 }, config: { period: 5s } }
timeline:
  - { at: 1m, action: jam, args: { band: 2.4GHz, channel: 15, position: { x: 2, y: 0 }, for: 30s } }
risks:
`;

// line 10 is the first risk's `- id:`
const RISK = `  - id: jam-han
    category: consumer-han
    title: a jammer denies the HAN
    likelihood: 4
    capability: 2
    motivation: 3
    availability: 4
    attempts: { type: jam, on: true }
    executed: { type: drop, reason: jammed }
    detected: { type: drop, radio: hub, reason: jammed }
    delay: { from: { type: jam, on: true }, to: { type: jam, on: false } }
`;

function refusal(risks: string): ScenarioError {
  try {
    parseScenario(HEAD + risks, 'scenarios/risky.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected the scenario to be refused');
}

describe('risks: loading', () => {
  it('loads a risk with its matchers resolved and the omitted scores at 3', () => {
    const s = parseScenario(HEAD + RISK, 'scenarios/risky.yaml');
    expect(s.risks).toHaveLength(1);
    const r = s.risks[0]!;
    expect(r.line).toBe(10);
    expect(r.scores).toEqual({
      likelihood: 4,
      capability: 2,
      motivation: 3,
      confidentiality: 3,
      integrity: 3,
      availability: 4,
    });
    expect(r.defaulted).toEqual(['confidentiality', 'integrity']);
    expect(r.detected).toEqual({ type: 'drop', radio: '00124b0000000001', reason: 'jammed' });
    expect(parseScenario(HEAD.replace('risks:\n', ''), 'x.yaml').risks).toEqual([]);
  });

  it('refuses an unknown category, naming the line and the field', () => {
    const e = refusal(RISK.replace('consumer-han', 'consumer-lan'));
    expect([e.code, e.line, e.field]).toEqual(['SCENARIO_SCHEMA', 11, 'risks.0.category']);
    expect(e.message).toMatch(/^scenarios\/risky\.yaml:11: risks\.0\.category: .*consumer-wlan/);
  });

  it('refuses a matcher naming an event or a field no code emits (the expectations check)', () => {
    const e = refusal(
      RISK.replace('{ type: drop, reason: jammed }', '{ type: device, event: { type: jamed } }'),
    );
    expect([e.code, e.line, e.field]).toEqual(['SCENARIO_BAD_EVENT', 18, 'risks.0.executed.event.type']);
    const field = refusal(RISK.replace('radio: hub, reason', 'radoi: hub, reason'));
    expect([field.code, field.line, field.field]).toEqual([
      'SCENARIO_BAD_EVENT',
      19,
      'risks.0.detected.radoi',
    ]);
    const delay = refusal(RISK.replace('to: { type: jam, on: false }', 'to: { type: jam, on: maybe }'));
    expect([delay.code, delay.line, delay.field]).toEqual(['SCENARIO_BAD_EVENT', 20, 'risks.0.delay.to.on']);
    const device = refusal(RISK.replace('radio: hub', 'radio: hug'));
    expect([device.code, device.field]).toEqual(['SCENARIO_UNKNOWN_REFERENCE', 'risks.0.detected.radio']);
  });

  it('refuses a score out of range, a missing matcher, an unknown field and a duplicate id', () => {
    const high = refusal(RISK.replace('likelihood: 4', 'likelihood: 6'));
    expect([high.code, high.line, high.field]).toEqual(['SCENARIO_SCHEMA', 13, 'risks.0.likelihood']);
    const low = refusal(RISK.replace('availability: 4', 'availability: 0'));
    expect([low.code, low.line, low.field]).toEqual(['SCENARIO_SCHEMA', 16, 'risks.0.availability']);
    expect(refusal(RISK.replace('motivation: 3', 'motivation: 2.5')).field).toBe('risks.0.motivation');
    const missing = refusal(RISK.replace(/ {4}detected: .*\n/, ''));
    expect([missing.code, missing.field]).toEqual(['SCENARIO_SCHEMA', 'risks.0.detected']);
    const unknown = refusal(RISK.replace('likelihood: 4', 'likelyhood: 4'));
    expect([unknown.code, unknown.line, unknown.field]).toEqual([
      'SCENARIO_SCHEMA',
      13,
      'risks.0.likelyhood',
    ]);
    expect(unknown.detail).toMatch(/unknown field \(allowed: id, category, title, likelihood/);
    const twice = refusal(RISK + RISK);
    expect([twice.code, twice.line, twice.field]).toEqual(['SCENARIO_DUPLICATE_ID', 21, 'risks.1.id']);
    const window = refusal(`${RISK}    after: 1m\n    before: 30s\n`);
    expect([window.code, window.field]).toEqual(['SCENARIO_BAD_TIME', 'risks.0.after']);
  });
});

describe('risks: the SECMP0038 formula', () => {
  it('(likelihood + capability x motivation) x max(C, I, A), hand-computed', () => {
    const s = {
      likelihood: 2,
      capability: 4,
      motivation: 3,
      confidentiality: 1,
      integrity: 5,
      availability: 2,
    };
    // threat 4 x 3 = 12; impact max(1, 5, 2) = 5; (2 + 12) x 5 = 70
    expect(riskScore(s)).toEqual({ threat: 12, impact: 5, score: 70, rating: 'High' });
    const all = (n: number) => ({
      likelihood: n,
      capability: n,
      motivation: n,
      confidentiality: n,
      integrity: n,
      availability: n,
    });
    expect(riskScore(all(3))).toMatchObject({ score: 36, rating: 'Moderate' }); // (3 + 9) x 3, the defaults
    expect(riskScore(all(1))).toMatchObject({ score: 2, rating: 'Negligible' }); // (1 + 1) x 1
    expect(riskScore(all(5))).toMatchObject({ score: 150, rating: 'Critical' }); // (5 + 25) x 5
  });

  it('rates by the assumed bands (Critical >= 100, High >= 60, Moderate >= 30, Low >= 10)', () => {
    expect([100, 99, 60, 59, 30, 29, 10, 9].map(ratingOf)).toEqual([
      'Critical',
      'High',
      'High',
      'Moderate',
      'Moderate',
      'Low',
      'Low',
      'Negligible',
    ]);
  });
});

describe('risks: measured over a trace', () => {
  const S = 1_000_000;
  const dev = (t: number, radio: string, event: Record<string, unknown>) =>
    ({ t, type: 'device', radio, event }) as unknown as BusTraceEvent;
  const trace: BusTraceEvent[] = [
    dev(1 * S, 'a', { type: 'try' }),
    dev(2 * S, 'b', { type: 'refused' }),
    dev(3 * S, 'b', { type: 'alert' }),
    dev(10 * S, 'a', { type: 'try' }),
    dev(11 * S, 'a', { type: 'try' }),
    dev(12 * S, 'b', { type: 'ran' }),
    dev(20 * S, 'b', { type: 'alert' }),
    dev(30 * S, 'a', { type: 'try' }),
  ];
  const scores = {
    likelihood: 1,
    capability: 1,
    motivation: 1,
    confidentiality: 1,
    integrity: 1,
    availability: 1,
  };
  const risk = (o: Partial<Risk>): Risk => ({
    id: 'r',
    category: 'consumer-han',
    title: 't',
    scores,
    defaulted: [],
    attempts: { type: 'device', radio: 'a', event: { type: 'try' } },
    executed: { type: 'device', event: { type: 'ran' } },
    detected: { type: 'device', event: { type: 'refused' } },
    line: null,
    ...o,
  });

  it('counts attempts, executed and detected, and the delay from each `from` to the next `to`', () => {
    const [r] = measureRisks(
      [
        risk({
          delay: {
            from: { type: 'device', event: { type: 'try' } },
            to: { type: 'device', event: { type: 'alert' } },
          },
        }),
      ],
      trace,
    );
    expect(r).toMatchObject({ exercised: true, attempts: 4, executed: 1, detected: 1 });
    // 1 -> 3 (2 s), 10 -> 20 (10 s), 11 -> 20 (9 s); the try at 30 s has no alert after it
    expect(r!.delay).toEqual({ samples: 3, unmatched: 1, medianS: 9, maxS: 10 });
    expect(r!.scores).toMatchObject({ score: 2, rating: 'Negligible' });
    expect(r!.categoryTitle).toBe('Consumer HAN');
  });

  it('counts only in the window (a delay may end after it); no attempts = not exercised', () => {
    const [windowed, idle] = measureRisks(
      [
        risk({
          after: 5 * S,
          before: 15 * S,
          delay: {
            from: { type: 'device', event: { type: 'try' } },
            to: { type: 'device', event: { type: 'alert' } },
          },
        }),
        risk({ id: 'idle', attempts: { type: 'device', event: { type: 'never-here' } } }),
      ],
      trace,
    );
    expect(windowed).toMatchObject({
      attempts: 2,
      executed: 1,
      detected: 0,
      afterUs: 5 * S,
      beforeUs: 15 * S,
    });
    expect(windowed!.delay).toEqual({ samples: 2, unmatched: 0, medianS: 9.5, maxS: 10 });
    expect(idle).toMatchObject({ id: 'idle', exercised: false, attempts: 0 });
  });
});

describe('risks: a run', () => {
  it("measures the scenario's risks, writes them to summary.json and prints them by category", async () => {
    const out = mkdtempSync(join(tmpdir(), 'gbhan-risks-'));
    const wlan = `  - id: far-acked
    category: consumer-wlan
    title: the far radio gets through
    attempts: { type: device, radio: far, event: { type: acked } }
    executed: { type: rx, radio: hub, from: far }
    detected: { type: drop, radio: hub, from: far }
`;
    const r = await runScenario(parseScenario(HEAD + RISK + wlan, 'risky.yaml'), { outRoot: out });
    const trace = readFileSync(join(out, 'risky', 'trace.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; reason?: string; radio?: string });
    const jammed = trace.filter((e) => e.type === 'drop' && e.reason === 'jammed');
    expect(jammed.length).toBeGreaterThan(0);
    const [jam, far] = r.risks;
    expect(jam).toMatchObject({
      id: 'jam-han',
      exercised: true,
      attempts: 1,
      executed: jammed.length,
      detected: jammed.filter((e) => e.radio === '00124b0000000001').length,
      delay: { samples: 1, unmatched: 0, medianS: 30, maxS: 30 },
      // (4 + 2 x 3) x max(3, 3, 4) = 40
      scores: { threat: 6, impact: 4, score: 40, rating: 'Moderate' },
      defaulted: ['confidentiality', 'integrity'],
    });
    expect(far).toMatchObject({ id: 'far-acked', exercised: false, attempts: 0, scores: { score: 36 } });

    const summary = JSON.parse(readFileSync(join(out, 'risky', 'summary.json'), 'utf8'));
    expect(summary.risks).toEqual(JSON.parse(JSON.stringify(r.risks)));

    const lines = resultLines(r);
    const at = (text: string) => lines.findIndex((l) => l.includes(text));
    expect(at('risks (score =')).toBeGreaterThan(0);
    // grouped in the slides' order: Consumer WLAN before Consumer HAN, whatever the file's order
    expect(at('    Consumer WLAN')).toBeGreaterThan(at('risks (score ='));
    expect(at('    Consumer HAN')).toBeGreaterThan(at('    Consumer WLAN'));
    expect(lines[at('far-acked')]).toMatch(/far-acked +36\* +Moderate +0 +not +exercised +- +the far radio/);
    expect(lines[at('jam-han')]).toMatch(
      new RegExp(`jam-han +40\\* +Moderate +1 +${jammed.length} +\\d+ +30s/30s +a jammer denies the HAN$`),
    );
  });
});
