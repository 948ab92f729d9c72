/**
 * GBCS benchmark: one critical command end to end - buildCommand (Supplier ECDSA signature,
 * ACB ECDH + KDF + GCM MAC) then verifyCommand on the device (ECDH + KDF + MAC check, ECDSA
 * verify) - against the floor of the same run: one node:crypto ECDSA P-256 sign + verify.
 * Median of the runs' per-operation times.
 *
 *   node --import tsx bench/gbcs.ts [runs] [iterations per run]
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import {
  buildCommand,
  deviceGbcsKeys,
  ecs70SetClock,
  fromHex,
  remoteParties,
  trustAnchorsOf,
  verifyCommand,
} from '../packages/gbcs/src/index.js';

const runs = Math.max(5, Number(process.argv[2] ?? 7));
const iterations = Number(process.argv[3] ?? 40);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median over runs of the mean time per call within a run (ms). */
function time(fn: (i: number) => void): number {
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) fn(r * iterations + i);
    samples.push((performance.now() - t0) / iterations);
  }
  return median(samples);
}

const p = remoteParties('bench');
const esme = deviceGbcsKeys('bench', '00db1234567890a0');
const anchors = trustAnchorsOf([p.supplier, p.acb]);
const payload = ecs70SetClock({
  counter: 1000n,
  validityStart: fromHex('07de0c1fff173b0a008000ff'),
  validityEnd: fromHex('07df0101ff00000a008000ff'),
});

function ours(i: number): void {
  const counter = 1000n + BigInt(i);
  const bytes = buildCommand({
    useCase: 'ECS70',
    originator: p.supplier.systemTitle,
    recipient: esme.systemTitle,
    counter,
    payload,
    signer: p.supplier.ds.privateKey,
    acbKaPrivate: p.acb.ka.privateKey,
    deviceKaPublic: esme.ka.publicKey,
  });
  const r = verifyCommand(bytes, {
    deviceKaPrivate: esme.ka.privateKey,
    deviceSystemTitle: esme.systemTitle,
    trustAnchors: anchors,
    lastAcceptedCounter: () => counter - 1n,
  });
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
}

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const message = Buffer.from(payload);
function floor(): void {
  const s = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  if (!verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, s))
    throw new Error('node verify');
}

for (let i = 0; i < 10; i++) {
  ours(i);
  floor();
}
const mine = time(ours);
const node = time(floor);
console.log(
  `gbcs command sign+MAC+verify (ECS70): ${mine.toFixed(3)} ms; floor (node:crypto ECDSA P-256 sign+verify): ${node.toFixed(3)} ms; ratio ${(mine / node).toFixed(1)} (median of ${runs} runs x ${iterations})`,
);
