/**
 * The sweep's command line: `gbhan sweep <study.yaml>` and `gbhan worker --queue redis://...`
 * (the `gbhan` launcher hands these two subcommands here; `gbhan-sweep` is the same entry).
 * Its own program rather than commands in @gbhan/scenario's CLI: the sweep sits above the
 * scenario package, which must not import it. Exit codes: 0 every run has an ok row, 1 a run
 * failed (recorded with its error), 2 a bad study file or option (one line, file:line).
 */
import { Command, CommanderError } from 'commander';
import { SweepError } from './errors.js';
import { parseRedisUrl, startWorker } from './queue.js';
import { runSweep } from './sweep.js';

const program = new Command();
program.name('gbhan').showHelpAfterError().exitOverride();

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new SweepError('SWEEP_OPTION', name, null, '', `a whole number >= 1, got ${v}`);
  return n;
};

program
  .command('sweep')
  .description('run a study: every combination of parameters x seed, results.csv, summary.csv, report.html')
  .argument('<study>', 'the study file (studies/*.yaml)')
  .option('--quick', "the study's quick variant (CI)")
  .option('--out <dir>', 'outputs go to <dir>/<study name>/', 'out')
  .option('--workers <n>', 'worker threads of the local pool (default: the cores)', int('--workers'))
  .option('--queue <url>', 'enqueue the runs on BullMQ (redis://host:port) for `gbhan worker`s')
  .option('--max-runs <n>', 'refuse a study of more runs (default 100000)', int('--max-runs'))
  .option('--progress', 'show the progress line even when stderr is not a terminal')
  .action(
    async (
      file: string,
      opts: {
        quick?: boolean;
        out: string;
        workers?: number;
        queue?: string;
        maxRuns?: number;
        progress?: boolean;
      },
    ) => {
      const abort = new AbortController();
      // Ctrl-C: finish the runs in flight (their rows are kept), hand out no more.
      process.once('SIGINT', () => abort.abort());
      const r = await runSweep(file, { ...opts, signal: abort.signal });
      process.exitCode = r.errors > 0 || r.rows.length < r.study.tasks.length ? 1 : 0;
    },
  );

program
  .command('worker')
  .description("take a sweep's runs from BullMQ (start as many as you like, on any machine)")
  .requiredOption('--queue <url>', 'redis://host:port')
  .option('--concurrency <n>', 'runs at once on this machine', int('--concurrency'), 1)
  .option('--out <dir>', "where this worker writes the runs' outputs", 'out')
  .option(
    '--stalled-interval <ms>',
    'ms between stalled-job checks (default 30000)',
    int('--stalled-interval'),
  )
  .option(
    '--lock-duration <ms>',
    "ms a job's lock lasts unless renewed: a dead worker's job is taken again after it (default 30000)",
    int('--lock-duration'),
  )
  .action(
    async (opts: {
      queue: string;
      concurrency: number;
      out: string;
      stalledInterval?: number;
      lockDuration?: number;
    }) => {
      const worker = startWorker({
        connection: parseRedisUrl(opts.queue),
        concurrency: opts.concurrency,
        out: opts.out,
        ...(opts.stalledInterval === undefined ? {} : { stalledIntervalMs: opts.stalledInterval }),
        ...(opts.lockDuration === undefined ? {} : { lockDurationMs: opts.lockDuration }),
      });
      worker.on('completed', (job) => console.log(`done ${job.data.task.key}`));
      worker.on('failed', (job, e) => console.log(`failed ${job?.data.task.key ?? '?'}: ${e.message}`));
      await worker.waitUntilReady();
      console.log(`worker: taking runs from ${opts.queue} (concurrency ${opts.concurrency})`);
      const stop = async () => {
        await worker.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
  );

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  const err = e as Error;
  const known = ['SweepError', 'ScenarioError', 'CliError', 'DurationError'].includes(err?.name);
  console.error(`gbhan: ${known ? err.message : (err?.stack ?? String(e))}`);
  process.exit(2);
});
