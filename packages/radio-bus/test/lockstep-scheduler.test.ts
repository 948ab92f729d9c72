/**
 * The lock-step's scheduler (radio-timers.ts, the set of radios with actions, the wakers
 * answered from their set) changes only how many radios the bus visits per step, never what it
 * does: on random schedules (radios registered in random order, timers at shared and distinct
 * instants, transmissions, carrier sense, channel changes, power, device traces, `wake`s,
 * random loss draws) the bus gives the same trace, event for event, as the same bus with the
 * reference scheduler below plugged in, which scans every radio in EUI64 order at every step
 * as the lock-step did before.
 */
import { MILLISECOND, SECOND } from '@gbhan/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RadioBus } from '../src/bus.js';
import type { BusState, Radio } from '../src/bus-state.js';
import { macDataFrame } from './frames.js';
import { makeBus, type TestRadio } from './harness.js';

type Act = 'tx' | 'cca' | 'channel' | 'power' | 'trace' | 'wake' | 'nothing';

interface Spec {
  id: number;
  channel: number;
  x: number;
  /** Timers (ms) and what each does when it fires. */
  timers: { atMs: number; act: Act }[];
}

const act = fc.constantFrom<Act>('tx', 'tx', 'cca', 'channel', 'power', 'trace', 'wake', 'nothing');
const spec = fc.record({
  id: fc.integer({ min: 1, max: 0xffff }),
  channel: fc.integer({ min: 11, max: 12 }),
  x: fc.integer({ min: 0, max: 400 }),
  // Few distinct instants, so that radios share them (ties are where the order shows).
  timers: fc.array(fc.record({ atMs: fc.integer({ min: 0, max: 12 }), act }), { maxLength: 5 }),
});

/** The reference: what the lock-step did before, a scan of every radio in EUI64 order. */
function plugReferenceScan(bus: RadioBus): void {
  const s = (bus as unknown as { s: BusState }).s;
  const sorted = () => s.sorted;
  const timers = {
    size: 0,
    earliest: () => {
      let t = Number.POSITIVE_INFINITY;
      for (const r of sorted()) if (r.next !== null && r.next < t) t = r.next;
      return t;
    },
    update: () => {},
    remove: () => {},
    takeDue: (t: number) => sorted().filter((r) => r.next !== null && r.next <= t),
  };
  // applyAll as it was: every radio in EUI64 order, each one's actions in arrival order.
  const actions = s.actions as unknown as { apply(r: Radio, a: unknown): void; applyAll(): boolean };
  actions.applyAll = () => {
    let any = false;
    for (const radio of s.sorted) {
      if (radio.actions.length === 0) continue;
      any = true;
      const list = radio.actions;
      radio.actions = [];
      for (const a of list) {
        if (!s.isRegistered(radio)) break;
        actions.apply(radio, a);
      }
    }
    return any;
  };
  class ScanSet extends Set<Radio> {
    override [Symbol.iterator](): SetIterator<Radio> {
      return sorted()
        .filter((r) => this.has(r))
        [Symbol.iterator]() as unknown as SetIterator<Radio>;
    }
  }
  Object.assign(s, { timers, wakers: new ScanSet() });
}

async function run(specs: Spec[], reference: boolean) {
  const { bus, add, trace } = await makeBus({ lossRate: 0.3 });
  if (reference) plugReferenceScan(bus);
  const radios: TestRadio[] = [];
  for (const sp of specs) {
    const r = await add(sp.id, { channel: sp.channel, position: { x: sp.x, y: 0 } });
    radios.push(r);
    let on = true;
    for (const [k, tm] of sp.timers.entries()) {
      r.radio.clock.setTimerAt(tm.atMs * MILLISECOND, () => {
        const radio = r.radio;
        switch (tm.act) {
          case 'tx':
            void radio.transmit(macDataFrame(sp.id & 0xff, 1, 0xffff, k, new Uint8Array(10 + k)));
            return;
          case 'cca':
            void radio.cca().then((busy) => radio.trace({ cca: busy }));
            return;
          case 'channel':
            radio.setChannel(0, sp.channel === 11 ? 12 : 11);
            return;
          case 'power':
            on = !on;
            radio.setPower(on);
            return;
          case 'trace':
            radio.trace({ timer: k });
            return;
          case 'wake':
            void radio.wake().then((release) => {
              radio.trace({ woken: radio.clock.now() });
              release();
            });
            return;
          default:
            return;
        }
      });
    }
  }
  await bus.runUntil(SECOND);
  bus.close();
  return trace;
}

describe('the lock-step scheduler', () => {
  it('gives the same trace as a scan of every radio at every step, on random schedules', async () => {
    let events = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(spec, { minLength: 1, maxLength: 12, selector: (s) => s.id }),
        async (specs) => {
          const fast = await run(specs, false);
          const reference = await run(specs, true);
          expect(fast).toEqual(reference);
          events += fast.length;
        },
      ),
      { numRuns: 60 },
    );
    expect(events).toBeGreaterThan(0);
  });
});
