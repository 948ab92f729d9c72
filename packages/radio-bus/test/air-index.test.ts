/**
 * The spatial index (air-index.ts) changes only how many radios the bus asks, never the
 * answer: on random layouts (both bands, two channels each, walls, own tx powers and losses,
 * random loss draws) the bus with the log-distance model's reach gives the same trace, event
 * for event, as the same model hidden behind a wrapper without `reachM` (every radio scanned),
 * with `trace: full` and with `trace: compact`, and the same per-radio counts, also when
 * radios retune to the band's other channel or leave the bus part-way (the compact trace hands
 * out the other-channel counts in bulk: they must not go to the wrong radio or be lost).
 * Bursts of frames within a few milliseconds, from all over the layout, and carrier sense
 * during them check that collisions and CCA weigh only the frames that can be heard
 * (bus-air.ts `interferers`, `channelBusy`) and still give the scan's answers.
 */
import { MILLISECOND, SECOND } from '@gbhan/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BusTraceEvent,
  DEFAULT_BAND_MODELS,
  LogDistanceModel,
  type PropagationModel,
  type Wall,
} from '../src/index.js';
import { macDataFrame } from './frames.js';
import { makeBus, txAt } from './harness.js';

interface Spec {
  x: number;
  y: number;
  gb868: boolean;
  second: boolean;
  txPowerDbm: number | undefined;
  lossDb: number | undefined;
  sendAtMs: number[];
  /** Odd microseconds, so never a tie with a retune or a leave (whole ms + 500 us). */
  burstAtUs: number[];
  ccaAtUs: number[];
  retuneAtMs: number | undefined;
  leaveAtMs: number | undefined;
}

/** Undefined for most radios, so layouts without any retune still come often. */
function rarely<T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 12 }, { arbitrary: a, weight: 1 });
}

const radio = fc.record({
  x: fc.integer({ min: -900, max: 900 }),
  y: fc.integer({ min: -300, max: 300 }),
  gb868: fc.boolean(),
  second: fc.boolean(),
  txPowerDbm: fc.option(fc.integer({ min: -10, max: 10 }), { nil: undefined }),
  lossDb: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
  sendAtMs: fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 3 }),
  burstAtUs: fc.array(
    fc.integer({ min: 500, max: 3499 }).map((v) => 2 * v + 1),
    { maxLength: 2 },
  ),
  ccaAtUs: fc.array(
    fc.integer({ min: 500, max: 3499 }).map((v) => 2 * v + 1),
    { maxLength: 2 },
  ),
  retuneAtMs: rarely(fc.integer({ min: 1, max: 60 })),
  leaveAtMs: rarely(fc.integer({ min: 1, max: 60 })),
});
const wall = fc.record({
  from: fc.tuple(fc.integer({ min: -900, max: 900 }), fc.integer({ min: -300, max: 300 })),
  to: fc.tuple(fc.integer({ min: -900, max: 900 }), fc.integer({ min: -300, max: 300 })),
});

/** A radio on 2.4 GHz channel 11 with bursts and CCAs only. */
function near(x: number, y: number, burstAtUs: number[], ccaAtUs: number[]): Spec {
  return {
    x,
    y,
    gb868: false,
    second: false,
    txPowerDbm: undefined,
    lossDb: undefined,
    sendAtMs: [],
    burstAtUs,
    ccaAtUs,
    retuneAtMs: undefined,
    leaveAtMs: undefined,
  };
}

