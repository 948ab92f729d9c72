/**
 * The local pool: runs spread over worker threads (piscina), one run per thread at a time.
 * Memory stays bounded: only `workers` tasks are handed out at once (the rest wait here as
 * plain task objects), and each thread has a heap limit, so a run that blows up fails alone
 * (recorded with its error) instead of taking the machine down. A failed run is tried once more.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { type Row, runWithRetry } from './run-one.js';
import type { RunTask } from './study.js';

const WORKER = fileURLToPath(new URL('../bin/pool-worker.js', import.meta.url));

export interface PoolOptions {
  /** Threads (default: the machine's cores). */
  workers?: number;
  /** Heap limit per thread, MB (default 2048). */
  maxHeapMb?: number;
  onRow: (row: Row) => void;
  /** Set to stop handing out tasks (runs in flight finish). */
  signal?: AbortSignal;
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

export async function runLocal(tasks: readonly RunTask[], studyOut: string, o: PoolOptions): Promise<void> {
  const workers = Math.max(1, Math.min(o.workers ?? defaultWorkers(), tasks.length || 1));
  const pool = new Piscina({
    filename: WORKER,
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: 1,
    // A thread that dies (heap limit) is replaced; its task rejects and is retried or recorded.
    resourceLimits: { maxOldGenerationSizeMb: o.maxHeapMb ?? 2048 },
  });
  let next = 0;
  const lane = async () => {
    while (next < tasks.length && o.signal?.aborted !== true) {
      const task = tasks[next++]!;
      const row = await runWithRetry(
        (attempt) => pool.run({ task, studyOut, attempt }) as Promise<Row>,
        task,
      );
      o.onRow(row);
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, lane));
  } finally {
    await pool.destroy();
  }
}
