import { MILLISECOND, SECOND } from '@gbhan/clock';
import { describe, expect, it } from 'vitest';
import {
  airtimeUs,
  centreFrequencyMHz,
  DEFAULT_BAND_MODELS,
  isValidChannel,
  OQPSK_2450,
  pathLossDb,
  SUN_FSK_GB868,
  wallLossDb,
} from '../src/index.js';
import { macDataFrame } from './frames.js';
import { makeBus, txAt } from './harness.js';

describe('PHY timing', () => {
  it('matches the 802.15.4 O-QPSK numbers: 127-byte PSDU 4.256 ms, ACK 352 us', () => {
    expect(airtimeUs(127, OQPSK_2450)).toBe(4256);
    expect(airtimeUs(5, OQPSK_2450)).toBe(352);
  });

  it('uses the assumed GB868 SUN FSK timing (80 us/octet, 6-octet SHR, 2-octet PHR)', () => {
    expect(airtimeUs(127, SUN_FSK_GB868)).toBe((6 + 2 + 127) * 80);
  });

  it('knows which page/channel pairs exist on each band', () => {
    expect(isValidChannel('2.4GHz', 0, 11)).toBe(true);
    expect(isValidChannel('2.4GHz', 0, 26)).toBe(true);
    expect(isValidChannel('2.4GHz', 0, 27)).toBe(false);
    expect(isValidChannel('2.4GHz', 28, 11)).toBe(false);
    expect(isValidChannel('GB868', 28, 26)).toBe(true);
    expect(isValidChannel('GB868', 29, 8)).toBe(true);
    expect(isValidChannel('GB868', 29, 9)).toBe(false);
    expect(isValidChannel('GB868', 27, 0)).toBe(false);
    expect(centreFrequencyMHz('2.4GHz', 0, 11)).toBe(2405);
    expect(centreFrequencyMHz('2.4GHz', 0, 26)).toBe(2480);
  });
});

describe('propagation', () => {
  it('starts from free-space loss at 1 m (Friis) for each band', () => {
    const friis = (mhz: number) => 20 * Math.log10((4 * Math.PI * 1 * mhz * 1e6) / 299_792_458);
    expect(DEFAULT_BAND_MODELS['2.4GHz'].referenceLossDb).toBeCloseTo(friis(2440), 1);
    expect(DEFAULT_BAND_MODELS.GB868.referenceLossDb).toBeCloseTo(friis(868), 1);
    expect(pathLossDb(10, DEFAULT_BAND_MODELS['2.4GHz'])).toBeCloseTo(40.2 + 28, 6);
  });

  it('counts the walls a link crosses', () => {
    const walls = [
      { from: [5, -10] as [number, number], to: [5, 10] as [number, number] },
      { from: [15, -10] as [number, number], to: [15, 10] as [number, number], lossDb: 12 },
    ];
    const m = DEFAULT_BAND_MODELS['2.4GHz'];
    expect(wallLossDb({ x: 0, y: 0 }, { x: 4, y: 0 }, walls, m)).toBe(0);
    expect(wallLossDb({ x: 0, y: 0 }, { x: 10, y: 0 }, walls, m)).toBe(6);
    expect(wallLossDb({ x: 0, y: 0 }, { x: 20, y: 0 }, walls, m)).toBe(18);
  });

  /** Farthest distance (1 m steps) at which a frame is still delivered through the bus. */
  async function range(band: '2.4GHz' | 'GB868', walls: number): Promise<number> {
    const page = band === '2.4GHz' ? 0 : 28;
    const channel = band === '2.4GHz' ? 15 : 1;
    const wallList = Array.from({ length: walls }, (_, i) => ({
      from: [0.5 + i * 0.01, -5000] as [number, number],
      to: [0.5 + i * 0.01, 5000] as [number, number],
    }));
    const { bus, add } = await makeBus({ walls: wallList });
    const tx = await add(1, { band, page, channel });
    const rxs = [];
    for (let d = 1; d <= 1000; d++)
      rxs.push(await add(100 + d, { band, page, channel, position: { x: d, y: 0 } }));
    txAt(tx, SECOND, macDataFrame(1, 1, 0xffff, 1, Uint8Array.of(0)));
    await bus.runUntil(2 * SECOND);
    bus.close();
    let best = 0;
    rxs.forEach((r, i) => {
      if (r.received.length > 0) best = i + 1;
    });
    return best;
  }

  it('reaches further on GB868 than on 2.4 GHz, and less far through walls', async () => {
    const open24 = await range('2.4GHz', 0);
    const open868 = await range('GB868', 0);
    const walls24 = await range('2.4GHz', 3);
    const walls868 = await range('GB868', 3);
    // Budget 103 dB at 2.4 GHz: 40.2 + 28 log10(d) <= 103 -> d <= 174.98 m; 868: 110 dB -> 652.1 m.
    expect(open24).toBe(174);
    expect(open868).toBe(652);
    expect(walls24).toBeLessThan(open24);
    expect(walls868).toBeGreaterThan(walls24);
    // Three 6 dB walls cost 18 dB: 10^((103-18-40.2)/28) = 39.8 m.
    expect(walls24).toBe(39);
  }, 60_000);

  it('delivers within range with RSSI and LQI, and traces out-of-range receivers', async () => {
    const { bus, add, drops } = await makeBus();
    const a = await add(1);
    const near = await add(2, { position: { x: 10, y: 0 } });
    await add(3, { position: { x: 500, y: 0 } });
    txAt(a, MILLISECOND, macDataFrame(1, 1, 0xffff, 1, Uint8Array.of(1)));
    await bus.runUntil(SECOND);
    bus.close();
    expect(near.received).toHaveLength(1);
    expect(near.received[0]!.rssi).toBe(Math.round(3 - (40.2 + 28)));
    expect(near.received[0]!.lqi).toBeGreaterThan(0);
    expect(drops('out-of-range')).toHaveLength(1);
  });
});
