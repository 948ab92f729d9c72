/**
 * What this machine's cores give a city: the same street run alone, then two copies of it
 * side by side (two processes), alternated, medians of `BENCH_REPEAT` (default 5). The gain is
 * 2 x (wall alone) / (wall of the pair): 2.0 if two runs cost no more together than one alone,
 * 1.0 if the second core adds nothing. It bounds what any split of one city over this
 * machine's cores (one bus per channel group, each on its own core) could win, and so what
 * the city goal's 60 s can hold (bench/city-floor.ts gives the floor it must hold).
 *
 * A run alone already uses more than one core part of the time (V8's garbage collector and
 * compiler threads), which is one reason the pair does not reach 2.0.
 *
 *   node --import tsx bench/parallel-gain.ts      # BENCH_HOMES=50 BENCH_DURATION=20m
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { median } from './support/timing.js';

const here = new URL('.', import.meta.url).pathname;
const homes = Number(process.env.BENCH_HOMES ?? 50);
const duration = process.env.BENCH_DURATION ?? '20m';
const repeat = Number(process.env.BENCH_REPEAT ?? 5);

/** One city run in a child process of its own (bench/city.ts --child); resolves to its wall seconds. */
function cityRun(): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', `${here}city.ts`, '--child', String(homes), duration],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`city ${homes} homes: exit ${code}`));
      const run = JSON.parse(out.trim().split('\n').pop()!) as { wallS: number };
      resolve(run.wallS);
    });
  });
}

const alone: number[] = [];
const pair: number[] = [];
for (let i = 0; i < repeat; i++) {
  alone.push(await cityRun());
  // The pair's wall time: from both starts to the later end (each child times its own run, after its warm-up).
  const t0 = performance.now();
  const both = await Promise.all([cityRun(), cityRun()]);
  const spanS = (performance.now() - t0) / 1000;
  pair.push(Math.max(...both));
  console.log(
    `  run ${i + 1}: alone ${alone[i]!.toFixed(1)} s; side by side ${both.map((s) => s.toFixed(1)).join(' / ')} s (processes ${spanS.toFixed(1)} s)`,
  );
}
const a = median(alone);
const p = median(pair);
console.log(
  `${homes} homes, ${duration}: alone ${a.toFixed(1)} s, two side by side ${p.toFixed(1)} s (medians of ${repeat});` +
    ` parallel gain of 2 cores ${((2 * a) / p).toFixed(2)} (2.00 = both cores fully used)`,
);
