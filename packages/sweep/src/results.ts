/**
 * A study's results on disk: `results.jsonl` is the journal (one row appended as each run
 * ends, so a crash loses at most the runs in flight, and a re-run skips the keys it holds);
 * `results.csv` (rows in the study's order) and `summary.csv` (per combination of
 * parameters and metric: runs, mean, median, p5, p95) are written from it.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Row } from './run-one.js';
import type { Study } from './study.js';

/** The rows already in results.jsonl (a torn last line, from a crash mid-write, is dropped and the file rewritten without it). */
export function readRows(file: string): Row[] {
  if (!existsSync(file)) return [];
  const rows: Row[] = [];
  const seen = new Set<string>();
  let torn = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let r: Row;
    try {
      r = JSON.parse(line) as Row;
    } catch {
      torn = true;
      continue;
    }
    if (typeof r?.key !== 'string' || seen.has(r.key)) continue;
    seen.add(r.key);
    rows.push(r);
  }
  if (torn) writeFileSync(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return rows;
}

export function appendRow(file: string, row: Row): void {
  appendFileSync(file, `${JSON.stringify(row)}\n`);
}

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (fields: readonly unknown[]) => `${fields.map(csvField).join(',')}\n`;

/** Rows in the study's task order (whatever order the runs finished in). */
export function orderRows(study: Pick<Study, 'tasks'>, rows: readonly Row[]): Row[] {
  const index = new Map(study.tasks.map((t, i) => [t.key, i]));
  return [...rows].filter((r) => index.has(r.key)).sort((a, b) => index.get(a.key)! - index.get(b.key)!);
}

/** The metric columns: every value name, in the order they first appear. */
export function metricColumns(rows: readonly Row[]): string[] {
  const cols = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.values)) cols.add(k);
  return [...cols];
}

/** Columns that differ between two runs of the same task (wall time): the comparison drops them. */
export const WALL_COLUMNS = ['wall_ms'];

export function resultsCsv(study: Pick<Study, 'tasks' | 'parameters'>, rows: readonly Row[]): string {
  const ordered = orderRows(study, rows);
  const params = study.parameters.map((p) => p.name);
  const metrics = metricColumns(ordered);
  const head = [
    'key',
    ...params,
    'seed',
    'status',
    'attempts',
    'error',
    'held',
    'total',
    ...metrics,
    'out',
    'wall_ms',
  ];
  let text = csvLine(head);
  for (const r of ordered)
    text += csvLine([
      r.key,
      ...params.map((p) => r.params[p]),
      r.seed,
      r.status,
      r.attempts,
      r.error,
      r.held,
      r.total,
      ...metrics.map((m) => r.values[m]),
      r.out,
      r.wall_ms,
    ]);
  return text;
}

/** Linear interpolation between closest ranks (R type 7, numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

const r6 = (n: number) => (Number.isFinite(n) ? Math.round(n * 1e6) / 1e6 : null);

export interface SummaryRow {
  params: Record<string, string>;
  metric: string;
  runs: number;
  errors: number;
  n: number;
  mean: number | null;
  median: number | null;
  p5: number | null;
  p95: number | null;
}

/** Per combination of parameters (all seeds together) and metric. */
export function summarize(study: Pick<Study, 'tasks' | 'parameters'>, rows: readonly Row[]): SummaryRow[] {
  const ordered = orderRows(study, rows);
  const params = study.parameters.map((p) => p.name);
  const metrics = metricColumns(ordered);
  const groups = new Map<string, Row[]>();
  for (const r of ordered) {
    const k = params.map((p) => r.params[p]).join('\u0000');
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: SummaryRow[] = [];
  for (const g of groups.values()) {
    const ok = g.filter((r) => r.status === 'ok');
    for (const m of metrics) {
      const xs = ok
        .map((r) => r.values[m])
        .filter((v): v is number => typeof v === 'number')
        .sort((a, b) => a - b);
      out.push({
        params: g[0]!.params,
        metric: m,
        runs: g.length,
        errors: g.length - ok.length,
        n: xs.length,
        mean: xs.length === 0 ? null : r6(xs.reduce((a, b) => a + b, 0) / xs.length),
        median: xs.length === 0 ? null : r6(quantile(xs, 0.5)),
        p5: xs.length === 0 ? null : r6(quantile(xs, 0.05)),
        p95: xs.length === 0 ? null : r6(quantile(xs, 0.95)),
      });
    }
  }
  return out;
}

export function summaryCsv(study: Pick<Study, 'parameters'>, summary: readonly SummaryRow[]): string {
  const params = study.parameters.map((p) => p.name);
  let text = csvLine([...params, 'metric', 'runs', 'errors', 'n', 'mean', 'median', 'p5', 'p95']);
  for (const s of summary)
    text += csvLine([
      ...params.map((p) => s.params[p]),
      s.metric,
      s.runs,
      s.errors,
      s.n,
      s.mean,
      s.median,
      s.p5,
      s.p95,
    ]);
  return text;
}

/** results.csv without the wall-time column (the last), lines sorted: what two pools must agree on byte for byte. */
export function comparableCsv(csv: string): string {
  const lines = csv.split('\n').filter((l) => l !== '');
  if (!lines[0]!.endsWith(`,${WALL_COLUMNS[0]}`))
    throw new Error(`results.csv does not end with ${WALL_COLUMNS[0]}`);
  return `${lines
    .map((l) => l.slice(0, l.lastIndexOf(',')))
    .sort()
    .join('\n')}\n`;
}
