/**
 * ZigBee frame benchmark: encode + secure + decode of a typical GB frame, a
 * Metering Report Attributes (12-byte ZCL) in APS data secured with the trust-centre link key,
 * in a NWK data frame secured with the network key, in a MAC data frame with FCS. One
 * iteration = build and secure both layers, then decode the MAC frame, unsecure NWK and APS
 * and check the payload. Baseline in the same run: the bare node:crypto work the same frame
 * needs (two aes-128-ccm encryptions and two decryptions of the same sizes, fresh cipher
 * objects as the codec uses), so the ratio is the cost of everything that is not AES.
 *
 *   node --import tsx bench/zigbee.ts [milliseconds per measurement]
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { type ApsDataFrame, secureApsFrame, unsecureApsFrame } from '../packages/zigbee/src/aps.js';
import { type Eui64, fromHex } from '../packages/zigbee/src/bytes.js';
import { decodeMacFrame, encodeMacFrame } from '../packages/zigbee/src/mac.js';
import { type NwkDataFrame, secureNwkFrame, unsecureNwkFrame } from '../packages/zigbee/src/nwk.js';

const budgetMs = Number(process.argv[2] ?? 3000);

const NWK_KEY = fromHex('01030507090b0d0f00020406080a0c0d');
const LINK_KEY = fromHex('66b6900981e1ee3ca4206b6b861c02bb');
const DEV: Eui64 = '00124b000a0b0c0d';
const REPORT = Uint8Array.of(0x18, 0x01, 0x0a, 0x00, 0x00, 0x25, 0x40, 0xe2, 0x01, 0x00, 0x00, 0x00);

let counter = 0;

function oneFrame(): number {
  counter = (counter + 1) >>> 0;
  const aps: ApsDataFrame = {
    frameType: 'data',
    security: false,
    deliveryMode: 'unicast',
    ackRequest: true,
    destinationEndpoint: 1,
    clusterId: 0x0702,
    profileId: 0x0109,
    sourceEndpoint: 1,
    counter: counter & 0xff,
    payload: REPORT,
  };
  const apsBytes = secureApsFrame(aps, {
    key: LINK_KEY,
    keyId: 'data',
    frameCounter: counter,
    sourceEui64: DEV,
  });
  const nwk: NwkDataFrame = {
    frameType: 'data',
    security: false,
    protocolVersion: 2,
    discoverRoute: 1,
    endDeviceInitiator: false,
    destination: 0x0000,
    source: 0x1234,
    radius: 30,
    sequenceNumber: counter & 0xff,
    sourceIeee: DEV,
    payload: apsBytes,
  };
  const nwkBytes = secureNwkFrame(nwk, {
    key: NWK_KEY,
    frameCounter: counter,
    sourceEui64: DEV,
    keySequenceNumber: 0,
  });
  const psdu = encodeMacFrame({
    frameType: 'data',
    sequenceNumber: counter & 0xff,
    framePending: false,
    ackRequest: true,
    panIdCompression: true,
    frameVersion: 0,
    destinationPan: 0x1a62,
    destination: 0x0000,
    source: 0x1234,
    payload: nwkBytes,
  });
  const mac = decodeMacFrame(psdu);
  if (mac.frameType !== 'data') throw new Error('not data');
  const n = unsecureNwkFrame(mac.payload, { key: NWK_KEY }).frame;
  if (n.frameType !== 'data') throw new Error('not nwk data');
  const a = unsecureApsFrame(n.payload, { key: LINK_KEY }).frame;
  if (a.frameType !== 'data' || a.payload.length !== REPORT.length) throw new Error('bad round trip');
  return psdu.length;
}

// Same AES work, nothing else: APS (a = 23 B, m = 12 B) and NWK (a = 30 B, m = 44 B), M = 4.
const nonce = new Uint8Array(13);
const apsA = new Uint8Array(23);
const nwkA = new Uint8Array(30);
const nwkM = new Uint8Array(44);

function ccmRoundTrip(key: Uint8Array, a: Uint8Array, m: Uint8Array): void {
  const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: 4 });
  c.setAAD(a, { plaintextLength: m.length });
  const ct = c.update(m);
  c.final();
  const tag = c.getAuthTag();
  const d = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: 4 });
  d.setAuthTag(tag);
  d.setAAD(a, { plaintextLength: ct.length });
  d.update(ct);
  d.final();
}

function baseline(): void {
  ccmRoundTrip(LINK_KEY, apsA, REPORT);
  ccmRoundTrip(NWK_KEY, nwkA, nwkM);
}

function rate(fn: () => unknown, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// Warm up, then interleave short measurements so load from other processes hits both alike.
const psduLength = oneFrame();
rate(oneFrame, 300);
rate(baseline, 300);
const oursSamples: number[] = [];
const baseSamples: number[] = [];
for (let round = 0; round < 7; round++) {
  oursSamples.push(rate(oneFrame, budgetMs / 7));
  baseSamples.push(rate(baseline, budgetMs / 7));
}
const ours = median(oursSamples);
const base = median(baseSamples);
console.log(`PSDU ${psduLength} bytes (MAC + NWK-secured + APS-secured Metering report)`);
console.log(`encode+secure+decode: ${Math.round(ours).toLocaleString('en')} frames/s (median of 7)`);
console.log(
  `baseline (node:crypto aes-128-ccm x2 enc+dec, same sizes): ${Math.round(base).toLocaleString('en')} frames/s`,
);
console.log(`ratio baseline/ours: ${(base / ours).toFixed(2)} (1.00 = no cost beyond AES)`);
