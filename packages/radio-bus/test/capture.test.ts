/**
 * Captures judged by Wireshark: both pcap link types and ZEP v2 must dissect with no
 * malformed frames, good FCS, and the channel and page each frame was sent on.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MILLISECOND, SECOND } from '@gbhan/clock';
import { malformedCount, tempFile, tsharkFields } from '@gbhan/testing/tshark';
import { describe, expect, it } from 'vitest';
import { attachOutputs, buildPcap, concat, DEFAULT_EPOCH_US, zepV2Datagram } from '../src/index.js';
import { macDataFrame } from './frames.js';
import { makeBus, txAt } from './harness.js';

// The payloads here are not ZigBee; keep Wireshark's ZigBee heuristics out of the judgement.
const NO_ZIGBEE = ['--disable-protocol', 'zbee_nwk', '--disable-protocol', 'zbee_nwk_gp'];

async function busRun(dir: string) {
  const { bus, add } = await makeBus();
  const out = attachOutputs(bus, {
    pcapTap: join(dir, 'tap.pcap'),
    pcapFcs: join(dir, 'fcs.pcap'),
    trace: join(dir, 'trace.jsonl'),
  });
  const a = await add(1, { channel: 15 });
  await add(2, { channel: 15, position: { x: 5, y: 0 } });
  const c = await add(3, { band: 'GB868', page: 28, channel: 4 });
  const d = await add(4, { band: 'GB868', page: 31, channel: 20 });
  txAt(a, MILLISECOND, macDataFrame(1, 0x1a62, 0xffff, 0x0001, Uint8Array.of(0xaa, 0xbb)));
  txAt(c, 2 * MILLISECOND, macDataFrame(2, 0x1a62, 0x0000, 0x0003, Uint8Array.of(0xcc)));
  txAt(d, 3 * MILLISECOND, macDataFrame(3, 0x1a62, 0x0000, 0x0004, Uint8Array.of(0xdd)));
  await bus.runUntil(SECOND);
  bus.close();
  out.close();
}

describe('captures in tshark', () => {
  it('TAP (283) shows channel and page per frame, FCS good, nothing malformed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-cap-'));
    await busRun(dir);
    const pcap = join(dir, 'tap.pcap');
    expect(malformedCount(pcap, NO_ZIGBEE)).toBe(0);
    const rows = tsharkFields(
      pcap,
      ['frame.time_epoch', 'wpan-tap.ch_num', 'wpan-tap.ch_page', 'wpan.fcs_ok', 'wpan.seq_no', '_ws.expert'],
      NO_ZIGBEE,
    );
    expect(rows.map((r) => r.slice(1, 5))).toEqual([
      ['15', '0', '1', '1'],
      ['4', '28', '1', '2'],
      ['20', '31', '1', '3'],
    ]);
    expect(rows.map((r) => r[5])).toEqual(['', '', '']);
    expect(Number(rows[0]![0])).toBeCloseTo(DEFAULT_EPOCH_US / 1e6 + 0.001, 6);
    const trace = readFileSync(join(dir, 'trace.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(trace.filter((e) => e.type === 'tx')).toHaveLength(3);
  });

  it('802.15.4 with FCS (195) dissects with good FCS and nothing malformed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-cap-'));
    await busRun(dir);
    const pcap = join(dir, 'fcs.pcap');
    expect(malformedCount(pcap, NO_ZIGBEE)).toBe(0);
    const rows = tsharkFields(pcap, ['wpan.fcs_ok', 'wpan.src16', 'wpan.dst_pan'], NO_ZIGBEE);
    expect(rows).toEqual([
      ['1', '0x0001', '0x1a62'],
      ['1', '0x0003', '0x1a62'],
      ['1', '0x0004', '0x1a62'],
    ]);
  });

  it('ZEP v2 datagrams dissect as ZEP carrying the 802.15.4 frame', () => {
    const psdu = macDataFrame(9, 0x1a62, 0xffff, 0x0042, Uint8Array.of(1, 2, 3));
    const zep = zepV2Datagram(
      { timeUs: 5 * SECOND, psdu, page: 0, channel: 21, lqi: 200 },
      7,
      0x42,
      DEFAULT_EPOCH_US,
    );
    // Wrap in IPv4 + UDP to 17754 (LINKTYPE_RAW) so tshark sees it as it would off the wire.
    const udp = new Uint8Array(8 + zep.length);
    const uv = new DataView(udp.buffer);
    uv.setUint16(0, 40000);
    uv.setUint16(2, 17754);
    uv.setUint16(4, udp.length);
    udp.set(zep, 8);
    const ip = new Uint8Array(20);
    const iv = new DataView(ip.buffer);
    ip[0] = 0x45;
    iv.setUint16(2, 20 + udp.length);
    ip[8] = 64;
    ip[9] = 17;
    ip.set([127, 0, 0, 1], 12);
    ip.set([127, 0, 0, 1], 16);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += iv.getUint16(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    iv.setUint16(10, ~sum & 0xffff);
    const pcap = buildPcap(101 as never, [{ timeUs: 0, psdu: concat([ip, udp]), page: 0, channel: 0 }]);
    const path = tempFile('zep.pcap', pcap);
    expect(malformedCount(path, NO_ZIGBEE)).toBe(0);
    const rows = tsharkFields(
      path,
      ['zep.version', 'zep.channel_id', 'zep.device_id', 'zep.lqi', 'zep.seqno', 'wpan.src16'],
      NO_ZIGBEE,
    );
    expect(rows).toEqual([['2', '21', '66', '200', '7', '0x0042']]);
  });

  it('sends live ZEP over UDP in real-time mode', async () => {
    const sock = createSocket('udp4');
    const got: Buffer[] = [];
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    sock.on('message', (m) => got.push(m));
    const { bus, add } = await makeBus({ realTime: { speed: 10 } });
    const out = attachOutputs(bus, { zep: { host: '127.0.0.1', port: sock.address().port } });
    const a = await add(1, { channel: 25 });
    txAt(a, 50 * MILLISECOND, macDataFrame(1, 1, 0xffff, 1, Uint8Array.of(1)));
    const started = performance.now();
    await bus.runUntil(SECOND);
    const elapsed = performance.now() - started;
    bus.close();
    out.close();
    await new Promise((r) => setTimeout(r, 50));
    sock.close();
    expect(got).toHaveLength(1);
    expect(got[0]!.subarray(0, 4)).toEqual(Buffer.from([0x45, 0x58, 2, 1]));
    expect(got[0]![4]).toBe(25);
    // One virtual second at x10 is paced to (at least) 100 ms of wall time.
    expect(elapsed).toBeGreaterThanOrEqual(90);
  });
});
