import { describe, expect, it } from 'vitest';
import {
  ackAirtimeUs,
  airtimeUs,
  PHY_2400_OQPSK,
  PHY_GB868_FSK,
  phyForPage,
  turnaroundUs,
  unitBackoffUs,
  ZigbeeDecodeError,
} from '../src/index.js';

describe('PHY airtime (802.15.4-2006 §6.5; GB868 assumed)', () => {
  it('2.4 GHz: 32 us/byte with 6 bytes of SHR+PHR', () => {
    expect(airtimeUs(127)).toBe(4256); // protocol notes §6: max frame 4.256 ms
    expect(ackAirtimeUs()).toBe(352); // ACK 352 us
    expect(turnaroundUs()).toBe(192);
    expect(unitBackoffUs()).toBe(320);
  });

  it('GB868: 80 us/byte with 2-byte PHR, configurable by passing a profile', () => {
    expect(airtimeUs(10, PHY_GB868_FSK)).toBe((6 + 2 + 10) * 80);
    expect(airtimeUs(10, { ...PHY_GB868_FSK, usPerByte: 40 })).toBe((6 + 2 + 10) * 40);
    expect(phyForPage(0)).toBe(PHY_2400_OQPSK);
    for (const p of [28, 29, 30, 31]) expect(phyForPage(p)).toBe(PHY_GB868_FSK);
  });

  it('rejects impossible lengths and pages with typed errors', () => {
    expect(() => airtimeUs(128)).toThrow(ZigbeeDecodeError);
    expect(() => airtimeUs(-1)).toThrow(ZigbeeDecodeError);
    expect(() => phyForPage(5)).toThrow(ZigbeeDecodeError);
  });
});
