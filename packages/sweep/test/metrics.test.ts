/**
 * The metrics against values worked out by hand: one hub, one attacker at known distances,
 * a 60-minute (or unlimited) window, a 1 s power cut at 100 min, attacks at known times.
 * The attacker-frame counts are also checked against the hub's own `interpan-report` (its
 * window gate counts every Inter-PAN frame it lets in or drops), read from the kept trace.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inReach, parseStudy, type Row, runOne } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gbhan-sweep-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STUDY = `
name: one-hub
seeds: 1
parameters:
  distance: [10, 40, 100, 160, 200]
  window: [60m, unlimited]
outputs: { trace: true }
scenario:
  duration: 2h
  devices:
    - id: ch
      type: comms-hub
      eui64: 00124b0000c0ff01
      channel: 15
      position: { x: 0, y: 0 }
      config: { panId: 0x1a01, channels: [{ page: 0, channel: 15 }], cbkeSuite: 1, cbkeTiming: as-fast-as-computed, interPanWindow: '{{window}}' }
    - id: rogue
      type: attacker
      eui64: 00124b0000dead01
      channel: 15
      position: { x: '{{distance}}', y: 0 }
      config: { target: ch, targetPanId: 0x1a01, channels: [{ page: 0, channel: 15 }] }
  timeline:
    - { at: 30m, device: rogue, action: unknown-issuer }
    - { at: 90m, device: rogue, action: unknown-issuer }
    - { at: 100m, device: ch, action: power-off }
    - { at: 100m1s, device: ch, action: power-on }
    - { at: 110m, device: rogue, action: flood, args: { count: 3, interval: 1s, spoof: 2 } }
    - { at: 119m, device: ch, action: interpan-report }
metrics:
  - window
  - exposure: { classes: [15, 50, 130, 190] }
  - attacker-frames
`;

const study = parseStudy(STUDY, 'one-hub.yaml');
const rows = new Map<string, Row>();
const row = async (distance: number, window: string): Promise<Row> => {
  const key = `distance=${distance},window=${window},seed=1`;
  if (!rows.has(key)) {
    const task = study.tasks.find((t) => t.key === key)!;
    rows.set(key, await runOne(task, dir));
  }
  return rows.get(key)!;
};

// By hand: open 0-60 min, closed at the cut (100 min), open again from 100m01s to the end (2 h).
const OPEN_60 = 60 + (120 - (100 + 1 / 60));
// Unlimited: open 0-100 min (the cut closes it), then 100m01s to the end.
const OPEN_UNLIMITED = 100 + (120 - (100 + 1 / 60));
const r6 = (n: number) => Math.round(n * 1e6) / 1e6;

describe('metrics: one hub, one attacker at known distances', () => {
  it('window: the minutes Inter-PAN was open', async () => {
    expect((await row(40, '60m')).values.open_hub_min).toBe(r6(OPEN_60));
    expect((await row(40, 'unlimited')).values.open_hub_min).toBe(r6(OPEN_UNLIMITED));
    expect((await row(40, '60m')).values.open_hub_min_868).toBe(0);
  });

  it('exposure: a class of R metres reaches a 2.4 GHz hub at d metres (no wall) iff d <= R', async () => {
    // same band and sensitivity as the class's reference: reach = R exactly
    for (const [d, reached] of [
      [10, [15, 50, 130, 190]],
      [40, [50, 130, 190]],
      [100, [130, 190]],
      [160, [190]],
      [200, []],
    ] as const) {
      const r = await row(d, '60m');
      for (const c of [15, 50, 130, 190]) {
        const want = (reached as readonly number[]).includes(c) ? r6(OPEN_60) : 0;
        expect(r.values[`exposed_hub_min_r${c}_2g4`], `d=${d} class ${c}`).toBe(want);
        expect(r.values[`attackable_max_r${c}`], `d=${d} class ${c}`).toBe(want > 0 ? 1 : 0);
      }
    }
    expect((await row(100, 'unlimited')).values.exposed_hub_min_r130).toBe(r6(OPEN_UNLIMITED));
    // the series: 1 while open (minutes 0-59 and 101-119), 0 while closed (60-100)
    const s = (await row(40, '60m')).series.attackable_r50!;
    expect(s).toHaveLength(120);
    expect(s.filter((v) => v === 1)).toHaveLength(60 + 19);
    expect([s[59], s[60], s[100], s[101]]).toEqual([1, 0, 0, 1]);
  });

  it('reach on GB868: the same transmit power goes ~2.1x further (9 dB less loss at 1 m, 7 dB better sensitivity)', () => {
    const hub = (x: number) => ({ band: 'GB868' as const, position: { x, y: 0 } });
    // 2.4 GHz: tx = -100 + 40.2 + 28 log10(50); GB868 reach = 10^((tx - 31.2 + 107) / 28) = 50 * 10^(16/28)
    const reach868 = 50 * 10 ** (16 / 28);
    expect(inReach({ medium: {} }, 50, { x: 0, y: 0 }, hub(reach868 - 0.01))).toBe(true);
    expect(inReach({ medium: {} }, 50, { x: 0, y: 0 }, hub(reach868 + 0.01))).toBe(false);
    // a wall on the way costs its loss (6 dB at 2.4 GHz): 50 m shrinks to 50 * 10^(-6/28)
    const walled = { medium: { walls: [{ from: [5, -5], to: [5, 5] }] } } as never;
    const h24 = (x: number) => ({ band: '2.4GHz' as const, position: { x, y: 0 } });
    expect(inReach(walled, 50, { x: 0, y: 0 }, h24(50 * 10 ** (-6 / 28) - 0.01))).toBe(true);
    expect(inReach(walled, 50, { x: 0, y: 0 }, h24(50 * 10 ** (-6 / 28) + 0.01))).toBe(false);
  });

  it('attacker frames: processed inside the window, dropped outside, as the hub itself counts them', async () => {
    // 30 min (open), 90 min (closed: dropped), 110 min x 3 (open again after the cut)
    const r = await row(40, '60m');
    expect(r.values).toMatchObject({ attacker_rx: 5, attacker_processed: 4, attacker_dropped: 1 });
    // the first one went on air at 30 min and took 3,808 us (113 octets at 250 kbit/s + preamble)
    expect(r.values.first_processed_min).toBe(r6(30 + 3808 / 60e6));
    expect((await row(40, 'unlimited')).values).toMatchObject({ attacker_processed: 5, attacker_dropped: 0 });
    // out of the attacker's real reach (3 dBm: ~175 m) nothing arrives
    expect((await row(200, '60m')).values).toMatchObject({
      attacker_rx: 0,
      attacker_processed: 0,
      first_processed_min: null,
    });
    // the hub's own gate counts (interpan-report at 119 min), summed over the sources it saw
    for (const key of ['distance=40,window=60m,seed=1', 'distance=160,window=unlimited,seed=1']) {
      const [d, w] = [key.split(',')[0]!.split('=')[1]!, key.split(',')[1]!.split('=')[1]!];
      const mine = await row(Number(d), w);
      const trace = readFileSync(join(dir, mine.out, 'trace.jsonl'), 'utf8');
      const report = trace
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l))
        .find((e) => e.type === 'device' && e.event.type === 'interpan-report').event.frames as Record<
        string,
        { processed: number; dropped: number }
      >;
      const sum = (k: 'processed' | 'dropped') => Object.values(report).reduce((n, f) => n + f[k], 0);
      expect(mine.values.attacker_processed).toBe(sum('processed'));
      expect(mine.values.attacker_dropped).toBe(sum('dropped'));
    }
  });

  it('attacker frames: a neighbour hub on the same channel hears them but they are not for it', async () => {
    const two = parseStudy(
      STUDY.replace('name: one-hub', 'name: two-hubs')
        .replace('  distance: [10, 40, 100, 160, 200]\n', '  distance: [40]\n')
        .replace(
          '    - id: rogue',
          `    - id: ch2
      type: comms-hub
      eui64: 00124b0000c0ff02
      channel: 15
      position: { x: 10, y: 0 }
      config: { panId: 0x1a02, channels: [{ page: 0, channel: 15 }], cbkeSuite: 1, cbkeTiming: as-fast-as-computed }
    - id: rogue`,
        )
        .replace(
          '    - { at: 119m, device: ch, action: interpan-report }',
          '    - { at: 119m, device: ch2, action: interpan-report }',
        ),
      'two-hubs.yaml',
    );
    const r = await runOne(two.tasks.find((t) => t.key === 'distance=40,window=60m,seed=1')!, dir);
    expect(r.values).toMatchObject({ hubs: 2, attacker_rx: 5, attacker_processed: 4, attacker_dropped: 1 });
    // the neighbour's own count: nothing reached its Inter-PAN gate
    const trace = readFileSync(join(dir, r.out, 'trace.jsonl'), 'utf8');
    expect(trace).toContain('"interpan-report","windowUs":3600000000,"totalOpenUs":3600000000,"frames":{}');
    // it heard them on the air all the same: its MAC's address filter spared it the frames (counted, not sent)
    expect(trace).not.toMatch(/"type":"rx","radio":"00124b0000c0ff02","from":"00124b0000dead01"/);
    const summary = JSON.parse(readFileSync(join(dir, r.out, 'summary.json'), 'utf8')) as {
      radios: { id: string; filtered: number }[];
    };
    expect(summary.radios.find((x) => x.id === 'ch2')!.filtered).toBeGreaterThanOrEqual(5);
  });
});
