/**
 * The radio model behind its interfaces: the bus uses the model it is given, caches path loss
 * per radio pair only while both radios are on the bus, and the default model draws from the
 * seeded PRNG exactly as the bus did before the interface existed.
 */
import { MILLISECOND, SECOND } from '@gbhan/clock';
import { describe, expect, it } from 'vitest';
import {
  BusConfigError,
  type BusTraceEvent,
  FreeSpaceModel,
  type InterferenceModel,
  type PathEnd,
  type PropagationModel,
  parseMediumConfig,
  RadioBus,
  type RadioBusConfig,
} from '../src/index.js';
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
  /** Radios 1 (origin) and 2 (at x2) overlap; what radio 3, 5 m from 1, made of each. */
  const overlap = async (x2: number, interference?: InterferenceModel) => {
    const { bus, add, trace } = await makeBus(interference ? { interference } : {});
    const a = await add(1);
    const b = await add(2, { position: { x: x2, y: 0 } });
    await add(3, { position: { x: 5, y: 0 } });
    txAt(a, MILLISECOND, frame(1, 50));
    txAt(b, MILLISECOND + 100, frame(2, 50));
    await bus.runUntil(SECOND);
    bus.close();
    return outcomes(trace).filter((o) => o.startsWith('3<'));
  };

  it('decides what an overlap destroys', async () => {
    expect(await overlap(10)).toEqual(['3<1 collision', '3<2 collision']);
    expect(await overlap(10, { destroys: () => false })).toEqual(['3<1 -56.8', '3<2 -56.8']);
  });

  it('is asked about frames too far to be heard unless it says it needs an audible interferer', async () => {
    // Radio 2 at 5 km: below every sensitivity at 3 and beyond the index's reach.
    const asked: number[] = [];
    const anyOverlap: InterferenceModel = { destroys: (_s, i) => asked.push(Math.round(i)) > 0 };
    expect(await overlap(5000, anyOverlap)).toEqual(['3<1 collision', '3<2 out-of-range']);
    expect(asked.length).toBeGreaterThan(0);
    expect(await overlap(5000, { ...anyOverlap, audibleOnly: true })).toEqual([
      '3<1 -56.8',
      '3<2 out-of-range',
    ]);
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

/** Radio 1 at the origin sends one frame to radios at these positions (numbered from 2); the outcomes. */
async function hear(
  config: RadioBusConfig,
  positions: { x: number; y: number }[],
  band: '2.4GHz' | 'GB868' = '2.4GHz',
) {
  const reg = band === '2.4GHz' ? { band, page: 0, channel: 11 } : { band, page: 28, channel: 2 };
  const { bus, add, trace } = await makeBus(config);
  const a = await add(1, reg);
  for (const [i, position] of positions.entries()) await add(i + 2, { ...reg, position });
  txAt(a, MILLISECOND, frame(1));
  await bus.runUntil(SECOND);
  bus.close();
  return outcomes(trace);
}

describe('models by name', () => {
  const friis = (d: number, mhz: number) => 20 * Math.log10((4 * Math.PI * d * mhz * 1e6) / 299_792_458);

  it('log-distance is the default: 500 m is out of range on 2.4 GHz', async () => {
    expect(await hear({}, [{ x: 500, y: 0 }])).toEqual(['2<1 out-of-range']);
    expect(await hear({ model: 'log-distance' }, [{ x: 500, y: 0 }])).toEqual(['2<1 out-of-range']);
  });

  it('free-space: Friis at the band frequency, walls and distance exponent gone, 500 m in range', async () => {
    const rssi = (d: number, mhz: number) => Math.round((3 - friis(d, mhz)) * 10) / 10;
    expect(
      await hear({ model: 'free-space' }, [
        { x: 500, y: 0 },
        { x: 0.2, y: 0 },
      ]),
    ).toEqual([
      `2<1 ${rssi(500, 2440)}`,
      `3<1 ${rssi(1, 2440)}`, // under 1 m counts as 1 m
    ]);
    expect(await hear({ model: 'free-space' }, [{ x: 2000, y: 0 }])).toEqual(['2<1 out-of-range']);
    expect(
      await hear(
        { model: 'free-space', freeSpace: { GB868: { frequencyMHz: 915 } } },
        [{ x: 500, y: 0 }],
        'GB868',
      ),
    ).toEqual([`2<1 ${rssi(500, 915)}`]);
    expect(
      new FreeSpaceModel().pathLossDb(
        { eui64: null, position: { x: 0, y: 0 } },
        { eui64: null, position: { x: 10, y: 0 } },
        'GB868',
      ),
    ).toBeCloseTo(friis(10, 868), 9);
  });

  it('matrix: the listed loss, whatever the distance; one way differs with reverseLossDb', async () => {
    const matrix = {
      links: [
        { from: eui(1), to: eui(2), lossDb: 60 }, // 1 m apart, heard at -57 not -37.2
        { from: eui(1), to: eui(3), lossDb: 80, reverseLossDb: 120 }, // 5 km apart
        { from: eui(1), to: eui(4), lossDb: 150 }, // 2 m apart, out of range
      ],
    };
    const positions = [
      { x: 1, y: 0 },
      { x: 5000, y: 0 },
      { x: 2, y: 0 },
      { x: 10, y: 0 }, // unlisted: log-distance (10 m: 3 - 68.2)
    ];
    expect(await hear({ model: 'matrix', matrix }, positions)).toEqual([
      '2<1 -57',
      '3<1 -77',
      '4<1 out-of-range',
      '5<1 -65.2',
    ]);
    expect(await hear({ model: 'matrix', matrix: { ...matrix, defaultLossDb: 200 } }, positions)).toEqual([
      '2<1 -57',
      '3<1 -77',
      '4<1 out-of-range',
      '5<1 out-of-range',
    ]);
    // The way back: 3 -> 1 at 120 dB is out of range.
    const { bus, add, trace } = await makeBus({ model: 'matrix', matrix });
    await add(1);
    const far = await add(3, { position: { x: 5000, y: 0 } });
    txAt(far, MILLISECOND, frame(3));
    await bus.runUntil(SECOND);
    bus.close();
    expect(outcomes(trace)).toEqual(['1<3 out-of-range']);
  });

  it('matrix: a link given for one band leaves the other band to the default', async () => {
    const matrix = { links: [{ from: eui(1), to: eui(2), lossDb: 150, band: 'GB868' as const }] };
    expect(await hear({ model: 'matrix', matrix }, [{ x: 1, y: 0 }], 'GB868')).toEqual(['2<1 out-of-range']);
    expect(await hear({ model: 'matrix', matrix }, [{ x: 1, y: 0 }])).toEqual(['2<1 -37.2']);
  });

  it('matrix: jammers are heard at defaultLossDb (or by log-distance without it)', async () => {
    const jam = async (defaultLossDb?: number) => {
      const { bus, add, drops } = await makeBus({
        model: 'matrix',
        matrix: {
          links: [{ from: eui(1), to: eui(2), lossDb: 60 }],
          ...(defaultLossDb === undefined ? {} : { defaultLossDb }),
        },
        jammers: [
          {
            band: '2.4GHz',
            page: 0,
            channel: 11,
            position: { x: 5000, y: 0 },
            txPowerDbm: 0,
            startUs: 0,
            endUs: SECOND,
          },
        ],
      });
      const a = await add(1);
      await add(2, { position: { x: 1, y: 0 } });
      txAt(a, MILLISECOND, frame(1));
      await bus.runUntil(SECOND);
      bus.close();
      return drops('jammed').length;
    };
    expect(await jam()).toBe(0); // 5 km by log-distance: not heard
    expect(await jam(90)).toBe(1); // 0 - 90 dBm >= -100
  });
});

describe('medium config errors name the field', () => {
  const fails = (value: unknown) => {
    try {
      parseMediumConfig(value);
    } catch (e) {
      if (e instanceof BusConfigError) return { field: e.field, message: e.message };
      throw e;
    }
    throw new Error('expected the medium config to be refused');
  };
  const link = { from: '00124B0000000001', to: '00124b0000000002', lossDb: 70 };

  it('accepts each model with its parameters (EUI64s lowercased)', () => {
    expect(
      parseMediumConfig({ model: 'free-space', freeSpace: { '2.4GHz': { frequencyMHz: 2405 } } }).model,
    ).toBe('free-space');
    const m = parseMediumConfig({ model: 'matrix', matrix: { links: [link], defaultLossDb: 120 } });
    expect(m.matrix?.links[0]?.from).toBe('00124b0000000001');
    expect(
      parseMediumConfig({ model: 'log-distance', walls: [{ from: [0, 0], to: [1, 1] }] }).walls,
    ).toHaveLength(1);
    expect(parseMediumConfig({ model: 'matrix', matrix: { links: [link] }, walls: [] }).model).toBe('matrix');
  });

  it.each([
    [{ model: 'ray-tracing' }, 'model', /expected one of/],
    [{ model: 'matrix' }, 'matrix', /required with model: matrix/],
    [{ matrix: { links: [] } }, 'matrix', /only with model: matrix \(the model is log-distance\)/],
    [{ model: 'matrix', freeSpace: {} }, 'freeSpace', /only with model: free-space/],
    [
      { model: 'free-space', walls: [{ from: [0, 0], to: [1, 1] }] },
      'walls',
      /not used by the free-space model/,
    ],
    [
      { model: 'free-space', bands: { GB868: { pathLossExponent: 3 } } },
      'bands.GB868.pathLossExponent',
      /not used/,
    ],
    [
      { model: 'free-space', freeSpace: { '2.4GHz': { frequencyMHz: 0 } } },
      'freeSpace.2.4GHz.frequencyMHz',
      /0/,
    ],
    [{ model: 'free-space', freeSpace: { '2.4GHz': { mhz: 2405 } } }, 'freeSpace.2.4GHz', /mhz/],
    [
      {
        model: 'matrix',
        matrix: { links: [link], defaultLossDb: 99 },
        bands: { '2.4GHz': { shadowingSigmaDb: 2 } },
      },
      'bands.2.4GHz.shadowingSigmaDb',
      /with defaultLossDb/,
    ],
    [
      { model: 'matrix', matrix: { links: [{ ...link, from: 'ch' }] } },
      'matrix.links.0.from',
      /not an EUI64: "ch"/,
    ],
    [
      { model: 'matrix', matrix: { links: [{ ...link, to: 2 }] } },
      'matrix.links.0.to',
      /in quotes if all digits/,
    ],
    [{ model: 'matrix', matrix: { links: [{ ...link, lossDb: -3 }] } }, 'matrix.links.0.lossDb', /0/],
    [
      { model: 'matrix', matrix: { links: [{ ...link, band: '5GHz' }] } },
      'matrix.links.0.band',
      /expected one of/,
    ],
    [{ model: 'matrix', matrix: { links: [{ ...link, to: link.from }] } }, 'matrix.links.0.to', /to itself/],
    [
      {
        model: 'matrix',
        matrix: { links: [link, { ...link, band: 'GB868', from: link.to, to: link.from }] },
      },
      'matrix.links.1',
      /already given by matrix.links.0/,
    ],
    [{ model: 'matrix', matrix: { links: [link], defaultLossDb: -1 } }, 'matrix.defaultLossDb', /0/],
    [{ model: 'matrix', matrix: {} }, 'matrix.links', /expected array/],
  ])('%j -> %s', (value, field, message) => {
    const e = fails(value);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message).toContain(`medium config: ${field}: `);
  });

  it('a bus built from code gets the same checks, and one model at a time', () => {
    const refused = (config: RadioBusConfig) => {
      try {
        new RadioBus(config).close();
      } catch (e) {
        return e instanceof BusConfigError ? e.field : e;
      }
      return null;
    };
    const { model } = fixedModel(() => 60);
    expect(refused({ model: 'free-space', walls: [{ from: [0, 0], to: [1, 1] }] })).toBe('walls');
    expect(refused({ model: 'log-distance', propagation: model })).toBe('propagation');
    expect(refused({ captureThresholdDb: 3, interference: { destroys: () => true } })).toBe('interference');
    expect(refused({ propagation: model, interference: { destroys: () => true } })).toBeNull();
  });
});
