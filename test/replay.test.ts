/**
 * Real frames in, judged by tshark: a capture gbhan wrote (TAP 283 across both bands, 195, and
 * ZEP v2/v1 in Ethernet/IPv4/UDP made from it) replayed with `gbhan replay` puts the same
 * frames on the air at the same instants: the replay's own capture equals the original byte for
 * byte and tshark reads the same fields from both. Paced replay spaces the frames as asked. A
 * malformed capture is a one-line typed error (exit 2). The ZEP listener injects live datagrams
 * into a real-time bus.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BusRadio,
  type BusTraceEvent,
  type CapturedFrame,
  DEFAULT_EPOCH_US,
  listenZep,
  RadioBus,
  readPcap,
  startBusServer,
  WebSocketTransport,
  zepV2Datagram,
} from '@gbhan/radio-bus';
import { parseScenario, runScenario } from '@gbhan/scenario';
import { gbhan } from '@gbhan/testing';
import { tsharkFields } from '@gbhan/testing/tshark';
import { describe, expect, it } from 'vitest';
import { ethernetZepPcap } from '../packages/radio-bus/test/zep-pcap.js';
import { type ReplayCommandOptions, runReplayCommand } from '../packages/scenario/src/replay-command.js';

const radio = (id: string, eui: string, where: string, config: string) =>
  `  - { id: ${id}, type: radio, eui64: ${eui}, ${where}, config: { ${config} } }`;

/** Plain radios acking each other: on 2.4 GHz channels 15 and 20, and (both bands) GB868. */
function scenario(name: string, gb868: boolean): string {
  return [
    `name: ${name}`,
    'seed: 5',
    'duration: 2m',
    'outputs: { pcapFcs: true }',
    'devices:',
    radio('a', '00124b0000000a01', 'channel: 15, position: { x: 0, y: 0 }', 'short: 0x0001'),
    radio(
      'b',
      '00124b0000000a02',
      'channel: 15, position: { x: 4, y: 0 }',
      'short: 0x0002, period: 7s, destination: 0x0001',
    ),
    radio(
      'c',
      '00124b0000000a03',
      'channel: 15, position: { x: 2, y: 3 }',
      'short: 0x0003, period: 11s, frame: beacon',
    ),
    ...(gb868
      ? [
          radio(
            'd',
            '00124b0000000a04',
            'channel: 20, position: { x: 1, y: 1 }',
            'short: 0x0004, period: 5s, frame: beacon-request',
          ),
          radio(
            'e',
            '00124b0000000a05',
            'band: GB868, page: 28, channel: 2, position: { x: 0, y: 1 }',
            'short: 0x0005',
          ),
          radio(
            'f',
            '00124b0000000a06',
            'band: GB868, page: 28, channel: 2, position: { x: 9, y: 1 }',
            'short: 0x0006, period: 13s, destination: 0x0005',
          ),
        ]
      : []),
    '',
  ].join('\n');
}

async function written(name: string, gb868: boolean, dir: string) {
  const r = await runScenario(parseScenario(scenario(name, gb868), `${name}.yaml`), { outRoot: dir });
  return { tap: r.outputs.pcap!, fcs: r.outputs.pcapFcs! };
}

const FIELDS = ['frame.time_epoch', 'wpan.frame_type', 'wpan.seq_no', 'wpan.dst16', 'wpan.src16', 'wpan.fcs'];
/** tshark's view of the 802.15.4 frames of a capture (TAP, 195 or ZEP alike). */
const wpan = (file: string, extra: string[] = []) => tsharkFields(file, [...FIELDS, ...extra]);

async function replay(file: string, out: string, o: Partial<ReplayCommandOptions> = {}) {
  const lines: string[] = [];
  const stats = await runReplayCommand(
    file,
    { eui64: '00124b00fffe0000', position: '1,1', at: 'original', seed: '1', pcap: out, ...o },
    (l) => lines.push(l),
  );
  return { stats, line: lines.join('\n') };
}

