/**
 * `gbhan run <file|dir>...`: load every scenario first (a bad file stops everything with
 * exit code 2 before anything runs), run them in file order, print a progress line on long
 * runs and a summary table. Exit code 0 only if every expectation of every scenario held.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '@gbhan/clock';
import { CliError } from './bus-command.js';
import { ScenarioError } from './errors.js';
import { formatTime } from './expect.js';
import { riskLines } from './risks.js';
import { type RunOptions, runScenario, type ScenarioResult } from './runner.js';
import { DEFAULT_SCENARIO_LIMITS, loadScenario, type Scenario, type ScenarioLimits } from './schema.js';
import './builtin.js';

export interface RunCommandOptions {
  processes?: boolean;
  workers?: boolean;
  /** `--threads N`: the devices in N worker threads (implies workers). */
  threads?: string;
  out?: string;
  duration?: string;
  seed?: string;
  /** Force the progress line (default: only when stderr is a TTY). */
  progress?: boolean;
  /** Raise (or lower) DEFAULT_SCENARIO_LIMITS: a device count, a duration, a file size. */
  maxDevices?: string;
  maxDuration?: string;
  maxFileSize?: string;
  /** The meters' manufacturer secret key file (default: a fresh key per run). */
  manufacturerKeyFile?: string;
  /** `--ui`: serve the live view while the run goes (live-command.ts). */
  ui?: boolean;
  port?: string;
  speed?: string;
  /** What the live view hooks into each run (pacing, the bus, the events). */
  hooks?: Pick<RunOptions, 'realTime' | 'onStart'>;
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

/** `4M`, `512KiB`, `1048576`: bytes (K, M, G are binary, with or without `iB`/`B`). */
export function parseByteSize(text: string): number {
  const m = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]! : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new CliError(`--max-file-size must be a size such as 4M or 1048576, got ${text}`);
  return n;
}

/** `--threads N`: a whole number of threads >= 1, and not with --processes (CliError). */
function threadCount(text: string, processes: boolean): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new CliError(`--threads must be a whole number from 1 to 1024, got ${text}`);
  if (processes) throw new CliError('--threads puts devices in worker threads: not with --processes');
  return n;
}

/** The run's limits from the --max-* options (CliError when one is not a sensible value). */
export function limitsFromOptions(o: RunCommandOptions): ScenarioLimits {
  const limits = { ...DEFAULT_SCENARIO_LIMITS };
  if (o.maxDevices !== undefined) {
    const n = Number(o.maxDevices);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new CliError(`--max-devices must be a whole number >= 1, got ${o.maxDevices}`);
    limits.maxDevices = n;
  }
  if (o.maxDuration !== undefined) {
    const us = parseDuration(o.maxDuration);
    // virtual microseconds must stay exact integers: 2^53 us is about 285 years
    if (!Number.isSafeInteger(us) || us <= 0)
      throw new CliError(`--max-duration must be more than 0 and less than 285 years, got ${o.maxDuration}`);
    limits.maxDurationUs = us;
  }
  if (o.maxFileSize !== undefined) limits.maxFileBytes = parseByteSize(o.maxFileSize);
  return limits;
}

/** `--out` must be a directory, or not exist yet (it is created). */
function checkOutDir(out: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(out);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new CliError(`--out ${out} is not a directory`);
}

/** Scenario files named by the arguments: files as given, directories' *.yaml / *.yml sorted. */
export function scenarioFiles(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch (e) {
      throw new ScenarioError('SCENARIO_READ', p, null, '', `cannot read: ${(e as Error).message}`);
    }
    if (!st.isDirectory()) {
      files.push(p);
      continue;
    }
    const inDir = readdirSync(p)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(p, f));
    if (inDir.length === 0)
      throw new ScenarioError('SCENARIO_READ', p, null, '', 'no *.yaml scenarios in this directory');
    files.push(...inDir);
  }
  return files;
}