async function run(specs: Spec[], walls: Wall[], indexed: boolean, trace: 'full' | 'compact') {
  const inner = new LogDistanceModel(DEFAULT_BAND_MODELS, walls);
  const propagation: PropagationModel = indexed
    ? inner
    : {
        name: 'scan-all',
        reciprocal: true,
        pathLossDb: (a, b, band) => inner.pathLossDb(a, b, band),
        shadowingDb: () => 0,
      };
  const { bus, add, trace: events } = await makeBus({ propagation, trace, lossRate: 0.2 });
  const pending: Promise<unknown>[] = [];
  const cca: string[] = [];
  for (const [i, s] of specs.entries()) {
    const r = await add(i + 1, {
      band: s.gb868 ? 'GB868' : '2.4GHz',
      page: s.gb868 ? 28 : 0,
      channel: s.gb868 ? (s.second ? 1 : 0) : s.second ? 12 : 11,
      position: { x: s.x, y: s.y },
      ...(s.txPowerDbm === undefined ? {} : { txPowerDbm: s.txPowerDbm }),
      ...(s.lossDb === undefined ? {} : { lossDb: s.lossDb }),
    });
    for (const ms of s.sendAtMs)
      pending.push(txAt(r, ms * MILLISECOND, macDataFrame(i, 1, 0xffff, ms, new Uint8Array(20))));
    for (const [k, us] of s.burstAtUs.entries())
      pending.push(txAt(r, us, macDataFrame(i, 1, 0xffff, 100 + k, new Uint8Array(20))));
    for (const us of s.ccaAtUs)
      r.radio.clock.setTimerAt(us, () => {
        r.radio.cca().then((busy) => cca.push(`${us} ${i} ${busy}`));
      });
    // Half a millisecond off the sends, so the order of a retune and a send is never a tie.
    if (s.retuneAtMs !== undefined)
      r.radio.clock.setTimerAt(s.retuneAtMs * MILLISECOND + 500, () =>
        s.gb868 ? r.radio.setChannel(28, s.second ? 0 : 1) : r.radio.setChannel(0, s.second ? 11 : 12),
      );
    if (s.leaveAtMs !== undefined)
      r.radio.clock.setTimerAt(s.leaveAtMs * MILLISECOND + 500, () => r.radio.close());
  }
  await bus.runUntil(SECOND);
  const counts = bus.nonDeliveries();
  bus.close();
  const air = events.filter((e: BusTraceEvent) => e.type === 'rx' || e.type === 'drop' || e.type === 'tx');
  return { air, counts: [...counts.entries()].sort(), cca: cca.sort() };
}

describe('the spatial index', () => {
  it('delivers and drops exactly as a scan of every radio, on random layouts', async () => {
    const seen = { rx: 0, outOfRange: 0, otherChannel: 0, moved: 0, collision: 0, busy: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(radio, { minLength: 2, maxLength: 24 }),
        fc.array(wall, { maxLength: 4 }),
        async (specs, walls) => {
          for (const mode of ['full', 'compact'] as const) {
            const a = await run(specs, walls, true, mode);
            const b = await run(specs, walls, false, mode);
            expect(a.air).toEqual(b.air);
            expect(a.counts).toEqual(b.counts);
            expect(a.cca).toEqual(b.cca);
            seen.rx += a.air.filter((e) => e.type === 'rx').length;
            seen.collision += a.air.filter((e) => e.type === 'drop' && e.reason === 'collision').length;
            seen.busy += a.cca.filter((c) => c.endsWith('true')).length;
          }
          // The counts are what a full trace shows one by one. Not with retunes: a radio that
          // came onto the channel during a frame is traced 'wrong-channel' but counted on it.
          if (specs.some((x) => x.retuneAtMs !== undefined || x.leaveAtMs !== undefined)) seen.moved++;
          if (specs.some((x) => x.retuneAtMs !== undefined)) return;
          const full = await run(specs, walls, true, 'full');
          const traced = (reason: string, eui64: string) =>
            full.air.filter((e) => e.type === 'drop' && e.reason === reason && e.radio === eui64).length;
          for (const [eui64, c] of full.counts) {
            seen.outOfRange += c.outOfRange;
            seen.otherChannel += c.otherChannel;
            expect(c.outOfRange).toBe(traced('out-of-range', eui64));
            expect(c.otherChannel).toBe(traced('wrong-channel', eui64));
          }
        },
      ),
      // Random layouts may, rarely, hold no collision: one layout that always does (two
      // overlapping frames heard by a third radio, which senses the channel during them).
      {
        numRuns: 30,
        examples: [[[near(0, 0, [1001], []), near(10, 0, [1101], []), near(5, 5, [], [1501])], []]],
      },
    );
    // The layouts did exercise all three outcomes, radios that retune or leave, collisions and a busy channel.
    expect(
      Math.min(seen.rx, seen.outOfRange, seen.otherChannel, seen.moved, seen.collision, seen.busy),
    ).toBeGreaterThan(0);
  });
});
