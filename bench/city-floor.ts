/**
 * The floor of a home-hour: what any emulator that writes the same capture, keys and compact
 * trace for the city's home (bench/city.ts: CH + ESME + GSME + PPMID, commissioned, one
 * simulated hour) must at least compute, each part timed at library speed, against what gbhan
 * spends on the same home in the same run. It answers how far the city's goal (1,000 homes,
 * one simulated hour, <= 60 s wall) is from this machine's hardware, not from our code:
 *
 * - CCM*: one seal and one open (4-byte MIC) for every secured layer of the run's capture at
 *   its own header and payload sizes: NWK per hop (a relay opens and seals it again), APS
 *   once end to end (the same bytes on both hops); the faster of node:crypto's aes-128-ccm
 *   (a cipher object per operation) and gbhan's own CCM* (aes.ts, key schedule cached);
 * - CBKE: 6 sect283k1 scalar multiplications per Key Establishment exchange in the trace
 *   (the same floor as bench/cbke.ts), at the faster of node:crypto and gbhan's own τNAF;
 * - the capture: each frame's FCS (CRC-16) and its pcap record;
 * - the trace: JSON.stringify of each event of the compact trace.
 *
 * And, apart from the floor, the bus: the same home-hour's traffic replayed from the trace on
 * a bus of its own (each frame sent by its radio at its instant, a clear-channel assessment
 * before each frame that is not an ACK, the receivers switched off and on and the address
 * filters set as in the run), by radios with no device stack behind them: what the radio
 * medium, the conservative lock-step and its messages cost per frame, the part of a run that
 * does not depend on how fast the devices are.
 *
 * Everything else a frame needs (the medium, the MAC and its ACK, NWK/APS/ZCL codecs, the
 * devices' logic, timers) is left out, as is the cost of running one simulated world on two
 * cores. Printed: the floor per home-hour by part (medians of 7), gbhan's CPU for the same
 * home-hour (median of 5, after a warm-up), and what 1,000 homes would take at the floor on
 * this machine's cores with perfect parallelism, i.e. the time left per frame for the rest.
 *
 *   node --import tsx bench/city-floor.ts
 */
import { createCipheriv, createDecipheriv, createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sect283k1 } from '@gbhan/cbke';
import { readPcap } from '@gbhan/radio-bus';
import { parseScenario, runScenario } from '@gbhan/scenario';
import {
  ccmStarDecrypt,
  ccmStarEncrypt,
  crc16Kermit,
  decodeApsFrame,
  decodeMacFrame,
  decodeNwkFrame,
  unsecureNwkFrame,
} from '@gbhan/zigbee';
import { cityScenario } from './city.js';
import { busReplay, type TraceLine } from './support/bus-replay.js';
import { median, timeMs } from './support/timing.js';

const HOMES_GOAL = 1000;
const GOAL_S = 60;
const MIC = 4;

const out = mkdtempSync(join(tmpdir(), 'gbhan-floor-'));
await runScenario(parseScenario(cityScenario(1, '1m'), 'warm-up.yaml'), { outRoot: out });
const cpuRuns: number[] = [];
let dir = '';
for (let i = 0; i < 5; i++) {
  const cpu0 = process.cpuUsage();
  const r = await runScenario(parseScenario(cityScenario(1, '1h'), 'home.yaml'), {
    outRoot: join(out, String(i)),
  });
  const cpu = process.cpuUsage(cpu0);
  cpuRuns.push((cpu.user + cpu.system) / 1000);
  dir = r.outDir;
}

// The run's own bytes: every frame, and the sizes of each secured layer in it.
const capture = readPcap(new Uint8Array(readFileSync(join(dir, 'capture.pcap'))));
const keyLines = readFileSync(join(dir, 'keys'), 'utf8').split('\n');
const networkKeyLine = keyLines.find((l) => l.includes('kind=network'));
if (networkKeyLine === undefined) throw new Error('the run exported no network key');
const networkKey = Buffer.from(networkKeyLine.slice(1, 33), 'hex');
const layers: { aad: Buffer; body: Buffer }[] = [];
const apsSeen = new Set<string>();
for (const f of capture.frames) {
  const mac = decodeMacFrame(f.psdu, { fcs: true });
  if (mac.frameType !== 'data' || mac.payload.length === 0) continue;
  const nwk = decodeNwkFrame(mac.payload);
  if (!nwk.security) continue;
  layers.push({
    aad: Buffer.alloc(mac.payload.length - nwk.encrypted.length),
    body: Buffer.alloc(nwk.encrypted.length - MIC),
  });
  const plain = unsecureNwkFrame(mac.payload, { key: networkKey }).frame;
  if (plain.frameType !== 'data') continue;
  const aps = decodeApsFrame(plain.payload);
  if (!aps.security) continue;
  const apsBytes = Buffer.from(plain.payload).toString('hex');
  if (apsSeen.has(apsBytes)) continue; // relayed: sealed once by its source, opened once by its destination
  apsSeen.add(apsBytes);
  layers.push({
    aad: Buffer.alloc(plain.payload.length - aps.encrypted.length),
    body: Buffer.alloc(aps.encrypted.length - MIC),
  });
}
const trace = readFileSync(join(dir, 'trace.jsonl'), 'utf8').trim().split('\n');
const events = trace.map((l) => JSON.parse(l) as { type: string; event?: { type?: string } });
const exchanges =
  events.filter((e) => e.type === 'device' && e.event?.type === 'cbke-established').length / 2;
