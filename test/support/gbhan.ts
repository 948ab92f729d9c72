/** Run the `gbhan` command line in a child process: exit code and everything it printed. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
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
export function differingOutputs(dir: string, scenario: string, files: readonly string[]): string[] {
  return files.filter(
    (f) => !readFileSync(join(dir, 'in', scenario, f)).equals(readFileSync(join(dir, 'proc', scenario, f))),
  );
}