describe('gbhan replay', () => {
  it('replays a TAP capture of both bands: the same frames, channels, pages and instants', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-replay-'));
    const { tap } = await written('replay-both', true, dir);
    const out = join(dir, 'replayed.pcap');
    const { stats, line } = await replay(tap, out);
    expect(stats.frames).toBeGreaterThan(50);
    expect(stats).toMatchObject({ sent: stats.frames, refused: 0, skipped: 0, delayed: 0 });
    expect(new Set(stats.radios.map((r) => `${r.page}/${r.channel}`))).toEqual(
      new Set(['0/15', '0/20', '28/2']),
    );
    expect(line).toMatch(/^replayed .*: \d+ frames, \d+ sent, 0 refused, 0 skipped, 0 delayed; radios: /);
    expect(readFileSync(out).equals(readFileSync(tap))).toBe(true);
    const ch = ['frame.len', 'wpan-tap.ch_num', 'wpan-tap.ch_page'];
    expect(wpan(out, ch)).toEqual(wpan(tap, ch));
    expect(wpan(tap, ch).map((r) => r.at(-1))).toContain('28');
  }, 60_000);

  it('replays link type 195 on a given channel, and ZEP v2 and v1 in UDP pcaps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-replay-'));
    const { tap, fcs } = await written('replay-one', false, dir);
    const from195 = join(dir, 'from-195.pcap');
    await replay(fcs, from195, { channel: '15' });
    expect(readFileSync(from195).equals(readFileSync(tap))).toBe(true);
    expect(wpan(from195)).toEqual(wpan(fcs));
    // ZEP, as a sniffer bridge's traffic looks in a capture: made of the frames gbhan wrote.
    const frames: CapturedFrame[] = readPcap(readFileSync(tap)).frames.map((f) => ({
      timeUs: f.timeUs - DEFAULT_EPOCH_US,
      psdu: f.psdu,
      page: f.page!,
      channel: f.channel!,
    }));
    for (const version of [2, 1] as const) {
      const zep = join(dir, `zep-v${version}.pcap`);
      writeFileSync(zep, ethernetZepPcap(frames, DEFAULT_EPOCH_US, version));
      const out = join(dir, `from-zep-v${version}.pcap`);
      await replay(zep, out);
      expect(readFileSync(out).equals(readFileSync(tap))).toBe(true);
      // tshark dissects the ZEP input and the replayed TAP capture into the same frames (its ZEP
      // dissector, in LQI mode, hands on the PSDU as one without FCS: that field is left out).
      const noFcs = (file: string) => wpan(file).map((r) => r.slice(0, -1));
      expect(noFcs(zep)).toEqual(noFcs(tap));
      expect(noFcs(zep)).toHaveLength(frames.length);
    }
  }, 60_000);

  it('paces frames when asked, and refuses malformed captures with one typed line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-replay-'));
    const { fcs } = await written('replay-paced', false, dir);
    const out = join(dir, 'paced.pcap');
    const { stats } = await replay(fcs, out, { at: '2s', paced: '250ms', channel: '20' });
    const times = readPcap(readFileSync(out)).frames.map((f) => f.timeUs - DEFAULT_EPOCH_US);
    expect(times).toEqual(times.map((_, i) => 2_000_000 + i * 250_000));
    expect(stats.radios).toEqual([expect.objectContaining({ channel: 20, frames: times.length })]);
    const bad = Buffer.from(readFileSync(fcs));
    bad.writeUInt32LE(105, 20);
    writeFileSync(join(dir, 'wifi.pcap'), bad);
    const r = await gbhan(['replay', join(dir, 'wifi.pcap')]);
    expect(r.code).toBe(2);
    expect(r.out.trim()).toBe(
      'gbhan: CAPTURE_LINK_TYPE at byte 20: link type 105 is not read (195, 283, 1, 101, 228)',
    );
    writeFileSync(join(dir, 'short.pcap'), readFileSync(fcs).subarray(0, 30));
    const s = await gbhan(['replay', join(dir, 'short.pcap')]);
    expect(s.code).toBe(2);
    expect(s.out.trim()).toMatch(
      /^gbhan: CAPTURE_TRUNCATED at byte 24: a record header needs 16 bytes, 6 left$/,
    );
  }, 60_000);
});

describe('ZEP listener', () => {
  it('injects live ZEP datagrams into a real-time bus, on their channels; bad ones are counted', async () => {
    const bus = new RadioBus({ seed: 1, realTime: { speed: 1 } });
    const server = await startBusServer(bus, { port: 0 });
    const events: BusTraceEvent[] = [];
    bus.onTrace((e) => events.push(e));
    const running = bus.runUntil(600_000_000);
    const injector = await BusRadio.connect(new WebSocketTransport(server.url), {
      eui64: '00124b00fffd0000',
      band: '2.4GHz',
      page: 0,
      channel: 11,
      position: { x: 0, y: 0 },
    });
    const listener = await listenZep(injector, { port: 0 });
    const socket = createSocket('udp4');
    try {
      const psdus = [
        Uint8Array.of(0x41, 0x88, 1, 0x62, 0x1a, 0xff, 0xff, 0x01, 0x00, 0xaa, 0x00, 0x00),
        Uint8Array.of(0x41, 0x88, 2, 0x62, 0x1a, 0xff, 0xff, 0x01, 0x00, 0xbb, 0x00, 0x00),
      ];
      const send = (d: Uint8Array) =>
        new Promise<void>((resolve) => socket.send(d, listener.port, '127.0.0.1', () => resolve()));
      await send(zepV2Datagram({ timeUs: 0, psdu: psdus[0]!, page: 0, channel: 11 }, 1, 1, 0));
      await send(Uint8Array.of(1, 2, 3)); // not ZEP
      await send(zepV2Datagram({ timeUs: 0, psdu: psdus[1]!, page: 0, channel: 20 }, 2, 1, 0));
      await send(zepV2Datagram({ timeUs: 0, psdu: psdus[1]!, page: 0, channel: 99 }, 3, 1, 0));
      for (let i = 0; i < 100 && listener.stats.sent + listener.stats.bad < 4; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(listener.stats).toMatchObject({ sent: 2, refused: 0, bad: 2 });
      const tx = events.filter((e) => e.type === 'tx' && e.radio === '00124b00fffd0000');
      expect(tx.map((e) => (e as { psdu: string }).psdu)).toEqual(
        psdus.map((p) => Buffer.from(p).toString('hex')),
      );
      expect(tx.map((e) => (e as { channel: number }).channel)).toEqual([11, 20]);
      // Real time: each frame went out at the bus's instant of its arrival, in order.
      expect(tx[1]!.t).toBeGreaterThan(tx[0]!.t);
    } finally {
      socket.close();
      await listener.close();
      injector.close();
      bus.close();
      await server.close();
      await running;
    }
  }, 30_000);
});
