/**
 * ZigBee SE CBKE crypto suites (ZSE Annex C.3.1.1.1, attribute KeyEstablishmentSuite):
 * suite 1 = sect163k1 with 48-byte certificates, suite 2 = sect283k1 with 74-byte ones.
 * The suite value in a command equals the attribute bit of that suite (0x0001, 0x0002).
 */
import type { KoblitzCurve } from './abstract/koblitz.js';
import { sect163k1 } from './sect163k1.js';
import { sect283k1 } from './sect283k1.js';

export type CryptoSuite = 1 | 2;

export interface SuiteInfo {
  readonly suite: CryptoSuite;
  /** Value in Initiate/Terminate commands and bit in the KeyEstablishmentSuite attribute. */
  readonly value: number;
  readonly curve: KoblitzCurve;
  readonly certificateLength: number;
  /** Compressed ephemeral public key length on the wire. */
  readonly pointLength: number;
}

export const SUITES: Readonly<Record<CryptoSuite, SuiteInfo>> = {
  1: { suite: 1, value: 0x0001, curve: sect163k1, certificateLength: 48, pointLength: 22 },
  2: { suite: 2, value: 0x0002, curve: sect283k1, certificateLength: 74, pointLength: 37 },
};

/** The suite named by a command's suite field, or undefined when it is not one we know. */
export function suiteFromValue(value: number): SuiteInfo | undefined {
  if (value === 0x0001) return SUITES[1];
  if (value === 0x0002) return SUITES[2];
  return undefined;
}

/** KeyEstablishmentSuite attribute bitmap of a set of suites. */
export function suiteBitmap(suites: Iterable<CryptoSuite>): number {
  let bits = 0;
  for (const s of suites) bits |= SUITES[s].value;
  return bits;
}
