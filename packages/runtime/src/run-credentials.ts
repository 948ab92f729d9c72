/**
 * The run's certificates: a test CA derived from the run seed (stand-in for the SMKI Device
 * CA) and a device certificate per EUI64, so every device of a run, in-process or in its own
 * process, trusts the same CA without certificates being passed around.
 */
import { type CryptoSuite, type RandomSource, TestCa, type TimingMode } from '@gbhan/cbke';
import { Prng } from '@gbhan/radio-bus';
import { fromHex } from '@gbhan/zigbee';
import type { CbkeConfig } from './cbke-service.js';

/** A RandomSource from the run's seeded PRNG (protocol code never uses Math.random). */
export function seededRandom(seed: string): RandomSource {
  const prng = new Prng(seed);
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = prng.nextUint32() & 0xff;
    return out;
  };
}

/** Issuer id of the run's test CA ("GBHNTEST"). */
export const RUN_TEST_CA_ISSUER = '4742484e54455354';
const runCas = new Map<string, TestCa>();

/**
 * The run's test CA: derived from the run seed alone, so every device of a run (in-process or
 * in its own process) trusts the same CA without certificates being passed around.
 * ASSUMPTION: one suite-2 CA per run stands in for the SMKI Device CA.
 */
export function runTestCa(seed: string | number, suite: CryptoSuite = 2): TestCa {
  const key = `${seed}/${suite}`;
  let ca = runCas.get(key);
  if (!ca) {
    ca = new TestCa({
      suite,
      issuer: fromHex(RUN_TEST_CA_ISSUER),
      random: seededRandom(`${seed}/test-ca/${suite}`),
    });
    runCas.set(key, ca);
  }
  return ca;
}

/** CBKE configuration of a device: a certificate for `eui64` from the run's test CA. */
export function runCbkeConfig(
  seed: string | number,
  eui64: string,
  timing?: TimingMode,
  suite: CryptoSuite = 2,
): CbkeConfig {
  const ca = runTestCa(seed, suite);
  // A CA object per issuance with randomness of its own, so a device's certificate does not
  // depend on which other devices were issued before it (in this process or another).
  const issuer = new TestCa({
    suite,
    issuer: ca.issuer,
    privateKey: ca.privateKey,
    publicKey: ca.publicKey,
    random: seededRandom(`${seed}/cert/${eui64}`),
  });
  const dev = issuer.issueDevice({ subject: fromHex(eui64), serial: fromHex(eui64) });
  return {
    credentials: { [suite]: { certificate: dev.certificate, privateKey: dev.privateKey } },
    trustedCAs: [ca.trusted],
    random: seededRandom(`${seed}/cbke/${eui64}`),
    ...(timing !== undefined ? { timing } : {}),
  };
}
