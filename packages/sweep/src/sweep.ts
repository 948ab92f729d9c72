/**
 * `gbhan sweep <study.yaml>`: load the study (a bad file stops here, file:line), skip the
 * runs results.jsonl already holds, run the rest on the local pool or through BullMQ,
 * appending each row as it comes (with a progress line and an ETA), then write results.csv,
 * summary.csv, the figures and report.html under <out>/<study>/.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SweepError } from './errors.js';
import { renderFigures, reportHtml } from './plots.js';
import { defaultWorkers, runLocal } from './pool.js';
import { parseRedisUrl, runQueued } from './queue.js';
import { appendRow, orderRows, readRows, resultsCsv, summarize, summaryCsv } from './results.js';
import type { Row } from './run-one.js';
import { loadStudy, type Study } from './study.js';

export interface SweepOptions {
  quick?: boolean;
  /** Studies go to <out>/<study name>/ (default `out`). */
  out?: string;
  /** Local pool threads (default: the cores). */
  workers?: number;
  /** `redis://host:port`: enqueue on BullMQ instead of running here. */
  queue?: string;
  maxRuns?: number;
  /** Stop handing out runs (Ctrl-C): the rows done so far stay in results.jsonl. */
  signal?: AbortSignal;
  /** A progress line per finished run (default: only on a terminal). */
  progress?: boolean;
  /** For tests: wall-clock limit of a queued sweep. */
  queueTimeoutMs?: number;
  log?: (line: string) => void;
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface SweepResult {
  study: Study;
  outDir: string;
  rows: Row[];
  /** Runs this invocation did (the rest were in results.jsonl already). */
  ran: number;
  errors: number;
  files: { jsonl: string; csv: string; summary: string; report: string; figures: string[] };
}

function formatEta(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export async function runSweep(file: string, o: SweepOptions = {}): Promise<SweepResult> {
  const log = o.log ?? console.log;
  if (o.workers !== undefined && (!Number.isInteger(o.workers) || o.workers < 1))
    throw new SweepError('SWEEP_OPTION', '--workers', null, '', `a whole number >= 1, got ${o.workers}`);
  const connection = o.queue === undefined ? null : parseRedisUrl(o.queue);
  const out = o.out ?? 'out';
  try {
    if (!statSync(out).isDirectory())
      throw new SweepError('SWEEP_OPTION', '--out', null, '', `${out} is not a directory`);
  } catch (e) {
    if (e instanceof SweepError) throw e;
  }
  const study = loadStudy(file, {
    ...(o.quick ? { quick: true } : {}),
    ...(o.maxRuns ? { maxRuns: o.maxRuns } : {}),
  });
  const outDir = join(out, study.outName);
  mkdirSync(outDir, { recursive: true });
  const files = {
    jsonl: join(outDir, 'results.jsonl'),
    csv: join(outDir, 'results.csv'),
    summary: join(outDir, 'summary.csv'),
    report: join(outDir, 'report.html'),
  };
  const done = new Set(readRows(files.jsonl).map((r) => r.key));
  const todo = study.tasks.filter((t) => !done.has(t.key));
  const total = study.tasks.length;
  log(
    `${study.name}${study.quick ? ' (quick)' : ''}: ${total} runs (${study.tasks.length / study.seeds.length} configurations x ${study.seeds.length} seeds), ${total - todo.length} already done, ${todo.length} to run ${connection ? `on ${o.queue}` : `on ${Math.min(o.workers ?? defaultWorkers(), Math.max(todo.length, 1))} worker thread(s)`}`,
  );

  const stream = o.progressStream ?? process.stderr;
  const showProgress = o.progress ?? stream.isTTY === true;
  // Wall clock: only for the ETA on the progress line.
  const started = performance.now();
  let ran = 0;
  let failed = 0;
  const onRow = (row: Row) => {
    appendRow(files.jsonl, row);
    ran++;
    if (row.status === 'error') failed++;
    if (!showProgress) return;
    const elapsed = performance.now() - started;
    const left = todo.length - ran;
    const eta = left === 0 ? 'done' : `ETA ${formatEta((elapsed / ran) * left)}`;
    stream.write(
      `\r${study.name}: ${total - left}/${total} runs (${Math.floor((100 * (total - left)) / total)}%), ${failed} failed, ${eta}   ${left === 0 ? '\n' : ''}`,
    );
  };
  if (todo.length > 0) {
    if (connection)
      await runQueued(todo, {
        connection,
        onRow,
        ...(o.queueTimeoutMs === undefined ? {} : { timeoutMs: o.queueTimeoutMs }),
      });
    else
      await runLocal(todo, outDir, {
        ...(o.workers === undefined ? {} : { workers: o.workers }),
        ...(o.signal ? { signal: o.signal } : {}),
        onRow,
      });
  }

  const rows = orderRows(study, readRows(files.jsonl));
  writeFileSync(files.csv, resultsCsv(study, rows));
  const summary = summarize(study, rows);
  writeFileSync(files.summary, summaryCsv(study, summary));
  const errors = rows.filter((r) => r.status === 'error').length;
  const figures = await renderFigures(
    study.plots,
    { parameters: study.parameters.map((p) => p.name), rows, summary },
    outDir,
  );
  writeFileSync(files.report, reportHtml(study, figures, summary, { runs: rows.length, errors }));
  for (const r of rows.filter((x) => x.status === 'error')) log(`  FAILED ${r.key}: ${r.error}`);
  log(
    `${rows.length}/${total} runs in ${files.csv}${errors > 0 ? ` (${errors} failed, errors recorded)` : ''}; summary ${files.summary}; report ${files.report}`,
  );
  return {
    study,
    outDir,
    rows,
    ran,
    errors,
    files: { ...files, figures: figures.flatMap((f) => [f.files.svg, f.files.png]) },
  };
}
