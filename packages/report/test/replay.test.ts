/**
 * Replaying a finished run's trace.jsonl on the replay's own clock: paused, nothing comes; a
 * step plays exactly its stretch and stops; as fast as possible plays the rest and ends; a torn
 * last line ends the replay instead of throwing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusTraceEvent } from '@gbhan/radio-bus';
import { describe, expect, it } from 'vitest';
import { ReplayControl } from '../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function traceFile(lines: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gbhan-replay-')), 'trace.jsonl');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
const event = (t: number) =>
  JSON.stringify({ t, type: 'jam', page: 0, channel: 11, band: '2.4GHz', on: true, jammer: 0 });

describe('ReplayControl', () => {
  it('pauses, steps exactly, then plays the rest as fast as possible', async () => {
    const path = traceFile(Array.from({ length: 11 }, (_, i) => event(i * 1_000_000)));
    const seen: number[] = [];
    const r = new ReplayControl(path, 10_000_000, (e: BusTraceEvent) => seen.push(e.t), 1);
    r.pause();
    r.start();
    await sleep(200);
    expect(seen).toEqual([]);
    expect(r.now()).toBe(0);
    r.step(2_500_000);
    await sleep(300);
    expect(seen).toEqual([0, 1_000_000, 2_000_000]);
    expect(r.now()).toBe(2_500_000);
    await sleep(200);
    expect(r.now()).toBe(2_500_000);
    r.setSpeed(null);
    r.resume();
    await sleep(300);
    expect(seen).toHaveLength(11);
    expect(r.done).toBe(true);
    expect(r.now()).toBe(10_000_000);
    r.stop();
  });

  it('ends at a torn last line', async () => {
    const path = traceFile([event(0), event(5), '{"t":9,"type":']);
    const seen: number[] = [];
    const r = new ReplayControl(path, 10, (e: BusTraceEvent) => seen.push(e.t), null);
    r.start();
    await sleep(300);
    expect(seen).toEqual([0, 5]);
    expect(r.done).toBe(true);
    r.stop();
  });
});
