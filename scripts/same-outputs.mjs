#!/usr/bin/env node
/**
 * Refactoring guard: a change that only moves code must leave every shipped scenario's trace,
 * capture and key file byte-identical.
 *
 *   node scripts/same-outputs.mjs save <dir>    run scenarios/ in-process into <dir> (before)
 *   node scripts/same-outputs.mjs check <dir>   run them again and compare with <dir> (after)
 *
 * `check` exits 1 and names every file that differs; add `--processes` (or `--workers`) to
 * either to run each device in its own process (or worker thread).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FILES = ['trace.jsonl', 'capture.pcap', 'keys'];
const root = new URL('..', import.meta.url).pathname;
const [mode, dir, ...extra] = process.argv.slice(2);
if ((mode !== 'save' && mode !== 'check') || !dir) {
  console.error('usage: same-outputs.mjs save|check <dir> [--processes | --workers]');
  process.exit(2);
}

function run(out) {
  const r = spawnSync(
    process.execPath,
    [join(root, 'packages/scenario/bin/gbhan.js'), 'run', 'scenarios', '--out', out, ...extra],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (r.status !== 0) {
    console.error(`gbhan run scenarios exited ${r.status}: the scenarios themselves must pass first`);
    process.exit(1);
  }
}

if (mode === 'save') {
  run(dir);
  console.log(`saved the outputs of ${readdirSync(dir).length} scenarios in ${dir}`);
  process.exit(0);
}
const now = mkdtempSync(join(tmpdir(), 'gbhan-same-'));
run(now);
const differing = [];
const scenarios = new Set([...readdirSync(dir), ...readdirSync(now)]);
for (const s of [...scenarios].sort())
  for (const f of FILES) {
    const a = join(dir, s, f);
    const b = join(now, s, f);
    if (!existsSync(a) || !existsSync(b) || !readFileSync(a).equals(readFileSync(b)))
      differing.push(`${s}/${f}`);
  }
if (differing.length > 0) {
  console.error(`differ from ${dir}:\n  ${differing.join('\n  ')}\n(new outputs in ${now})`);
  process.exit(1);
}
console.log(`${scenarios.size} scenarios: trace, capture and keys byte-identical to ${dir}`);