export function summaryTable(results: readonly ScenarioResult[]): string[] {
  const rows = [
    ['scenario', 'expectations', 'simulated', 'wall', 'capture'],
    ...results.map((r) => [
      r.name,
      `${r.held}/${r.total}${r.passed ? '' : ' FAILED'}`,
      formatTime(r.durationUs),
      `${(r.wallMs / 1000).toFixed(2)}s`,
      r.outputs.pcap ?? '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function resultLines(r: ScenarioResult): string[] {
  const lines = [`${r.name} (${r.file}, seed ${r.seed}, ${r.mode}): ${r.held}/${r.total} expectations held`];
  if (r.trace === 'compact') {
    const counted = r.radios.reduce((n, x) => n + x.outOfRange + x.otherChannel + x.offFiltered, 0);
    if (counted > 0)
      lines.push(
        `  (${counted} non-deliveries out of range, on another channel or to a sleeping radio that would not have taken them counted per radio in summary.json, not traced: trace: full traces them)`,
      );
  }
  for (const x of r.expectations) {
    if (x.held) {
      lines.push(`  ok   ${x.text}: ${x.detail}`);
      continue;
    }
    const ev = x.event ? ` [${formatTime(x.event.t)} ${x.event.summary}]` : '';
    const where = x.line === null ? '' : ` (${r.file}:${x.line})`;
    lines.push(`  FAIL ${x.text}: ${x.detail}${ev}${where}`);
  }
  if (r.supplyOff)
    lines.push(
      `  time off supply: ${r.supplyOff.map((m) => `${m.id} ${formatTime(m.offUs)} (${m.interruptions}x)`).join(', ')}`,
    );
  lines.push(...riskLines(r.risks));
  return lines;
}

export async function runRunCommand(
  paths: string[],
  o: RunCommandOptions,
  log: (line: string) => void = console.log,
  progressStream: NodeJS.WriteStream = process.stderr,
): Promise<{ code: number; results: ScenarioResult[] }> {
  const limits = limitsFromOptions(o);
  let durationUs: number | undefined;
  if (o.duration !== undefined) {
    durationUs = parseDuration(o.duration);
    if (durationUs > limits.maxDurationUs)
      throw new CliError(
        `--duration ${o.duration} is longer than ${formatTime(limits.maxDurationUs)}, the longest a run may last (raise it with --max-duration)`,
      );
  }
  checkOutDir(o.out ?? 'out');
  const scenarios: Scenario[] = scenarioFiles(paths).map((f) => loadScenario(f, limits));
  if (o.manufacturerKeyFile !== undefined) {
    // A bad key file is a bad option: one line, exit 2, before anything runs.
    const { ManufacturerKeyError, readManufacturerSecretKeyFile } = await import('@gbhan/meter');
    try {
      readManufacturerSecretKeyFile(o.manufacturerKeyFile);
    } catch (e) {
      if (e instanceof ManufacturerKeyError) throw new CliError(`--manufacturer-key-file: ${e.message}`);
      throw e;
    }
  }
  const names = new Map<string, string>();
  for (const s of scenarios) {
    const other = names.get(s.name);
    if (other !== undefined)
      throw new ScenarioError(
        'SCENARIO_DUPLICATE_ID',
        s.file,
        s.nameLine,
        'name',
        `scenario name ${JSON.stringify(s.name)} is also ${other}'s (outputs go to out/<name>/)`,
      );
    names.set(s.name, s.file);
  }
  const options: RunOptions = {
    outRoot: o.out ?? 'out',
    processes: o.processes ?? false,
    workers: o.workers ?? false,
    ...(o.threads === undefined ? {} : { threads: threadCount(o.threads, o.processes ?? false) }),
    ...(durationUs === undefined ? {} : { durationUs }),
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    ...(o.manufacturerKeyFile === undefined ? {} : { manufacturerKeyFile: o.manufacturerKeyFile }),
    ...o.hooks,
  };
  const showProgress = o.progress ?? progressStream.isTTY === true;
  const results: ScenarioResult[] = [];
  for (const s of scenarios) {
    let shown = false;
    const r = await runScenario(s, {
      ...options,
      ...(showProgress
        ? {
            onProgress: (t: number, total: number) => {
              shown = true;
              const pct = Math.floor((100 * t) / total);
              progressStream.write(
                `\r${s.name}: ${formatTime(t)} of ${formatTime(total)} simulated (${pct}%)   `,
              );
            },
          }
        : {}),
    });
    if (shown) progressStream.write('\n');
    results.push(r);
    for (const line of resultLines(r)) log(line);
  }
  log('');
  for (const line of summaryTable(results)) log(line);
  const failed = results.filter((r) => !r.passed).length;
  log(
    failed === 0
      ? `all ${results.length} scenario(s) held every expectation`
      : `${failed} of ${results.length} scenario(s) failed`,
  );
  return { code: failed === 0 ? 0 : 1, results };
}
