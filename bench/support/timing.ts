/** Timing helpers the benchmarks share: medians of repeated runs. */
import { performance } from 'node:perf_hooks';

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median wall ms of `n` calls of `fn`, after `warmUp` calls not counted. */
export function timeMs(fn: () => void, n: number, warmUp = 0): number {
  for (let i = 0; i < warmUp; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}
