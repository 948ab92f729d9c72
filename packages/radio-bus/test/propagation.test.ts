/**
 * The radio model behind its interfaces: the bus uses the model it is given, caches path loss
 * per radio pair only while both radios are on the bus, and the default model draws from the
 * seeded PRNG exactly as the bus did before the interface existed.
 */
import { MILLISECOND, SECOND } from '@gbhan/clock';
import { describe, expect, it } from 'vitest';
import type { BusTraceEvent, InterferenceModel, PathEnd, PropagationModel } from '../src/index.js';
import { macDataFrame } from './frames.js';
import { eui, makeBus, txAt } from './harness.js';

const frame = (n: number, len = 1) => macDataFrame(n, 1, 0xffff, n, new Uint8Array(len).fill(n));
const id = (e: string | null) => (e === null ? 0 : Number.parseInt(e, 16));

/** A model of fixed losses by radio number, counting its calls. */
function fixedModel(lossOf: (a: number, b: number) => number, reciprocal = true) {
  const calls: string[] = [];
  const model: PropagationModel = {
    name: 'fixed',
    reciprocal,
    pathLossDb(tx: PathEnd, rx: PathEnd) {
      calls.push(`${id(tx.eui64)}>${id(rx.eui64)}`);
      return lossOf(id(tx.eui64), id(rx.eui64));
    },
    shadowingDb: () => 0,
  };
  return { model, calls };
}

/** `radio<from rssi` for deliveries, `radio<from reason` for drops. */
function outcomes(trace: BusTraceEvent[]): string[] {
  const out: string[] = [];
  for (const e of trace) {
    if (e.type === 'rx') out.push(`${id(e.radio)}<${id(e.from)} ${e.rssi}`);
    if (e.type === 'drop' && e.radio !== null) out.push(`${id(e.radio)}<${id(e.from)} ${e.reason}`);
  }
  return out;
}

describe('a propagation model of your own', () => {
  it('decides range instead of distance and walls', async () => {
    // 2 is 1 km away (out of range by distance), 3 is 1 m away (in range by distance).
    const { model } = fixedModel((a, b) => (a + b === 4 ? 200 : 50));
    const { bus, add, trace } = await makeBus({ propagation: model });
    const a = await add(1);
    await add(2, { position: { x: 1000, y: 0 } });
    await add(3, { position: { x: 1, y: 0 } });
    txAt(a, MILLISECOND, frame(1));
    await bus.runUntil(SECOND);
    bus.close();
    expect(outcomes(trace)).toEqual(['2<1 -47', '3<1 out-of-range']);
  });

  it('is asked once per pair while both radios stay (once per direction if not reciprocal)', async () => {
    for (const reciprocal of [true, false]) {
      const { model, calls } = fixedModel(() => 60, reciprocal);
      const { bus, add } = await makeBus({ propagation: model });
      const a = await add(1);
      const b = await add(2, { position: { x: 5, y: 0 } });
      for (let k = 1; k <= 3; k++) {
        txAt(a, k * 10 * MILLISECOND, frame(k));
        txAt(b, k * 10 * MILLISECOND + 5 * MILLISECOND, frame(k));
      }
      await bus.runUntil(SECOND);
      bus.close();
      expect(calls).toEqual(reciprocal ? ['1>2'] : ['1>2', '2>1']);
    }
  });

  it('is asked again for a radio that left and came back (its losses are not kept)', async () => {
    // The loss follows the position: a radio that registers again at 1 km is out of range.
    const model: PropagationModel = {
      name: 'by-distance',
      reciprocal: true,
      pathLossDb: (tx, rx) => (Math.abs(tx.position.x - rx.position.x) > 100 ? 200 : 50),
      shadowingDb: () => 0,
    };
    const { bus, add, trace } = await makeBus({ propagation: model });
    const a = await add(1);
    await add(2, { position: { x: 10, y: 0 } });
    txAt(a, MILLISECOND, frame(1));
    await bus.runUntil(5 * MILLISECOND);
    bus.detachRadio(eui(2), 'moved');
    await add(2, { position: { x: 1000, y: 0 } });
    await add(3, { position: { x: 20, y: 0 } }); // takes a freed slot, if any
    txAt(a, 10 * MILLISECOND, frame(2));
    await bus.runUntil(SECOND);
    bus.close();
    expect(outcomes(trace)).toEqual(['2<1 -47', '2<1 out-of-range', '3<1 -47']);
  });

  it('still hears a frame whose sender left while it was on the air', async () => {
    const { model, calls } = fixedModel(() => 60);
    const { bus, add, trace } = await makeBus({ propagation: model });
    const a = await add(1);
    await add(2, { position: { x: 5, y: 0 } });
    txAt(a, MILLISECOND, frame(1, 100));
    bus.schedule(MILLISECOND + 100, () => bus.detachRadio(eui(1), 'gone'));
    await bus.runUntil(SECOND);
    bus.close();
    expect(outcomes(trace)).toEqual(['2<1 -57']);
    expect(calls).toEqual(['1>2']);
  });
});

