import { createHash } from 'node:crypto';
import { ManualClock } from '@gbhan/clock';
import type { KeyEstablishmentMessage } from '@gbhan/zigbee';
import { equalBytes, hexToBytes } from '../src/bytes.js';
import type { KeyEstablishmentOptions, KeyEstablishmentResult } from '../src/key-establishment.js';
import { KeyEstablishmentInitiator } from '../src/key-establishment-initiator.js';
import { KeyEstablishmentResponder } from '../src/key-establishment-responder.js';
import { KeyExportLog } from '../src/key-export.js';
import type { CryptoSuite } from '../src/suites.js';
import { type CertificateFields, type IssuedCredentials, type RandomSource, TestCa } from '../src/test-ca.js';

/** Deterministic random bytes: SHA-256 of (seed, counter). */
export function seededRandom(seed: string | number): RandomSource {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let off = 0; off < length; off += 32) {
      const h = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(h.subarray(0, Math.min(32, length - off)), off);
    }
    return out;
  };
}

export const EUI_U = hexToBytes('0A0B0C0D0E0F1012');
export const EUI_V = hexToBytes('0A0B0C0D0E0F1011');
export const EUI_W = hexToBytes('0A0B0C0D0E0F1013');
export const ISSUER = hexToBytes('1112131415161718');

const cas = new Map<string, TestCa>();
/** One cached CA per (suite, issuer), so tests do not pay for key generation twice. */
export function testCa(suite: CryptoSuite, issuer = ISSUER): TestCa {
  const key = `${suite}:${issuer.join(',')}`;
  let ca = cas.get(key);
  if (!ca) {
    ca = new TestCa({ suite, issuer, random: seededRandom(`ca${key}`) });
    cas.set(key, ca);
  }
  return ca;
}

const issued = new Map<string, IssuedCredentials>();
export function device(suite: CryptoSuite, fields: CertificateFields, ca = testCa(suite)): IssuedCredentials {
  const key = `${suite}:${ca.issuer.join(',')}:${JSON.stringify(fields, (_k, v) => (v instanceof Uint8Array ? [...v] : v))}`;
  let d = issued.get(key);
  if (!d) {
    d = ca.issueDevice(fields);
    issued.set(key, d);
  }
  return d;
}

export interface Link {
  /** Called for every message in flight; return a replacement, or null to drop it. */
  tap?: (msg: KeyEstablishmentMessage, from: 'U' | 'V') => KeyEstablishmentMessage | null;
  latencyUs?: number;
}

export interface Pair {
  clock: ManualClock;
  initiator: KeyEstablishmentInitiator;
  responder: KeyEstablishmentResponder;
  results: { U: KeyEstablishmentResult[]; V: KeyEstablishmentResult[] };
  /** Virtual time of each result. */
  resultTimes: { U: number[]; V: number[] };
  sent: { U: KeyEstablishmentMessage[]; V: KeyEstablishmentMessage[] };
  log: KeyExportLog;
  /** Messages the responder sent to devices other than U. */
  others: { msg: KeyEstablishmentMessage; to: Uint8Array }[];
}

type Side = Partial<Omit<KeyEstablishmentOptions, 'clock' | 'send' | 'onResult'>>;

/** An initiator U and a responder V joined by a link on one ManualClock. */
export function makePair(suite: CryptoSuite, u: Side = {}, v: Side = {}, link: Link = {}): Pair {
  const clock = new ManualClock();
  const log = new KeyExportLog();
  const results: Pair['results'] = { U: [], V: [] };
  const resultTimes: Pair['resultTimes'] = { U: [], V: [] };
  const sent: Pair['sent'] = { U: [], V: [] };
  const latency = link.latencyUs ?? 5_000;
  const ca = testCa(suite);
  const common = {
    clock,
    trustedCAs: [ca.trusted],
    timing: 'as-fast-as-computed' as const,
    random: seededRandom('eph'),
    onKeyEstablished: log.record,
  };
  const pair = {} as Pair;
  const deliver = (msg: KeyEstablishmentMessage, from: 'U' | 'V') => {
    sent[from].push(msg);
    const m = link.tap ? link.tap(msg, from) : msg;
    if (m === null) return;
    clock.setTimer(latency, () => {
      if (from === 'U') pair.responder.receive(m, EUI_U);
      else pair.initiator.receive(m, EUI_V);
    });
  };
  const du = device(suite, { subject: EUI_U });
  const dv = device(suite, { subject: EUI_V });
  const initiator = new KeyEstablishmentInitiator({
    ...common,
    ownEui64: EUI_U,
    credentials: { [suite]: { certificate: du.certificate, privateKey: du.privateKey } },
    onResult: (r) => {
      results.U.push(r);
      resultTimes.U.push(clock.now());
    },
    send: (m) => deliver(m, 'U'),
    ...u,
  });
  const responder = new KeyEstablishmentResponder({
    ...common,
    ownEui64: EUI_V,
    credentials: { [suite]: { certificate: dv.certificate, privateKey: dv.privateKey } },
    onResult: (r) => {
      results.V.push(r);
      resultTimes.V.push(clock.now());
    },
    send: (m, to) => {
      if (equalBytes(to, EUI_U)) deliver(m, 'V');
      else pair.others.push({ msg: m, to });
    },
    ...v,
  });
  Object.assign(pair, { clock, initiator, responder, results, resultTimes, sent, log, others: [] });
  return pair;
}
