/**
 * PHY timing as the MAC sees it. The air's own numbers (octet time, SHR, PHR, largest PSDU)
 * live in @gbhan/radio-bus, which computes airtime for every frame on the bus; this file
 * adds the MAC-level symbol timings (turnaround, unit backoff) on top of the same profiles,
 * so the bus and the MAC can never disagree on how long a frame lasts.
 * 2.4 GHz O-QPSK: IEEE 802.15.4-2006 §6.5 (16 us symbols). GB868 SUN FSK: [assumed]
 * 100 kbit/s 2-FSK, 1 bit per symbol; turnaround 100 symbols (1 ms).
 */
import { OQPSK_2450, type PhyTiming, SUN_FSK_GB868, airtimeUs as timingAirtimeUs } from '@gbhan/radio-bus';
import { ZigbeeDecodeError } from './errors.js';

export interface PhyProfile extends PhyTiming {
  name: string;
  /** Symbol period in microseconds (MAC timings are counted in symbols). */
  symbolPeriodUs: number;
  /** aTurnaroundTime in symbols. */
  turnaroundSymbols: number;
  /** aUnitBackoffPeriod in symbols. */
  unitBackoffSymbols: number;
}

export const PHY_2400_OQPSK: Readonly<PhyProfile> = Object.freeze({
  ...OQPSK_2450,
  name: '2.4 GHz O-QPSK',
  symbolPeriodUs: 16,
  turnaroundSymbols: 12,
  unitBackoffSymbols: 20,
});

/** [assumed] GB868 SUN FSK, 100 kbit/s 2-FSK (1 bit per symbol). */
export const PHY_GB868_FSK: Readonly<PhyProfile> = Object.freeze({
  ...SUN_FSK_GB868,
  name: 'GB868 SUN FSK (assumed 100 kbit/s 2-FSK)',
  symbolPeriodUs: 10,
  turnaroundSymbols: 100,
  unitBackoffSymbols: 20,
});

/** Channel page -> profile: page 0 is 2.4 GHz, pages 28-31 are GB868. */
export function phyForPage(page: number): Readonly<PhyProfile> {
  if (page === 0) return PHY_2400_OQPSK;
  if (page >= 28 && page <= 31) return PHY_GB868_FSK;
  throw new ZigbeeDecodeError('PHY', 'UNSUPPORTED', 'channelPage', `page ${page}`);
}

/** Airtime of a PSDU of `psduLength` bytes (FCS included), SHR and PHR included, in us. */
export function airtimeUs(psduLength: number, phy: Readonly<PhyProfile> = PHY_2400_OQPSK): number {
  if (!Number.isInteger(psduLength) || psduLength < 0 || psduLength > phy.maxPsduBytes) {
    throw new ZigbeeDecodeError(
      'PHY',
      'INVALID_FIELD',
      'psduLength',
      `${psduLength} not in 0..${phy.maxPsduBytes}`,
    );
  }
  return timingAirtimeUs(psduLength, phy);
}

/** Immediate-ack airtime (5-byte PSDU). */
export function ackAirtimeUs(phy: Readonly<PhyProfile> = PHY_2400_OQPSK): number {
  return airtimeUs(5, phy);
}

export function turnaroundUs(phy: Readonly<PhyProfile> = PHY_2400_OQPSK): number {
  return phy.turnaroundSymbols * phy.symbolPeriodUs;
}

export function unitBackoffUs(phy: Readonly<PhyProfile> = PHY_2400_OQPSK): number {
  return phy.unitBackoffSymbols * phy.symbolPeriodUs;
}
