/**
 * Sweep throughput: the attack-window study's --quick variant (8 runs) on the local pool
 * with 1 and with 2 worker threads, alternated, 3 times each (BENCH_REPEAT); runs per minute
 * of wall time for the whole sweep (thread start-up included) and the 2:1 ratio of the
 * medians. With `--full`, the full attack-window study once on every core instead: its wall time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweep } from '@gbhan/sweep';

const study = new URL('../studies/attack-window.yaml', import.meta.url).pathname;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function sweep(workers: number, quick: boolean): Promise<{ runs: number; ms: number }> {
  const out = mkdtempSync(join(tmpdir(), 'gbhan-bench-sweep-'));
  try {
    // Wall clock: what the benchmark measures.
    const t0 = performance.now();
    const r = await runSweep(study, { quick, out, workers, log: () => {}, progress: !quick });
    if (r.errors > 0) throw new Error(`${r.errors} runs failed`);
    return { runs: r.rows.length, ms: performance.now() - t0 };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv.includes('--full')) {
  const workers = availableParallelism();
  const r = await sweep(workers, false);
  console.log(
    `full attack-window study: ${r.runs} runs on ${workers} worker threads in ${(r.ms / 60_000).toFixed(1)} min (${((r.runs / r.ms) * 60_000).toFixed(1)} runs/min)`,
  );
} else {
  const repeat = Number(process.env.BENCH_REPEAT ?? 3);
  const perMin: Record<1 | 2, number[]> = { 1: [], 2: [] };
  for (let i = 0; i < repeat; i++)
    for (const w of [1, 2] as const) {
      const r = await sweep(w, true);
      perMin[w].push((r.runs / r.ms) * 60_000);
    }
  const one = median(perMin[1]);
  const two = median(perMin[2]);
  console.log(
    `attack-window --quick (8 runs): 1 worker ${one.toFixed(1)} runs/min (${perMin[1].map((x) => x.toFixed(1)).join(', ')}), 2 workers ${two.toFixed(1)} runs/min (${perMin[2].map((x) => x.toFixed(1)).join(', ')}): ratio ${(two / one).toFixed(2)} (medians of ${repeat}; ${availableParallelism()} cores)`,
  );
}
