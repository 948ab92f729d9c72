/**
 * What a BullMQ worker does with one run job (in its sandboxed process): the run, as the
 * local pool does it. A failure is thrown while BullMQ has an attempt left (it retries the
 * job, on this worker or another); the last failure becomes the run's error row, so the
 * parent flow always completes and no run is silently dropped.
 */
import { join } from 'node:path';
import { errorRow, type Row, runOne } from './run-one.js';
import type { RunTask } from './study.js';

export interface RunJobData {
  task: RunTask;
  /** Hint only: each worker writes runs under its own --out. */
  runId: string;
}

interface JobLike {
  data: RunJobData & { workerOut?: string };
  attemptsMade: number;
  opts: { attempts?: number };
}

export async function processRunJob(job: JobLike): Promise<Row> {
  const attempt = job.attemptsMade + 1;
  const studyOut = join(job.data.workerOut ?? process.env.GBHAN_WORKER_OUT ?? 'out', job.data.task.study);
  try {
    return await runOne(job.data.task, studyOut, attempt);
  } catch (e) {
    if (attempt < (job.opts.attempts ?? 1)) throw e;
    return errorRow(job.data.task, e, attempt);
  }
}
