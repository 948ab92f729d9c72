/**
 * The two PHYs a GB HAN uses, as far as the air needs them: which page/channel pairs exist,
 * how long a PSDU occupies the channel, and its centre frequency. The bus computes airtime
 * here so that every radio sees the same occupancy; it never looks inside the PSDU.
 */

export type Band = '2.4GHz' | 'GB868';
export const BANDS: readonly Band[] = ['2.4GHz', 'GB868'];

export interface PhyTiming {
  /** Octets of synchronisation header (preamble + SFD) sent before the PHR. */
  shrBytes: number;
  phrBytes: number;
  /** Microseconds per octet on air. */
  usPerByte: number;
  /** Largest PSDU the PHY carries (aMaxPHYPacketSize). */
  maxPsduBytes: number;
}

/** IEEE 802.15.4-2006 §6.5 O-QPSK: 250 kbit/s, SHR 5 octets (4 preamble + SFD), PHR 1, 32 us/octet. */
export const OQPSK_2450: PhyTiming = { shrBytes: 5, phrBytes: 1, usPerByte: 32, maxPsduBytes: 127 };

/**
 * GB868 "SUN FSK" (802.15.4g). ASSUMPTION (protocol-notes §6): 100 kbit/s 2-FSK (80 us/octet),
 * 4-octet preamble + 2-octet SFD, 2-octet PHR; PSDU kept to 127 octets as ZigBee frames are.
 * Public GB sources give the pages but not these numbers; all are configurable.
 */
export const SUN_FSK_GB868: PhyTiming = { shrBytes: 6, phrBytes: 2, usPerByte: 80, maxPsduBytes: 127 };

export function defaultTiming(band: Band): PhyTiming {
  return band === '2.4GHz' ? OQPSK_2450 : SUN_FSK_GB868;
}

/** Time from the first preamble bit to the last PSDU bit, in integer microseconds. */
export function airtimeUs(psduLength: number, timing: PhyTiming): number {
  return Math.round((timing.shrBytes + timing.phrBytes + psduLength) * timing.usPerByte);
}

/**
 * Valid page/channel pairs. 2.4 GHz: page 0, channels 11-26. GB868 (Silicon Labs docs,
 * protocol-notes §6): pages 28, 30, 31 with channels 0-26, page 29 with channels 0-8.
 */
export function isValidChannel(band: Band, page: number, channel: number): boolean {
  if (!Number.isInteger(page) || !Number.isInteger(channel)) return false;
  if (band === '2.4GHz') return page === 0 && channel >= 11 && channel <= 26;
  if (page === 29) return channel >= 0 && channel <= 8;
  return (page === 28 || page === 30 || page === 31) && channel >= 0 && channel <= 26;
}

/** The band a channel page belongs to (page 0: 2.4 GHz; 28-31: GB868); null for any other page. */
export function bandOfPage(page: number): Band | null {
  if (page === 0) return '2.4GHz';
  if (page >= 28 && page <= 31 && Number.isInteger(page)) return 'GB868';
  return null;
}

/**
 * Centre frequency in MHz. 2.4 GHz: 2405 + 5(k - 11). GB868: ASSUMPTION - page 28 from
 * 863.25 MHz, page 30 from 870.25 MHz, page 31 from 915.35 MHz, page 29 on the page-28
 * raster, 200 kHz spacing; used only for path loss and the TAP capture.
 */
export function centreFrequencyMHz(band: Band, page: number, channel: number): number {
  if (band === '2.4GHz') return 2405 + 5 * (channel - 11);
  const base = page === 30 ? 870.25 : page === 31 ? 915.35 : 863.25;
  return base + 0.2 * channel;
}
