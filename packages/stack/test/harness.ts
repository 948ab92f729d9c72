/**
 * Test harness: ZigbeeNodes on a real in-process bus (`realBus` of @gbhan/testing: trace and
 * frames collected), the CHF Device Log and exported keys, a network joined, NWK counters.
 */
import type { BusTraceEvent, CapturedFrame, RadioBus } from '@gbhan/radio-bus';
import { realBus } from '@gbhan/testing/real-bus';
import {
  appendInstallCodeCrc,
  decodeMacFrame,
  decodeNwkFrame,
  installCodeLinkKey,
  isInterPanFrame,
  toHex,
} from '@gbhan/zigbee';
import { KeyExportRegistry } from '../src/key-export.js';
import { type NodeRole, ZigbeeNode, type ZigbeeNodeConfig } from '../src/node.js';
import { MemoryNvStore, type NvStore } from '../src/nvm.js';

export const CH = '00124b0000c0ffee';
export const ESME = '00124b0000e5e5e5';
export const GSME = '00124b0000065e5e';
export const PPMID = '00124b0000bbbbbb';
export const ROGUE = '00124b0000dead00';

/** A deterministic install code (with CRC) per device. */
export function installCodeFor(eui64: string): string {
  const code = new Uint8Array(16);
  for (let i = 0; i < 16; i++)
    code[i] = (parseInt(eui64.slice((i % 8) * 2, (i % 8) * 2 + 2), 16) + i * 17) & 0xff;
  return toHex(appendInstallCodeCrc(code));
}

export interface Net {
  bus: RadioBus;
  trace: BusTraceEvent[];
  frames: CapturedFrame[];
  keys: KeyExportRegistry;
  /** The CHF Device Log: EUI64 -> install code. */
  deviceLog: Map<string, string>;
  add(
    eui64: string,
    role: NodeRole,
    extra?: Partial<ZigbeeNodeConfig> & { nvm?: NvStore; x?: number },
  ): Promise<ZigbeeNode>;
  deviceEvents(eui64?: string, type?: string): (Record<string, unknown> & { t: number; radio: string })[];
  run(untilUs: number): Promise<void>;
}

export async function makeNet(seed = 1): Promise<Net> {
  const { bus, trace, frames, radio } = realBus(seed);
  const keys = new KeyExportRegistry();
  const deviceLog = new Map<string, string>();
  const net: Net = {
    bus,
    trace,
    frames,
    keys,
    deviceLog,
    async add(eui64, role, extra = {}) {
      const { nvm, x = 0, ...cfg } = extra;
      const config: ZigbeeNodeConfig = {
        role,
        seed,
        channels: [
          { page: 0, channel: 11 },
          { page: 0, channel: 15 },
        ],
        onKeyExport: keys.record,
        ...(role === 'coordinator'
          ? {
              panId: 0x1a62,
              admission: (e: string) => {
                const code = deviceLog.get(e);
                return code ? { linkKey: installCodeLinkKey(code) } : null;
              },
            }
          : { installCode: installCodeFor(eui64), extendedPanId: CH }),
        ...cfg,
      };
      return new ZigbeeNode(await radio(eui64, x, 15), nvm ?? new MemoryNvStore(), config);
    },
    deviceEvents(eui64, type) {
      return trace
        .filter((e): e is Extract<BusTraceEvent, { type: 'device' }> => e.type === 'device')
        .filter(
          (e) => (eui64 === undefined || e.radio === eui64) && (type === undefined || e.event.type === type),
        )
        .map((e) => ({ ...e.event, t: e.t, radio: e.radio }));
    },
    run: (until) => bus.runUntil(until),
  };
  return net;
}

/**
 * Let in-process messages posted outside a bus handler reach the bus (the in-process transport
 * delivers in a microtask; the idle report follows with setImmediate) before time runs on.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Start a call that completes in virtual time, run the bus until it settles (or a limit), return its result. */
export async function during<T>(net: Net, p: Promise<T>, budgetUs: number): Promise<T> {
  let done = false;
  let value!: T;
  void p.then((v) => {
    done = true;
    value = v;
  });
  await settle();
  const step = 100_000;
  const end = net.bus.time + budgetUs;
  while (!done && net.bus.time < end) await net.run(Math.min(end, net.bus.time + step));
  if (!done) throw new Error(`not settled within ${budgetUs} us`);
  return value;
}

/** Every NWK-secured frame on air as (sender EUI64 from the aux header, frame counter), MAC retransmissions folded. */
export function nwkCounters(frames: CapturedFrame[]): { sender: string; counter: number; t: number }[] {
  const seen = new Set<string>();
  const out: { sender: string; counter: number; t: number }[] = [];
  for (const f of frames) {
    const hex = toHex(f.psdu.subarray(3)); // skip FCF + MAC sequence: a retransmission is the same frame
    let mac: ReturnType<typeof decodeMacFrame>;
    try {
      mac = decodeMacFrame(f.psdu);
    } catch {
      continue;
    }
    if (mac.frameType !== 'data' || isInterPanFrame(mac.payload)) continue;
    const nwk = decodeNwkFrame(mac.payload);
    if (!nwk.security || !nwk.aux.sourceAddress) continue;
    if (seen.has(hex)) continue;
    seen.add(hex);
    out.push({ sender: nwk.aux.sourceAddress, counter: nwk.aux.frameCounter, t: f.timeUs });
  }
  return out;
}

/** Senders whose NWK frame counters are not strictly increasing over the capture. */
export function counterViolations(frames: CapturedFrame[]): string[] {
  const last = new Map<string, number>();
  const bad: string[] = [];
  for (const c of nwkCounters(frames)) {
    const l = last.get(c.sender);
    if (l !== undefined && c.counter <= l) bad.push(`${c.sender}: ${c.counter} after ${l} at ${c.t}`);
    last.set(c.sender, c.counter);
  }
  return bad;
}

/** A network with CH, ESME (router) and GSME (sleepy) joined. */
export async function joinedNet(seed = 1, opts: { esmeNvm?: NvStore; gsmeNvm?: NvStore } = {}) {
  const net = await makeNet(seed);
  const ch = await net.add(CH, 'coordinator');
  const esme = await net.add(ESME, 'router', { x: 3, ...(opts.esmeNvm ? { nvm: opts.esmeNvm } : {}) });
  const gsme = await net.add(GSME, 'sleepy-end-device', {
    x: 5,
    pollPeriodUs: 1_000_000,
    ...(opts.gsmeNvm ? { nvm: opts.gsmeNvm } : {}),
  });
  for (const e of [ESME, GSME]) net.deviceLog.set(e, installCodeFor(e));
  await during(net, ch.powerOn(), 1_000);
  ch.permitJoin(255);
  await during(net, esme.powerOn(), 1_000);
  await during(net, gsme.powerOn(), 1_000);
  if ((await during(net, esme.join(), 10_000_000)) !== 'joined') throw new Error('ESME did not join');
  if ((await during(net, gsme.join(), 10_000_000)) !== 'joined') throw new Error('GSME did not join');
  return { net, ch, esme, gsme };
}

export const PRICE_GET_CURRENT = Uint8Array.of(0x01, 0x01, 0x00, 0x00);
