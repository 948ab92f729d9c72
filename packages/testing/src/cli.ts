/**
 * The `gbhan` command line as the repository-level tests (test/*.test.ts) drive it: run in a
 * child process from the repository root, exit code and everything it printed; and the
 * comparison of a scenario's outputs in-process against --processes. No gbhan imports.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root (this file is packages/testing/src/cli.ts). */
export const ROOT = new URL('../../..', import.meta.url).pathname;
const GBHAN = join(ROOT, 'packages/scenario/bin/gbhan.js');

export function gbhan(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [GBHAN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
    });
    proc.stderr.on('data', (d) => {
      out += d;
    });
    proc.on('exit', (code) => resolve({ code, out }));
  });
}

/** The output files of `scenario` that differ between `<dir>/in` and `<dir>/proc` (in-process vs --processes). */
export function differingOutputs(
  dir: string,
  scenario: string,
  files: readonly string[],
  other = 'proc',
): string[] {
  return files.filter(
    (f) => !readFileSync(join(dir, 'in', scenario, f)).equals(readFileSync(join(dir, other, scenario, f))),
  );
}
