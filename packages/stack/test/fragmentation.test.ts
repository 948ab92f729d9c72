/**
 * APS fragmentation (05-3474 §2.2.8.4.5) on the real stack and the in-process bus: long ASDUs
 * cross as acknowledged blocks to a router and to a sleepy end device (through its parent's
 * indirect queue), with NWK and with APS security; every PSDU stays within 127 octets;
 * tshark dissects and reassembles the blocks; missing and bad blocks are traced drops.
 */
import { buildPcap, LINKTYPE_IEEE802_15_4_WITHFCS } from '@gbhan/radio-bus';
import { malformedCount, tempFile, tsharkFields } from '@gbhan/testing/tshark';
import { encodeApsFrame, encodeNwkFrame, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import {
  ApsReassembler,
  apsBlockSize,
  needsFragmentation,
  resolveFragmentationConfig,
  splitIntoBlocks,
} from '../src/aps-fragmentation.js';
import type { IncomingZcl } from '../src/host.js';
import { CH, during, ESME, GSME, joinedNet } from './harness.js';

function payload(n: number, seed: number): Uint8Array {
  // A ZCL-looking frame: cluster-specific, client to server, TSN, command 0, then data.
  const p = new Uint8Array(n).map((_, i) => (i * 7 + seed) & 0xff);
  p[0] = 0x01;
  p[1] = seed & 0xff;
  p[2] = 0x00;
  return p;
}

describe('APS fragmentation on the real stack', () => {
  it('carries long ASDUs both ways (router and sleepy child, NWK and APS security); tshark reassembles', async () => {
    const { net, ch, esme, gsme } = await joinedNet(21);
    const got = new Map<string, IncomingZcl[]>();
    for (const n of [ch, esme, gsme])
      n.onZcl((m) => {
        got.set(n.eui64, [...(got.get(n.eui64) ?? []), m]);
      });
    const a = payload(200, 1); // 4 blocks to a router with NWK security
    const b = payload(142, 2); // 4 blocks of 47 octets to a sleepy child, APS-secured
    const c = payload(90, 3); // 2 blocks from the sleepy child
    const d = payload(81, 4); // a suite-2 Initiate Key Establishment's size: 2 blocks
    expect(
      await during(net, esme.sendZcl({ eui64: CH }, { clusterId: 0x0800, zcl: a, security: 'nwk' }), 10e6),
    ).toEqual({ status: 'sent' });
    expect(
      await during(
        net,
        ch.sendZcl({ eui64: GSME }, { clusterId: 0x0702, zcl: b, security: 'aps-link' }),
        20e6,
      ),
    ).toEqual({ status: 'sent' });
    expect(
      await during(net, gsme.sendZcl({ eui64: CH }, { clusterId: 0x0702, zcl: c, security: 'nwk' }), 20e6),
    ).toEqual({ status: 'sent' });
    expect(
      await during(net, ch.sendZcl({ eui64: ESME }, { clusterId: 0x0800, zcl: d, security: 'nwk' }), 10e6),
    ).toEqual({ status: 'sent' });
    await net.run(net.bus.time + 1_000_000);

    expect(got.get(CH)?.map((m) => [toHex(m.zcl), m.security, m.from.eui64])).toEqual([
      [toHex(a), 'nwk', ESME],
      [toHex(c), 'nwk', GSME],
    ]);
    expect(got.get(GSME)?.map((m) => [toHex(m.zcl), m.security])).toEqual([[toHex(b), 'aps-link']]);
    expect(got.get(ESME)?.map((m) => toHex(m.zcl))).toEqual([toHex(d)]);
    expect(net.deviceEvents(undefined, 'aps-reassembled')).toHaveLength(4);
    expect(
      net.deviceEvents(undefined, 'aps-fragmented-send').map((e) => [e.radio, e.blocks, e.status]),
    ).toEqual([
      [ESME, 4, 'sent'],
      [CH, 4, 'sent'],
      [GSME, 2, 'sent'],
      [CH, 2, 'sent'],
    ]);
    expect(
      net.deviceEvents(undefined, 'frame-dropped').filter((e) => /aps|unexpected/.test(String(e.reason))),
    ).toEqual([]);
    for (const f of net.frames) expect(f.psdu.length).toBeLessThanOrEqual(127);

    const pcap = tempFile('fragments.pcap', buildPcap(LINKTYPE_IEEE802_15_4_WITHFCS, net.frames));
    const keys = net.keys.tsharkOptions();
    expect(malformedCount(pcap, keys)).toBe(0);
    const rows = tsharkFields(
      pcap,
      [
        'zbee_aps.fragmentation',
        'zbee_aps.block',
        'zbee_aps.ack_req',
        'zbee_aps.reassembled.length',
        'zbee_aps.fragment.count',
        'zbee_aps.fragment.error',
      ],
      [...keys, '-Y', 'zbee_aps.fragmentation'],
    );
    // Blocks (data with ack request) and their acks; the last block of each ASDU reassembles it.
    const reassembled = rows.filter((r) => r[3] !== '').map((r) => [Number(r[3]), Number(r[4])]);
    expect(reassembled).toEqual([
      [200, 4],
      [142, 4],
      [90, 2],
      [81, 2],
    ]);
    expect(rows.filter((r) => r[5] !== '')).toEqual([]);
  });

  it('gives up after apsMaxFrameRetries without acks; a receiver left with part of an ASDU times it out', async () => {
    const { net, ch, esme } = await joinedNet(22);
    let delivered = 0;
    ch.onZcl(() => {
      delivered++;
    });
    // The receiver (CH) goes off after the first block: the sender's retries find no one.
    let blocks = 0;
    net.bus.onFrame((f) => {
      if (f.psdu.length > 100 && ++blocks === 1) ch.powerOff();
    });
    const r = await during(
      net,
      esme.sendZcl({ eui64: CH }, { clusterId: 0x0800, zcl: payload(150, 5), security: 'nwk' }),
      30e6,
    );
    expect(r).toEqual({ status: 'no-ack' });
    expect(net.deviceEvents(ESME, 'aps-fragmented-send')).toMatchObject([
      { blocks: 3, sentBlocks: 0, status: 'no-ack' },
    ]);
    expect(delivered).toBe(0);
  });

  it('traces a reassembly that never completes (the sender went away after the first block)', async () => {
    const { net, ch, esme } = await joinedNet(23);
    let delivered = 0;
    ch.onZcl(() => {
      delivered++;
    });
    let blocks = 0;
    net.bus.onFrame((f) => {
      if (f.psdu.length > 100 && ++blocks === 1) esme.powerOff();
    });
    void esme.sendZcl({ eui64: CH }, { clusterId: 0x0800, zcl: payload(150, 6), security: 'nwk' });
    await net.run(net.bus.time + 15_000_000);
    expect(delivered).toBe(0);
    expect(
      net.deviceEvents(CH, 'frame-dropped').filter((e) => e.reason === 'aps-fragment-timeout'),
    ).toMatchObject([{ from: ESME, received: 1, blocks: 3 }]);
  });
});

describe('APS reassembly buffer', () => {
  const cfg = resolveFragmentationConfig({ reassemblyTimeoutUs: 1000 });
  const block = (fragmentation: 1 | 2, blockNumber: number, bytes: number[], clusterId = 0x0800) => ({
    source: ESME,
    apsCounter: 7,
    fragmentation,
    blockNumber,
    clusterId,
    payload: Uint8Array.from(bytes),
  });

  it('reassembles in order, re-acknowledges duplicates without delivering twice', () => {
    const r = new ApsReassembler(cfg);
    expect(r.accept(block(1, 3, [1, 2]), 0)).toEqual({ kind: 'accepted', block: 0 });
    expect(r.accept(block(2, 1, [3]), 1)).toEqual({ kind: 'accepted', block: 1 });
    expect(r.accept(block(2, 1, [3]), 2)).toEqual({ kind: 'accepted', block: 1, duplicate: true });
    expect(r.accept(block(2, 2, [4, 5]), 3)).toEqual({
      kind: 'accepted',
      block: 2,
      asdu: Uint8Array.of(1, 2, 3, 4, 5),
    });
    expect(r.accept(block(2, 2, [4, 5]), 4)).toEqual({ kind: 'accepted', block: 2, duplicate: true });
    expect(r.expire(10_000)).toEqual([]); // completed: forgotten silently
  });

  it('drops bad and orphan blocks with a reason and expires incomplete buffers', () => {
    const r = new ApsReassembler(cfg);
    expect(r.accept(block(2, 1, [1]), 0)).toEqual({ kind: 'dropped', reason: 'aps-fragment-no-first-block' });
    expect(r.accept(block(1, 1, [1]), 0)).toEqual({
      kind: 'dropped',
      reason: 'aps-fragment-bad-block-count',
    });
    expect(r.accept(block(1, 2, [1]), 0).kind).toBe('accepted');
    expect(r.accept(block(2, 2, [1]), 0)).toEqual({
      kind: 'dropped',
      reason: 'aps-fragment-bad-block-number',
    });
    expect(r.accept(block(2, 1, [1], 0x0702), 0)).toEqual({
      kind: 'dropped',
      reason: 'aps-fragment-cluster-mismatch',
    });
    expect(r.expire(999)).toEqual([]);
    expect(r.expire(1000)).toEqual([{ source: ESME, apsCounter: 7, received: 1, total: 2 }]);
    const small = new ApsReassembler(resolveFragmentationConfig({ maxAsduOctets: 3 }));
    expect(small.accept(block(1, 2, [1, 2]), 0).kind).toBe('accepted');
    expect(small.accept(block(2, 1, [3, 4]), 0)).toEqual({
      kind: 'dropped',
      reason: 'aps-fragment-too-long',
    });
  });

  it('sizes blocks so the PSDU stays within 127 octets', () => {
    const shape = { destinationIeee: true, apsSecured: false };
    expect(apsBlockSize(shape)).toBe(64);
    expect(apsBlockSize({ destinationIeee: true, apsSecured: true })).toBe(47);
    expect(needsFragmentation(64 + 2, shape)).toBe(false);
    expect(needsFragmentation(81, shape)).toBe(true);
    expect(splitIntoBlocks(new Uint8Array(130), 64).map((b) => b.length)).toEqual([64, 64, 2]);
    expect(() => splitIntoBlocks(new Uint8Array(10), 64)).toThrow(RangeError);
    // The arithmetic checked against the codecs: a full block's NWK frame + MAC header/FCS.
    const aps = encodeApsFrame({
      frameType: 'data',
      deliveryMode: 'unicast',
      ackRequest: true,
      counter: 1,
      destinationEndpoint: 1,
      clusterId: 0x0800,
      profileId: 0x0109,
      sourceEndpoint: 1,
      extendedHeader: { fragmentation: 1, blockNumber: 2 },
      security: false,
      payload: new Uint8Array(64),
    });
    const nwk = encodeNwkFrame({
      frameType: 'data',
      protocolVersion: 2,
      discoverRoute: 0,
      endDeviceInitiator: false,
      destination: 0,
      source: 1,
      radius: 10,
      sequenceNumber: 1,
      destinationIeee: CH,
      sourceIeee: ESME,
      security: false,
      payload: aps,
    });
    expect(nwk.length + 14 + 4 + 9 + 2).toBe(127); // + NWK aux header and MIC, MAC header and FCS
  });
});
