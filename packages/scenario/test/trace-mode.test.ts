/**
 * `trace: compact` (the default) counts the non-deliveries to radios out of range or on
 * another channel per radio instead of tracing them; `trace: full` traces them too. The two
 * runs are otherwise the same: same deliveries, same other drops, same counts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario } from '../src/index.js';

const scenario = (trace: string) => `name: trace-${trace}
seed: 3
duration: 1m
${trace === 'default' ? '' : `trace: ${trace}\n`}devices:
  - { id: hub, type: radio, eui64: 00124b0000000001, channel: 15, position: { x: 0, y: 0 }, config: { short: 0 } }
  - { id: near, type: radio, eui64: 00124b0000000002, channel: 15, position: { x: 5, y: 0 }, config: { period: 5s } }
  - { id: far, type: radio, eui64: 00124b0000000003, channel: 15, position: { x: 400, y: 0 }, config: { period: 5s } }
  - { id: other, type: radio, eui64: 00124b0000000004, channel: 20, position: { x: 3, y: 0 }, config: { period: 7s } }
`;

type Ev = { type: string; radio?: string; reason?: string };
const lines = (file: string): Ev[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Ev);
const isCounted = (e: Ev) =>
  e.type === 'drop' && (e.reason === 'out-of-range' || e.reason === 'wrong-channel');

describe('trace: compact / full', () => {
  it('compact counts per radio what full traces, and the rest of the trace is the same', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gbhan-trace-mode-'));
    const full = await runScenario(parseScenario(scenario('full'), 'full.yaml'), { outRoot: out });
    const compact = await runScenario(parseScenario(scenario('default'), 'compact.yaml'), { outRoot: out });
    expect(compact.trace).toBe('compact');
    const fullTrace = lines(full.outputs.trace!);
    const compactTrace = lines(compact.outputs.trace!);
    expect(compactTrace.filter(isCounted)).toEqual([]);
    expect(compactTrace).toEqual(fullTrace.filter((e) => !isCounted(e)));
    for (const reason of ['out-of-range', 'wrong-channel'] as const) {
      const traced = fullTrace.filter((e) => e.type === 'drop' && e.reason === reason);
      expect(traced.length, reason).toBeGreaterThan(0);
      const field = reason === 'out-of-range' ? 'outOfRange' : 'otherChannel';
      for (const r of compact.radios) {
        const n = traced.filter((e) => e.radio === r.eui64).length;
        expect(r[field], `${r.id} ${reason}`).toBe(n);
        expect(full.radios.find((x) => x.eui64 === r.eui64)![field]).toBe(n);
      }
    }
    expect(compact.drops).toEqual(full.drops);
    const summary = JSON.parse(readFileSync(compact.outputs.summary, 'utf8'));
    expect(summary.radios.find((r: { id: string }) => r.id === 'far').outOfRange).toBeGreaterThan(0);
  });
});