rmSync(out, { recursive: true, force: true });

const key = randomBytes(16);
const nonce = randomBytes(13);
const nodeCcm = timeMs(
  () => {
    for (const { aad, body } of layers) {
      const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: MIC });
      c.setAAD(aad, { plaintextLength: body.length });
      const sealed = c.update(body);
      c.final();
      const d = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: MIC });
      d.setAuthTag(c.getAuthTag());
      d.setAAD(aad, { plaintextLength: sealed.length });
      d.update(sealed);
      d.final();
    }
  },
  7,
  1,
);
const ownCcm = timeMs(
  () => {
    for (const { aad, body } of layers) {
      const sealed = ccmStarEncrypt(key, nonce, aad, body, 5);
      ccmStarDecrypt(key, nonce, aad, sealed, 5);
    }
  },
  7,
  1,
);
const ccm = Math.min(nodeCcm, ownCcm);
const peer = createECDH('sect283k1');
peer.generateKeys();
const peerPublic = peer.getPublicKey();
const local = createECDH('sect283k1');
local.generateKeys();
const nodeCbke = timeMs(
  () => {
    for (let i = 0; i < 6 * exchanges; i++) local.computeSecret(peerPublic);
  },
  7,
  1,
);
// gbhan's own k*P (τNAF on the subgroup, packages/cbke) on the same number of products.
const P = sect283k1.decodePublicKey(new Uint8Array(peer.getPublicKey(null, 'compressed')));
const k = (sect283k1.n * 0x9e3779b97f4a7c15n) >> 64n;
const ownCbke = timeMs(
  () => {
    for (let i = 0; i < 6 * exchanges; i++) sect283k1.multiply(P, k + BigInt(i));
  },
  7,
  1,
);
const cbke = Math.min(nodeCbke, ownCbke);
const pcap = timeMs(
  () => {
    for (const f of capture.frames) {
      const rec = Buffer.allocUnsafe(16 + f.psdu.length);
      rec.writeUInt32LE(Math.floor(f.timeUs / 1e6), 0);
      rec.writeUInt32LE(f.timeUs % 1e6, 4);
      rec.writeUInt32LE(f.psdu.length, 8);
      rec.writeUInt32LE(f.psdu.length, 12);
      rec.set(f.psdu, 16);
      crc16Kermit(f.psdu, 0, f.psdu.length - 2);
    }
  },
  7,
  1,
);
const json = timeMs(
  () => {
    let n = 0;
    for (const e of events) n += JSON.stringify(e).length;
    if (n === 0) throw new Error('empty trace');
  },
  7,
  1,
);

const replays: number[] = [];
let replayed = 0;
for (let i = 0; i < 5; i++) {
  const r = await busReplay(events as TraceLine[], 3_600_000_000);
  replays.push(r.ms);
  replayed = r.rx;
}
const busMs = median(replays.slice(1)); // the first warms the JIT
const runRx = events.filter((e) => e.type === 'rx').length;

const floorMs = ccm + cbke + pcap + json;
const gbhanMs = median(cpuRuns);
const cores = availableParallelism();
const floorWallS = (floorMs * HOMES_GOAL) / 1000 / cores;
const frames = capture.frames.length;
const leftUs = ((GOAL_S * cores * 1000) / HOMES_GOAL - floorMs) * (1000 / frames);
console.log(
  `one home-hour: ${frames} frames, ${layers.length} secured layers, ${exchanges} CBKE exchanges, ${events.length} trace events`,
);
console.log(
  `floor per home-hour (medians of 7): CCM* ${ccm.toFixed(1)} ms (node:crypto ${nodeCcm.toFixed(1)}, gbhan's own ${ownCcm.toFixed(1)}), CBKE ${cbke.toFixed(1)} ms (node:crypto ${nodeCbke.toFixed(1)}, gbhan's own ${ownCbke.toFixed(1)}), capture ${pcap.toFixed(1)} ms, trace JSON ${json.toFixed(1)} ms: ${floorMs.toFixed(1)} ms`,
);
console.log(
  `gbhan, same home-hour: CPU ${gbhanMs.toFixed(0)} ms (median of 5); ratio to the floor ${(gbhanMs / floorMs).toFixed(1)}`,
);
console.log(
  `the bus alone, the same traffic replayed without device stacks: CPU ${busMs.toFixed(0)} ms per home-hour` +
    ` (median of 4 after a warm-up), ${((busMs * 1000) / frames).toFixed(1)} us per frame; ${replayed} deliveries (the run: ${runRx})`,
);
console.log(
  `${HOMES_GOAL} homes at the floor plus the bus alone on ${cores} cores, perfectly parallel: ` +
    `${(((floorMs + busMs) * HOMES_GOAL) / 1000 / cores).toFixed(1)} s`,
);
console.log(
  `${HOMES_GOAL} homes at the floor on ${cores} cores, perfectly parallel: ${floorWallS.toFixed(1)} s of the ${GOAL_S} s goal;` +
    ` left for everything else: ${leftUs.toFixed(1)} us per frame (gbhan today: ${((gbhanMs - floorMs) * (1000 / frames)).toFixed(0)} us)`,
);
