/**
 * One run of a study: the task's scenario, run in this process (in-process devices) with the
 * study's metrics observing the trace as it streams, into one result row. Used alike by the
 * local pool's worker threads and by BullMQ workers, so both give the same row for the same
 * task (wall time aside).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario, runScenario } from '@gbhan/scenario';
import { observeMetrics } from './metrics.js';
import type { RunTask } from './study.js';

export interface Row {
  key: string;
  params: Record<string, string>;
  seed: string;
  status: 'ok' | 'error';
  /** Attempts it took (2: retried once). */
  attempts: number;
  error: string;
  /** The scenario's own expectations, if its template has any. */
  held: number;
  total: number;
  values: Record<string, number | null>;
  series: Record<string, number[]>;
  /** The run's outputs, relative to the study's output directory. */
  out: string;
  /** Wall time of the last attempt (not compared between pools). */
  wall_ms: number;
}

export async function runOne(task: RunTask, studyOut: string, attempts = 1): Promise<Row> {
  // Wall clock: only for the row's wall_ms column.
  const start = performance.now();
  const runsRoot = join(studyOut, 'runs');
  const dir = join(runsRoot, task.dir);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'scenario.yaml'), task.scenarioText);
  const scenario = parseScenario(task.scenarioText, join(dir, 'scenario.yaml'), { maxDevices: 2000 });
  const metrics = observeMetrics(task.metrics, {
    devices: scenario.devices,
    medium: scenario.medium,
    durationUs: scenario.durationUs,
  });
  const r = await runScenario(scenario, { outRoot: runsRoot, onEvent: (e) => metrics.push(e) });
  const m = metrics.finish();
  return {
    key: task.key,
    params: task.params,
    seed: task.seed,
    status: 'ok',
    attempts,
    error: '',
    held: r.held,
    total: r.total,
    values: m.values,
    series: m.series ?? {},
    out: `runs/${task.dir}`,
    wall_ms: Math.round(performance.now() - start),
  };
}

/** The row of a run that failed twice: its error recorded, never dropped. */
export function errorRow(task: RunTask, error: unknown, attempts: number): Row {
  const message = error instanceof Error ? error.message : String(error);
  return {
    key: task.key,
    params: task.params,
    seed: task.seed,
    status: 'error',
    attempts,
    error: message.split('\n')[0]!.slice(0, 500),
    held: 0,
    total: 0,
    values: {},
    series: {},
    out: `runs/${task.dir}`,
    wall_ms: 0,
  };
}

/** Run a task, once more if it fails; a second failure is an error row. */
export async function runWithRetry(run: (attempt: number) => Promise<Row>, task: RunTask): Promise<Row> {
  try {
    return await run(1);
  } catch {
    try {
      return await run(2);
    } catch (e) {
      return errorRow(task, e, 2);
    }
  }
}
