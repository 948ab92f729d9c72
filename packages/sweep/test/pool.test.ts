/**
 * The local pool: runs on worker threads give the rows an in-process run gives; a run that
 * fails is tried once more and then recorded as an error row with its message - never
 * dropped - while the others go on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStudy, type Row, runLocal, runOne, runWithRetry } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gbhan-sweep-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const study = parseStudy(
  `name: pool
seeds: 2
parameters: { window: [60m, unlimited] }
scenario:
  duration: 90m
  devices:
    - { id: ch, type: comms-hub, eui64: 00124b0000c0ff01, channel: 15, position: { x: 0, y: 0 }, config: { interPanWindow: '{{window}}', cbkeSuite: 1 } }
metrics: [window]
`,
  'pool.yaml',
);

describe('local pool', () => {
  it('runs on threads, retries a failed run once, then records its error', async () => {
    const broken = { ...study.tasks[1]!, key: 'broken', scenarioText: 'duration: [' };
    const tasks = [study.tasks[0]!, broken, study.tasks[2]!, study.tasks[3]!];
    const rows: Row[] = [];
    await runLocal(tasks, join(dir, 'threads'), { workers: 2, onRow: (r) => rows.push(r) });
    expect(rows.map((r) => r.key).sort()).toEqual(tasks.map((t) => t.key).sort());
    const bad = rows.find((r) => r.key === 'broken')!;
    expect(bad).toMatchObject({ status: 'error', attempts: 2 });
    expect(bad.error).toMatch(/invalid YAML/);
    const ok = rows.filter((r) => r.status === 'ok');
    expect(ok.map((r) => r.values.open_hub_min).sort()).toEqual([60, 90, 90]);
    // the same row as a run in this process (wall time aside)
    const here = await runOne(study.tasks[0]!, join(dir, 'here'));
    const there = rows.find((r) => r.key === study.tasks[0]!.key)!;
    expect({ ...there, wall_ms: 0 }).toEqual({ ...here, wall_ms: 0 });
  });

  it('a run that fails once and then succeeds keeps its row, with 2 attempts', async () => {
    let calls = 0;
    const row = await runWithRetry(async (attempt) => {
      calls++;
      if (attempt === 1) throw new Error('a transient failure');
      return runOne(study.tasks[3]!, join(dir, 'retry'), attempt);
    }, study.tasks[3]!);
    expect(calls).toBe(2);
    expect(row).toMatchObject({ status: 'ok', attempts: 2 });
  });
});
