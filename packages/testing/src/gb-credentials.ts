/**
 * Test certificates for device application tests: one seeded suite-2 test CA (issuer
 * "TESTCA01"), a device certificate per EUI64. Independent of the run CA (`runCbkeConfig`) so
 * unit tests do not depend on a run seed. Imports @gbhan/runtime: from `@gbhan/testing`, for
 * tests of runtime and the packages above it.
 */
import { TestCa } from '@gbhan/cbke';
import { type CbkeConfig, seededRandom } from '@gbhan/runtime';
import { fromHex } from '@gbhan/zigbee';

const ca = new TestCa({ suite: 2, issuer: fromHex('5445535443413031'), random: seededRandom('ca') });

export function cbkeConfig(
  eui64: string,
  timing: 'advertised' | 'as-fast-as-computed' = 'as-fast-as-computed',
): CbkeConfig {
  const dev = ca.issueDevice({ subject: fromHex(eui64) });
  return {
    credentials: { 2: { certificate: dev.certificate, privateKey: dev.privateKey } },
    trustedCAs: [ca.trusted],
    random: seededRandom(`dev-${eui64}`),
    timing,
  };
}
