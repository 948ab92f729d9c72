/** Test certificates from one seeded test CA (suite 2), cached per EUI64. */
import { type RandomSource, TestCa } from '@gbhan/cbke';
import { Prng } from '@gbhan/radio-bus';
import { fromHex } from '@gbhan/zigbee';
import type { CbkeConfig } from '../src/index.js';

export function seededRandom(seed: string): RandomSource {
  const prng = new Prng(seed);
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = prng.nextUint32() & 0xff;
    return out;
  };
}

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
