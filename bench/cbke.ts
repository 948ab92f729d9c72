/**
 * CBKE benchmark: wall time of one complete suite-2 Key Establishment exchange,
 * both sides in one process (2 certificate reconstructions, 2 ephemeral key generations,
 * 2 ECMQV, plus point validation and the MACs), against the floor of the same run:
 * 6 sect283k1 scalar multiplications through node:crypto. Goal: ratio <= 10.
 *
 *   node --import tsx bench/cbke.ts [iterations]
 */
import { createECDH } from 'node:crypto';
import { ManualClock } from '@gbhan/clock';
import {
  KeyEstablishmentInitiator,
  KeyEstablishmentResponder,
  type KeyEstablishmentResult,
  sect163k1,
  sect283k1,
  TestCa,
} from '../packages/cbke/src/index.js';
import { timeMs } from './support/timing.js';

const iterations = Number(process.argv[2] ?? 20);

const time = timeMs;

const eu = Uint8Array.of(0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x12);
const ev = Uint8Array.of(0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11);
const ca = new TestCa({ suite: 2, issuer: Uint8Array.of(0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18) });
const du = ca.issueDevice({ subject: eu });
const dv = ca.issueDevice({ subject: ev });

function exchange(): void {
  const clock = new ManualClock();
  const results: KeyEstablishmentResult[] = [];
  const common = { clock, trustedCAs: [ca.trusted], timing: 'as-fast-as-computed' as const };
  const initiator: KeyEstablishmentInitiator = new KeyEstablishmentInitiator({
    ...common,
    ownEui64: eu,
    credentials: { 2: { certificate: du.certificate, privateKey: du.privateKey } },
    onResult: (r) => results.push(r),
    send: (m) => clock.setTimer(0, () => responder.receive(m, eu)),
  });
  const responder: KeyEstablishmentResponder = new KeyEstablishmentResponder({
    ...common,
    ownEui64: ev,
    credentials: { 2: { certificate: dv.certificate, privateKey: dv.privateKey } },
    onResult: (r) => results.push(r),
    send: (m) => clock.setTimer(0, () => initiator.receive(m, ev)),
  });
  initiator.start(ev, responder.keyEstablishmentSuite);
  clock.runAll();
  if (results.length !== 2 || !results.every((r) => r.ok)) throw new Error('exchange failed');
}

const peer = createECDH('sect283k1');
peer.generateKeys();
const peerPublic = peer.getPublicKey();
const local = createECDH('sect283k1');
local.generateKeys();
function floor(): void {
  for (let i = 0; i < 6; i++) local.computeSecret(peerPublic);
}

// warm up the JIT
for (let i = 0; i < 3; i++) {
  exchange();
  floor();
}
const ours = time(exchange, iterations);
const theirs = time(floor, iterations * 5);
console.log(
  `cbke suite-2 exchange: ${ours.toFixed(2)} ms; floor (6 x node:crypto sect283k1): ${theirs.toFixed(2)} ms; ratio ${(ours / theirs).toFixed(1)} (goal <= 10)`,
);

for (const curve of [sect163k1, sect283k1]) {
  // A scalar with no structure (0.618 n): n - c would reduce to the tiny -c modulo δ and give the τNAF a few digits only.
  const k = (curve.n * 0x9e3779b97f4a7c15n) >> 64n;
  const P = curve.multiplyBase(777n)!;
  const ecdh = createECDH(curve.name);
  ecdh.setPrivateKey(curve.scalarToBytes(k));
  const pub = curve.encodeUncompressed(P);
  time(() => curve.multiply(P, k), iterations); // warm-up for this curve's field code
  const mine = time(() => curve.multiply(P, k), iterations);
  const base = time(() => curve.multiplyBase(k), iterations, 5);
  const ladder = time(() => curve.multiplyLadder(P, k), iterations, 5);
  const node = time(() => ecdh.computeSecret(pub), iterations * 5);
  console.log(
    `${curve.name} scalar multiplication: k*P ${mine.toFixed(2)} ms (τNAF), k*G ${base.toFixed(2)} ms, ladder ${ladder.toFixed(2)} ms; node:crypto ${node.toFixed(2)} ms; k*P/node ${(mine / node).toFixed(1)}`,
  );
}
