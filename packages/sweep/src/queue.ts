/**
 * The same sweep over BullMQ (Redis), for runs spread over machines. `runQueued` enqueues
 * the study's missing runs as one flow: a parent `collect` job whose children are the runs
 * (queue `gbhan-sweep-runs`, 2 attempts each); rows reach the sweep as each run completes
 * (QueueEvents), and when the last child is done the parent's processor - this process,
 * on a queue of its own - reads every child's value, so a row whose event was missed is
 * still collected. `startWorker` takes run jobs on any machine (`gbhan worker`): each job in
 * a sandboxed process, with BullMQ's lock renewal, stalled-job recovery and retries.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlowProducer, QueueEvents, Worker } from 'bullmq';
import { SweepError } from './errors.js';
import type { RunJobData } from './queue-job.js';
import type { Row } from './run-one.js';
import type { RunTask } from './study.js';

export const RUNS_QUEUE = 'gbhan-sweep-runs';
const PROCESSOR = fileURLToPath(new URL('../bin/queue-processor.js', import.meta.url));

export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  /** BullMQ workers block on Redis: no per-request retry limit. */
  maxRetriesPerRequest: null;
}

/** `redis://[user:password@]host:port[/db]` to connection options (SweepError when it is not one). */
export function parseRedisUrl(url: string): RedisConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SweepError('SWEEP_OPTION', '--queue', null, '', `not a URL: ${url} (redis://host:port)`);
  }
  if (u.protocol !== 'redis:')
    throw new SweepError('SWEEP_OPTION', '--queue', null, '', `${url}: only redis://host:port is supported`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db))
    throw new SweepError('SWEEP_OPTION', '--queue', null, '', `${url}: the database is a number`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port === '' ? 6379 : Number(u.port),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db === undefined ? {} : { db }),
    maxRetriesPerRequest: null,
  };
}

export interface QueuedOptions {
  connection: RedisConnection;
  onRow: (row: Row) => void;
  /** Wall-clock ms to wait for the whole flow (default: no limit). */
  timeoutMs?: number;
}

/** Enqueue `tasks` as one flow and resolve when every run has a row. */
export async function runQueued(tasks: readonly RunTask[], o: QueuedOptions): Promise<void> {
  if (tasks.length === 0) return;
  const runId = `${tasks[0]!.study}-${randomBytes(6).toString('hex')}`;
  const collectQueue = `gbhan-sweep-collect-${runId}`;
  const seen = new Set<string>();
  const deliver = (row: Row) => {
    if (seen.has(row.key)) return;
    seen.add(row.key);
    o.onRow(row);
  };
  const events = new QueueEvents(RUNS_QUEUE, { connection: o.connection });
  events.on('completed', ({ jobId, returnvalue }) => {
    if (!jobId.startsWith(`${runId}-`)) return;
    const v = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as Row;
    deliver(v);
  });
  await events.waitUntilReady();
  let done: () => void = () => {};
  let fail: (e: Error) => void = () => {};
  const finished = new Promise<void>((res, rej) => {
    done = res;
    fail = rej;
  });
  const collector = new Worker(
    collectQueue,
    async (job) => {
      const values = (await job.getChildrenValues()) as Record<string, Row>;
      for (const row of Object.values(values)) deliver(row);
      return Object.keys(values).length;
    },
    { connection: o.connection },
  );
  collector.on('completed', () => done());
  collector.on('failed', (_, e) => fail(e));
  const flow = new FlowProducer({ connection: o.connection });
  // Wall clock: a limit for a test or a user who will not wait forever.
  const timer =
    o.timeoutMs === undefined
      ? null
      : setTimeout(() => fail(new Error('the queued sweep timed out')), o.timeoutMs);
  try {
    await flow.add({
      name: 'collect',
      queueName: collectQueue,
      data: { runId, runs: tasks.length },
      opts: { jobId: runId, removeOnComplete: true },
      children: tasks.map((task, i) => ({
        name: 'run',
        queueName: RUNS_QUEUE,
        data: { task, runId } satisfies RunJobData,
        opts: {
          jobId: `${runId}-${i}`,
          attempts: 2,
          backoff: { type: 'fixed', delay: 1000 },
          // Kept a day (the parent reads the values it stored when each child completed).
          removeOnComplete: { age: 24 * 3600 },
          removeOnFail: { age: 24 * 3600 },
        },
      })),
    });
    await finished;
  } finally {
    if (timer !== null) clearTimeout(timer);
    await flow.close();
    await collector.close();
    await events.close();
  }
}

export interface WorkerOptions {
  connection: RedisConnection;
  /** Runs at once on this machine (default 1). */
  concurrency?: number;
  /** Where this worker writes the runs' outputs (default `out`). */
  out?: string;
  /** ms between stalled-job checks (BullMQ default 30 s); a job whose worker died is taken again. */
  stalledIntervalMs?: number;
  lockDurationMs?: number;
}

/** A worker taking run jobs until closed. */
export function startWorker(o: WorkerOptions): Worker {
  // The sandboxed processes inherit the environment: tell them where runs go.
  process.env.GBHAN_WORKER_OUT = resolve(o.out ?? 'out');
  return new Worker(RUNS_QUEUE, PROCESSOR, {
    connection: o.connection,
    concurrency: o.concurrency ?? 1,
    useWorkerThreads: false,
    ...(o.stalledIntervalMs === undefined ? {} : { stalledInterval: o.stalledIntervalMs }),
    ...(o.lockDurationMs === undefined ? {} : { lockDuration: o.lockDurationMs }),
    maxStalledCount: 1,
  });
}
