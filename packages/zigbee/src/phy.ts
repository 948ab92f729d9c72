/**
 * PHY timing for airtime on the simulated bus. 2.4 GHz O-QPSK is IEEE 802.15.4-2006 §6.5:
 * 250 kbit/s, 32 us per byte, SHR 5 bytes (preamble 4 + SFD 1), PHR 1 byte, 16 us symbols.
 * GB868 (SUN FSK, 802.15.4g) parameters are [assumed]: 100 kbit/s 2-FSK = 80 us per byte,
 * 4-byte preamble + 2-byte SFD, 2-byte PHR. Every figure is a field, so a caller who knows
 * better passes its own profile.
 */
import { ZigbeeDecodeError } from './errors.js';

export interface PhyProfile {
  name: string;
  /** Time to send one byte, in microseconds. */
  bytePeriodUs: number;
  /** Symbol period in microseconds (MAC timings are counted in symbols). */
  symbolPeriodUs: number;
  /** Synchronisation header (preamble + SFD) in bytes. */
  shrBytes: number;
  /** PHY header in bytes. */
  phrBytes: number;
  /** Largest PSDU. */
  maxPsduBytes: number;
  /** aTurnaroundTime in symbols. */
  turnaroundSymbols: number;
  /** aUnitBackoffPeriod in symbols. */
  unitBackoffSymbols: number;
}

export const PHY_2400_OQPSK: Readonly<PhyProfile> = Object.freeze({
  name: '2.4 GHz O-QPSK',
  bytePeriodUs: 32,
  symbolPeriodUs: 16,
  shrBytes: 5,
  phrBytes: 1,
  maxPsduBytes: 127,
  turnaroundSymbols: 12,
  unitBackoffSymbols: 20,
});

/** [assumed] GB868 SUN FSK, 100 kbit/s 2-FSK (1 bit per symbol). */
export const PHY_GB868_FSK: Readonly<PhyProfile> = Object.freeze({
  name: 'GB868 SUN FSK (assumed 100 kbit/s 2-FSK)',
  bytePeriodUs: 80,
  symbolPeriodUs: 10,
  shrBytes: 6,
  phrBytes: 2,
  maxPsduBytes: 127,
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
  return (phy.shrBytes + phy.phrBytes + psduLength) * phy.bytePeriodUs;
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
