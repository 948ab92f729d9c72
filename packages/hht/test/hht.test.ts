/**
 * The HHT on the real stack and the in-process bus: scan (hubs by EPID), Inter-PAN CBKE with
 * the CH as responder, install-code hand-over under the CBKE key, Device Log entry, join,
 * CBKE with the ESME and a Metering read. A second HHT after the window is refused (traced).
 */

import { Attacker } from '@gbhan/attacker';
import { MINUTE } from '@gbhan/clock';
import { CommsHub } from '@gbhan/comms-hub';
import { Esme } from '@gbhan/meter';
import { KeyExportRegistry, MemoryNvStore } from '@gbhan/stack';
import { realBus } from '@gbhan/testing';
import { appendInstallCodeCrc, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { Hht } from '../src/index.js';

const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const HHT1 = '00124b0000ee0001';
const HHT2 = '00124b0000ee0002';
const ROGUE = '00124b0000dead01';
const code = (n: number) => toHex(appendInstallCodeCrc(new Uint8Array(16).map((_, i) => n + i)));
const channels = [{ page: 0, channel: 11 }];

describe('HHT pairing over Inter-PAN', () => {
  it('pairs inside the window, joins and reads the ESME; refused after 60 minutes', async () => {
    const { bus, frames, radio, ev: dev, crashes } = realBus(9);
    const keys = new KeyExportRegistry();
    const hub = new CommsHub({
      radio: await radio(CH, 0),
      nvm: new MemoryNvStore(),
      seed: 'hht',
      onKeyExport: keys.record,
      config: { channels, deviceLog: [{ eui64: ESME, deviceType: 'ESME', installCode: code(0x30) }] },
    });
    new Esme({
      radio: await radio(ESME, 3),
      nvm: new MemoryNvStore(),
      seed: 'hht',
      onKeyExport: keys.record,
      config: { chEui64: CH, installCode: code(0x30), channels },
    });
    const hht1 = new Hht({
      radio: await radio(HHT1, 2),
      nvm: new MemoryNvStore(),
      seed: 'hht',
      onKeyExport: keys.record,
      config: {
        installCode: code(0x50),
        chEui64: CH,
        esmeEui64: ESME,
        scanChannels: [{ page: 0, channel: 15 }, ...channels],
      },
    });
    const hht2 = new Hht({
      radio: await radio(HHT2, 4),
      nvm: new MemoryNvStore(),
      seed: 'hht',
      onKeyExport: keys.record,
      config: { installCode: code(0x70), chEui64: CH, scanChannels: channels },
    });
    hht1.node.clock.setTimerAt(5 * MINUTE, () => hht1.control({ action: 'pair' }));
    hht1.node.clock.setTimerAt(8 * MINUTE, () => hht1.control({ action: 'read-meter' }));
    hht2.node.clock.setTimerAt(61 * MINUTE, () => hht2.control({ action: 'pair' }));
    await bus.runUntil(63 * MINUTE);

    expect(dev(HHT1, 'interpan-scan')[0]).toMatchObject({ hubs: [{ epid: CH, page: 0, channel: 11 }] });
    expect(dev(CH, 'cbke-established')).toContainEqual(
      expect.objectContaining({ role: 'responder', peer: HHT1 }),
    );
    expect(dev(CH, 'interpan-handover')).toMatchObject([
      { peer: HHT1, entityId: HHT1, deviceType: 'HHT', status: 0 },
    ]);
    expect(hub.app!.deviceLog.get(HHT1)).toMatchObject({ deviceType: 'HHT' });
    expect(dev(HHT1, 'hht-commissioned')).toMatchObject([{ ch: CH, join: 'joined' }]);
    const paired = dev(HHT1, 'interpan-pairing')[0]!;
    expect(paired).toMatchObject({ result: 'paired' });
    expect(paired.t).toBeLessThan(7 * MINUTE);
    expect(dev(HHT1, 'hht-meter-read')).toMatchObject([{ from: ESME, values: [{ attrId: 0, status: 0 }] }]);
    // After 60 minutes: the CH drops every Inter-PAN frame of the second HHT.
    expect(
      dev(CH, 'frame-dropped').filter((e) => e.reason === 'interpan-window-closed' && e.from === HHT2).length,
    ).toBeGreaterThan(0);
    expect(dev(HHT2, 'interpan-pairing')).toMatchObject([{ result: 'cbke-failed' }]);
    expect(hub.app!.deviceLog.has(HHT2)).toBe(false);
    expect(hht2.node.joined).toBe(false);
    expect(crashes()).toEqual([]);
    expect(frames.every((f) => f.psdu.length <= 127)).toBe(true);
    expect(dev(CH, 'interpan-window').map((e) => e.state)).toContain('closed');
  });
});

describe('on GB868', () => {
  it('an HHT pairs with a GB868 CH over Inter-PAN while an attacker on the same band is refused', async () => {
    const { bus, radio, ev, crashes } = realBus(12);
    const gb868 = [{ page: 28, channel: 3 }];
    const hub = new CommsHub({
      radio: await radio(CH, 0, 3, 28),
      nvm: new MemoryNvStore(),
      seed: 'hht868',
      config: { channels: gb868 },
    });
    const hht = new Hht({
      radio: await radio(HHT1, 5, 3, 28),
      nvm: new MemoryNvStore(),
      seed: 'hht868',
      config: { installCode: code(0x50), scanChannels: [{ page: 28, channel: 1 }, ...gb868] },
    });
    const rogue = new Attacker({
      radio: await radio(ROGUE, 20, 3, 28),
      nvm: new MemoryNvStore(),
      seed: 'hht868',
    });
    hht.node.clock.setTimerAt(MINUTE, () => hht.control({ action: 'pair' }));
    rogue.node.clock.setTimerAt(3 * MINUTE, () => rogue.control({ action: 'scan' }));
    rogue.node.clock.setTimerAt(3 * MINUTE + 5_000_000, () => rogue.control({ action: 'unknown-issuer' }));
    await bus.runUntil(5 * MINUTE);
    expect(ev(HHT1, 'interpan-scan')[0]).toMatchObject({ hubs: [{ epid: CH, page: 28, channel: 3 }] });
    expect(ev(HHT1, 'hht-commissioned')).toMatchObject([{ ch: CH, join: 'joined' }]);
    expect(hub.app!.deviceLog.get(HHT1)).toMatchObject({ deviceType: 'HHT' });
    expect(ev(ROGUE, 'attacker-response')).toMatchObject([
      { command: 'TerminateKeyEstablishment', status: 1 },
    ]);
    expect(crashes()).toEqual([]);
  });

  it('one HHT scans 2.4 GHz and GB868, lists both hubs by EPID and pairs with the GB868 one', async () => {
    const { bus, radio, ev, trace, frames, crashes } = realBus(13);
    const CH_B = '00124b0000c0ffef';
    const ch24 = [{ page: 0, channel: 15 }];
    const ch868 = [{ page: 28, channel: 3 }];
    new CommsHub({
      radio: await radio(CH, 0, 15, 0),
      nvm: new MemoryNvStore(),
      seed: 'dual',
      config: { channels: ch24 },
    });
    const hubB = new CommsHub({
      radio: await radio(CH_B, 6, 3, 28),
      nvm: new MemoryNvStore(),
      seed: 'dual',
      config: { channels: ch868 },
    });
    // The HHT's radio starts on 2.4 GHz; its scan retunes it to GB868 and back.
    const hht = new Hht({
      radio: await radio(HHT1, 3, 11, 0),
      nvm: new MemoryNvStore(),
      seed: 'dual',
      config: {
        installCode: code(0x50),
        chEui64: CH_B,
        scanChannels: [{ page: 0, channel: 11 }, ...ch24, { page: 28, channel: 1 }, ...ch868],
      },
    });
    hht.node.clock.setTimerAt(MINUTE, () => hht.control({ action: 'pair' }));
    await bus.runUntil(4 * MINUTE);

    const hubs = ev(HHT1, 'interpan-scan')[0]!.hubs as { epid: string; page: number; channel: number }[];
    expect(hubs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ epid: CH, page: 0, channel: 15 }),
        expect.objectContaining({ epid: CH_B, page: 28, channel: 3 }),
      ]),
    );
    expect(hubs).toHaveLength(2);
    expect(ev(HHT1, 'hht-commissioned')).toMatchObject([{ ch: CH_B, join: 'joined' }]);
    expect(hubB.app!.deviceLog.get(HHT1)).toMatchObject({ deviceType: 'HHT' });
    // The bus saw the radio cross bands, and the HHT's beacon requests went out on both.
    const tunes = trace.filter((e) => e.type === 'channel' && e.radio === HHT1);
    expect(tunes).toContainEqual(expect.objectContaining({ band: 'GB868', page: 28 }));
    expect(tunes).toContainEqual(expect.objectContaining({ band: '2.4GHz', page: 0 }));
    const sentPages = new Set(frames.filter((f) => f.source === HHT1).map((f) => f.page));
    expect([...sentPages].sort()).toEqual([0, 28]);
    // Once paired it stays on the GB868 hub's channel.
    expect(hht.node.radio.registration).toMatchObject({ band: 'GB868', page: 28, channel: 3 });
    expect(crashes()).toEqual([]);
  });
});
