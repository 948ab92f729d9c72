/**
 * The run's trace event catalogue: each device event declared once, and a run's trace matches
 * the declarations line by line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineTraceEvents, mergeTraceCatalogues } from '@gbhan/radio-bus';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkTraceFile,
  DEVICE_TRACE_EVENTS,
  loadScenario,
  runScenario,
  TRACE_CATALOGUES,
} from '../src/index.js';

const ROOT = join(import.meta.dirname, '../../..');

describe('the catalogues', () => {
  it('declare each device event once, with a description', () => {
    const types = TRACE_CATALOGUES.slice(1).flatMap((c) => c.types);
    expect(new Set(types).size).toBe(types.length);
    expect(DEVICE_TRACE_EVENTS.types).toHaveLength(types.length);
    for (const c of TRACE_CATALOGUES)
      for (const t of c.types) expect(c.specs[t]!.description, `${c.name} ${t}`).toMatch(/^[A-Z`].*\.$/);
    const a = defineTraceEvents('a', 'A.', { x: { description: 'X.', fields: {} } });
    const b = defineTraceEvents('b', 'B.', { x: { description: 'X.', fields: { n: z.number() } } });
    expect(() => mergeTraceCatalogues('both', 'Both.', [a, b])).toThrow(/x is declared by both a and b/);
  });
});

describe('a run against the catalogue', () => {
  it('emits only declared events with declared fields; a stray field is found with its line', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gbhan-catalogue-'));
    const r = await runScenario(loadScenario(join(ROOT, 'scenarios/insider-on-the-han.yaml')), {
      outRoot: out,
    });
    expect(r.passed).toBe(true);
    const trace = join(out, 'insider-on-the-han', 'trace.jsonl');
    expect(checkTraceFile(trace)).toEqual([]);

    const lines = readFileSync(trace, 'utf8').trimEnd().split('\n');
    const i = lines.findIndex((l) => l.includes('"type":"frame-dropped"'));
    const j = lines.findIndex((l) => l.includes('"type":"rx"'));
    const e = JSON.parse(lines[i]!);
    e.event.reasn = e.event.reason;
    lines[i] = JSON.stringify(e);
    lines[j] = lines[j]!.replace('"type":"rx"', '"type":"rxx"');
    const bad = join(out, 'bad.jsonl');
    writeFileSync(bad, `${lines.join('\n')}\n`);
    expect(checkTraceFile(bad)).toEqual(
      [
        {
          line: i + 1,
          type: 'device:frame-dropped',
          path: 'event.reasn',
          message: 'not a field of frame-dropped events',
        },
        {
          line: j + 1,
          type: 'rxx',
          path: 'type',
          message: 'unknown radio-bus event type "rxx" (did you mean "rx"?)',
        },
      ].sort((x, y) => x.line - y.line),
    );
  });
});
