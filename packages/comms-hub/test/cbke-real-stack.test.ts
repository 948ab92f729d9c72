/**
 * GB CBKE (crypto suite 2, sect283k1, 74-octet certificates) between the CHF and an ESME on
 * the real stack and the in-process bus, with the default (advertised) timings: the Initiate
 * Key Establishment messages cross as APS fragments, both sides install the same link key,
 * and Wireshark dissects every frame, reassembles the fragments and reads the certificates.
 *
 * Replaces the former recording-host version of this exchange: frames crossing the air is
 * what this test is about, so it runs on `ZigbeeNode`s.
 */
import { MINUTE } from '@gbhan/clock';
import { Esme } from '@gbhan/meter';
import {
  BusRadio,
  type BusTraceEvent,
  buildPcap,
  type CapturedFrame,
  InProcessTransport,
  LINKTYPE_IEEE802_15_4_WITHFCS,
  RadioBus,
} from '@gbhan/radio-bus';
import { KeyExportRegistry, MemoryNvStore } from '@gbhan/stack';
import { malformedCount, tempFile, tsharkFields } from '@gbhan/testing';
import { appendInstallCodeCrc, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { CommsHub } from '../src/index.js';

const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const CODE = toHex(appendInstallCodeCrc(new Uint8Array(16).map((_, i) => 0x30 + i)));

describe('suite-2 CBKE on the real stack', () => {
  it('establishes the same key on CH and ESME through APS fragments that tshark reassembles', async () => {
    const bus = new RadioBus({ seed: 5 });
    const trace: BusTraceEvent[] = [];
    const frames: CapturedFrame[] = [];
    bus.onTrace((e) => trace.push(e));
    bus.onFrame((f) => frames.push(f));
    const keys = new KeyExportRegistry();
    const radio = (eui64: string, x: number) =>
      BusRadio.connect(new InProcessTransport(bus), {
        eui64,
        band: '2.4GHz',
        page: 0,
        channel: 11,
        position: { x, y: 0 },
      });
    const channels = [{ page: 0, channel: 11 }];
    const hub = new CommsHub({
      radio: await radio(CH, 0),
      nvm: new MemoryNvStore(),
      seed: 'cbke-2',
      onKeyExport: keys.record,
      config: { channels, deviceLog: [{ eui64: ESME, deviceType: 'ESME', installCode: CODE }] },
    });
    const esme = new Esme({
      radio: await radio(ESME, 3),
      nvm: new MemoryNvStore(),
      seed: 'cbke-2',
      onKeyExport: keys.record,
      config: { chEui64: CH, installCode: CODE, channels },
    });
    await bus.runUntil(2 * MINUTE);
    const events = (radio: string, type: string) =>
      trace
        .filter((e): e is Extract<BusTraceEvent, { type: 'device' }> => e.type === 'device')
        .filter((e) => e.radio === radio && e.event.type === type)
        .map((e) => e.event as Record<string, unknown>);

    expect(events(ESME, 'cbke-established')).toMatchObject([{ role: 'initiator', peer: CH, suite: 2 }]);
    expect(events(CH, 'cbke-established')).toMatchObject([{ role: 'responder', peer: ESME, suite: 2 }]);
    const key = esme.node.linkKey(CH);
    expect(key).not.toBeNull();
    expect(hub.node.linkKey(ESME)).toEqual(key);
    // Both Initiate Key Establishment messages (request and response) were fragmented.
    expect(events(ESME, 'aps-fragmented-send')).toMatchObject([{ to: CH, blocks: 2, status: 'sent' }]);
    expect(events(CH, 'aps-fragmented-send')).toMatchObject([{ to: ESME, blocks: 2, status: 'sent' }]);
    for (const f of frames) expect(f.psdu.length).toBeLessThanOrEqual(127);
    // The tunnel the CHF asks for next travels APS-secured under the CBKE key.
    expect(hub.app!.tunnels.state(ESME)).toBe('open');

    const pcap = tempFile('cbke-suite2.pcap', buildPcap(LINKTYPE_IEEE802_15_4_WITHFCS, frames));
    const ws = keys.tsharkOptions();
    expect(malformedCount(pcap, ws)).toBe(0);
    const rows = tsharkFields(
      pcap,
      [
        'zbee_aps.reassembled.length',
        'zbee_aps.fragment.count',
        'zbee_zcl_se.ke.cert.subject',
        'zbee_zcl_se.ke.cert.curve',
      ],
      [...ws, '-Y', 'zbee_aps.reassembled.length'],
    );
    // Two reassembled ZCL frames (3-octet header + suite + times + 74-octet certificate = 81),
    // each with a sect283k1 certificate whose subject is the sender.
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ['81', '2'],
      ['81', '2'],
    ]);
    expect(rows.map((r) => r[2]?.replace(/:/g, ''))).toEqual([ESME, CH]);
    expect(rows.every((r) => r[3] !== '')).toBe(true);

    hub.close();
    esme.close();
    bus.close();
  });
});
