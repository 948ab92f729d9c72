/**
 * Study files: placeholders filled as documented (whole values, spliced lists, fields of
 * named values), runs = combinations x seeds, and every kind of mistake reported as one
 * SweepError with its code, the file and the line (also through the CLI: exit 2, one line).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gbhan } from '@gbhan/testing/cli';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fill, parseStudy, SweepError } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gbhan-sweep-study-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = `name: s
seeds: 2
parameters:
  window: [60m, unlimited]
  gap: { range: [5, 15, 5] }
  extra:
    values:
      none: []
      two: [{ at: 1m, device: a, action: power-off }, { at: 2m, device: a, action: power-on }]
scenario:
  duration: 10m
  devices:
    - id: a
      type: comms-hub
      eui64: 00124b0000c0ff01
      channel: 15
      position: { x: '{{gap}}', y: 0 }
      config: { interPanWindow: '{{window}}' }
  timeline: ['{{extra}}']
metrics: [window]
`;

function error(text: string): SweepError {
  try {
    parseStudy(text, 'bad.yaml');
  } catch (e) {
    if (e instanceof SweepError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('study files', () => {
  it('expands to every combination x seed, placeholders filled', () => {
    const s = parseStudy(GOOD, 'good.yaml');
    expect(s.tasks).toHaveLength(2 * 3 * 2 * 2);
    expect(s.tasks[0]!.key).toBe('window=60m,gap=5,extra=none,seed=1');
    const t = s.tasks.find((x) => x.key === 'window=unlimited,gap=15,extra=two,seed=2')!;
    const doc = parse(t.scenarioText);
    expect(doc.seed).toBe(2);
    expect(doc.devices[0].position).toEqual({ x: 15, y: 0 });
    expect(doc.devices[0].config.interPanWindow).toBe('unlimited');
    expect(doc.timeline).toHaveLength(2);
    expect(parse(s.tasks[0]!.scenarioText).timeline).toEqual([]);
  });

  it('fills fields of named values, and labels inside longer strings', () => {
    const vars = new Map([
      ['place', { label: 'terrace', value: { target: 'ch-6', at: { x: 1 } } }],
      ['n', { label: '3', value: 3 }],
    ]);
    expect(
      fill({ t: '{{place.target}}', p: '{{place.at}}', s: 'x-{{n}}-{{place}}', k: '{{n}}' }, vars),
    ).toEqual({
      t: 'ch-6',
      p: { x: 1 },
      s: 'x-3-terrace',
      k: 3,
    });
  });

  it('--quick replaces values, seeds and the duration', () => {
    const s = parseStudy(
      `${GOOD}quick:\n  seeds: 1\n  duration: 5m\n  parameters: { gap: [5] }\n`,
      'q.yaml',
      {
        quick: true,
      },
    );
    expect(s.tasks).toHaveLength(2 * 1 * 2 * 1);
    expect(s.outName).toBe('s-quick');
    expect(parse(s.tasks[0]!.scenarioText).duration).toBe('5m');
  });

  it.each([
    ['bad YAML', GOOD.replace('seeds: 2', 'seeds: [2'), 'STUDY_YAML', 3],
    ['an unknown field', GOOD.replace('seeds: 2', 'seeds: 2\nseed: 3'), 'STUDY_SCHEMA', 3],
    [
      'an unknown metric',
      GOOD.replace('metrics: [window]', 'metrics:\n  - window\n  - exposur'),
      'STUDY_UNKNOWN_METRIC',
      22,
    ],
    [
      'a bad metric option',
      GOOD.replace('metrics: [window]', 'metrics:\n  - exposure: { classes: [-5] }'),
      'STUDY_SCHEMA',
      21,
    ],
    ['an unknown plot', `${GOOD}plots: [pie]\n`, 'STUDY_UNKNOWN_PLOT', 21],
    ['a placeholder that is no parameter', GOOD.replace("'{{gap}}'", "'{{gapp}}'"), 'STUDY_PLACEHOLDER', 17],
    ['a parameter no placeholder uses', GOOD.replace("'{{gap}}'", '1'), 'STUDY_PLACEHOLDER', 5],
    [
      'a field a named value lacks',
      GOOD.replace("['{{extra}}']", "['{{extra.when}}']"),
      'STUDY_PLACEHOLDER',
      7,
    ],
    ['seeds missing', GOOD.replace('seeds: 2\n', ''), 'STUDY_SCHEMA', 1],
    ['an empty range', GOOD.replace('[5, 15, 5]', '[15, 5, 5]'), 'STUDY_SCHEMA', 5],
    ['a scenario the loader refuses', GOOD.replace('duration: 10m', 'duration: 1m'), 'STUDY_SCENARIO', 11],
    ['--quick without a quick section', GOOD, 'STUDY_SCHEMA', 1],
  ] as const)('%s: %s', (name, text, code, line) => {
    const e = name.startsWith('--quick')
      ? (() => {
          try {
            parseStudy(text, 'bad.yaml', { quick: true });
          } catch (x) {
            return x as SweepError;
          }
          throw new Error('no error');
        })()
      : error(text);
    expect(e.code).toBe(code);
    expect(e.line).toBe(line);
    expect(e.message).toMatch(new RegExp(`^bad\\.yaml:${line}: .*\\[${code}\\]$`));
  });

  it('the scenario error says which combination and which field', () => {
    const e = error(GOOD.replace('duration: 10m', 'duration: 1m'));
    expect(e.message).toContain('window=60m,gap=5,extra=two');
    expect(e.message).toContain('SCENARIO_BAD_TIME');
  });

  it('the CLI: one line with file:line, exit code 2', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, GOOD.replace('metrics: [window]', 'metrics: [windw]'));
    const r = await gbhan(['sweep', file, '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.out.trim()).toBe(
      `gbhan: ${file}:20: metrics.0: unknown metric "windw" (known: window, exposure, attacker-frames, ppmid-pairing) [STUDY_UNKNOWN_METRIC]`,
    );
    const missing = await gbhan(['sweep', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/nope\.yaml: cannot read: .*\[STUDY_READ\]/);
    const badQueue = await gbhan(['sweep', file, '--queue', 'http://x']);
    expect(badQueue.code).toBe(2);
    expect(badQueue.out).toContain('only redis://host:port is supported [SWEEP_OPTION]');
  });
});