describe('an interference decision of your own', () => {
  it('decides what an overlap destroys', async () => {
    const overlap = async (interference?: InterferenceModel) => {
      const { bus, add, trace } = await makeBus(interference ? { interference } : {});
      const a = await add(1);
      const b = await add(2, { position: { x: 10, y: 0 } });
      await add(3, { position: { x: 5, y: 0 } });
      txAt(a, MILLISECOND, frame(1, 50));
      txAt(b, MILLISECOND + 100, frame(2, 50));
      await bus.runUntil(SECOND);
      bus.close();
      return outcomes(trace).filter((o) => o.startsWith('3<'));
    };
    expect(await overlap()).toEqual(['3<1 collision', '3<2 collision']);
    expect(await overlap({ destroys: () => false })).toEqual(['3<1 -56.8', '3<2 -56.8']);
  });
});

describe('the default model', () => {
  it('draws shadowing, loss and capture in the order the bus always has (golden, seed 11)', async () => {
    const { bus, add, trace } = await makeBus({
      seed: 11,
      lossRate: 0.2,
      captureThresholdDb: 3,
      bands: { '2.4GHz': { shadowingSigmaDb: 4 } },
    });
    const radios = [];
    for (let n = 1; n <= 4; n++) radios.push(await add(n, { position: { x: (n - 1) * 25, y: 0 } }));
    radios.forEach((r, i) => {
      for (let k = 0; k < 4; k++)
        r.radio.clock.setTimerAt(1000 + k * 6000 + i * (k === 2 ? 500 : 1300), () => {
          void r.radio.transmit(macDataFrame(k, 1, 0xffff, i + 1, new Uint8Array(20)));
        });
    });
    await bus.runUntil(100 * MILLISECOND);
    bus.close();
    // Recorded before the propagation model was put behind its interface.
    expect(outcomes(trace)).toEqual([
      ...['2<1 -74.9', '3<1 -83.8', '4<1 -89.7', '1<2 -71.1', '3<2 loss', '4<2 -77.9'],
      ...['1<3 -81.9', '2<3 -78.5', '4<3 loss', '1<4 loss', '2<4 loss', '3<4 -76.4'],
      ...['2<1 loss', '3<1 -84.1', '4<1 -86.5', '1<2 loss', '3<2 -84.3', '4<2 -83.6'],
      ...['1<3 loss', '2<3 loss', '4<3 -71.5', '1<4 -90', '2<4 -83', '3<4 -78.4'],
      ...['2<1 receiver-busy', '3<1 receiver-busy', '4<1 collision', '1<2 receiver-busy'],
      ...['3<2 receiver-busy', '4<2 receiver-busy', '1<3 receiver-busy', '2<3 receiver-busy'],
      ...['4<3 receiver-busy', '1<4 collision', '2<4 receiver-busy', '3<4 receiver-busy'],
      ...['2<1 -76.2', '3<1 -87', '4<1 loss', '1<2 -72.5', '3<2 loss', '4<2 -84.6'],
      ...['1<3 loss', '2<3 -77.4', '4<3 -74.2', '1<4 -95.6', '2<4 -84.4', '3<4 -79.3'],
    ]);
  });
});
