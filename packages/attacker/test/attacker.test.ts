/**
 * Every attacker behaviour against a real CH on the in-process bus, while a legitimate HHT
 * pairs: the CH answers with the right Terminate statuses, backs off a flooding source, logs,
 * drops what is malformed with a typed reason, never crashes, and still serves the HHT; after
 * the window every attacker frame is dropped `interpan-window-closed`. The captured frames of
 * the attack dissect in tshark with Inter-PAN shown as such.
 */
import { MINUTE, SECOND } from '@gbhan/clock';
import { CommsHub } from '@gbhan/comms-hub';
import { Hht } from '@gbhan/hht';
import { buildPcap, LINKTYPE_IEEE802_15_4_WITHFCS } from '@gbhan/radio-bus';
import { MemoryNvStore } from '@gbhan/stack';
import { type DeviceEvent as Ev, realBus, tempFile, tsharkFields } from '@gbhan/testing';
import { appendInstallCodeCrc, TerminateStatus, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { Attacker, MALFORMED_KINDS } from '../src/index.js';

const CH = '00124b0000c0ffee';
const HHT = '00124b0000ee0001';
const ROGUE = '00124b0000dead01';
const channels = [{ page: 0, channel: 11 }];

describe('attacker against the CH Inter-PAN window', () => {
  it('each behaviour gets its answer or typed drop; the HHT still pairs; nothing crashes', async () => {
    const { bus, frames, radio, ev, crashes } = realBus(4);
    const hub = new CommsHub({
      radio: await radio(CH, 0),
      nvm: new MemoryNvStore(),
      seed: 'atk',
      config: { channels },
    });
    const hht = new Hht({
      radio: await radio(HHT, 2),
      nvm: new MemoryNvStore(),
      seed: 'atk',
      config: {
        installCode: toHex(appendInstallCodeCrc(new Uint8Array(16).fill(7))),
        chEui64: CH,
        scanChannels: channels,
      },
    });
    const rogue = new Attacker({
      radio: await radio(ROGUE, 5),
      nvm: new MemoryNvStore(),
      seed: 'atk',
      config: { channels },
    });
    const at = (t: number, fn: () => void) => rogue.node.clock.setTimerAt(t, fn);
    at(30 * SECOND, () => rogue.control({ action: 'scan' }));
    hht.node.clock.setTimerAt(60 * SECOND, () => hht.control({ action: 'pair' }));
    at(61 * SECOND, () => rogue.flood({ count: 10, intervalUs: 100_000 }));
    at(70 * SECOND, () => rogue.flood({ count: 8, intervalUs: 100_000, spoof: 4 }));
    at(100 * SECOND, () => rogue.malformed(MALFORMED_KINDS.slice(0, 6)));
    at(140 * SECOND, () => rogue.malformed(['truncated-certificate']));
    at(150 * SECOND, () => rogue.malformed(['unknown-suite']));
    at(3 * MINUTE, () => rogue.unknownIssuer());
    at(4 * MINUTE, () => rogue.foreignCertificate(HHT));
    at(5 * MINUTE, () => rogue.flood({ count: 3, intervalUs: 2 * SECOND, certificate: 'foreign', spoof: 3 }));
    at(6 * MINUTE, () => rogue.replay());
    at(61 * MINUTE, () => rogue.malformed());
    at(61 * MINUTE + 10 * SECOND, () => rogue.unknownIssuer());
    await bus.runUntil(62 * MINUTE);

    const between = (list: Ev[], a: number, b: number) => list.filter((e) => e.t >= a && e.t < b);

    // scan
    expect(ev(ROGUE, 'attacker-scan')[0]).toMatchObject({ target: CH, hubs: [{ epid: CH }] });
    // the legitimate HHT pairs and joins regardless
    expect(ev(HHT, 'hht-commissioned')).toMatchObject([{ ch: CH, join: 'joined' }]);
    expect(hub.app!.deviceLog.has(HHT)).toBe(true);
    const answers = ev(ROGUE, 'attacker-response');
    const statuses = (a: number, b: number) => between(answers, a, b).map((e) => e.status);
    // flood from its own EUI64: one answer (NoResources while the HHT's exchange runs, or
    // UnknownIssuer), then the CH backs off and drops the rest
    const flood1 = statuses(61 * SECOND, 70 * SECOND);
    expect(flood1.length).toBeGreaterThanOrEqual(1);
    expect(
      flood1.every((s) => s === TerminateStatus.NoResources || s === TerminateStatus.UnknownIssuer),
    ).toBe(true);
    expect(between(answers, 61 * SECOND, 70 * SECOND).every((e) => e.waitTime === 30)).toBe(true);
    const chDrops = ev(CH, 'app-drop');
    expect(
      between(chDrops, 61 * SECOND, 70 * SECOND).filter((e) => e.reason === 'interpan-cbke-backoff').length,
    ).toBeGreaterThan(0);
    // malformed frames: typed drops or BadMessage / UnsupportedSuite Terminates, never a crash
    const stackDrops = ev(CH, 'frame-dropped');
    const reasons = (list: Ev[], a: number) => between(list, a, a + 2 * SECOND).map((e) => e.reason);
    expect(reasons(stackDrops, 100 * SECOND)).toEqual([
      'interpan-truncated',
      'interpan-no-link-key',
      'interpan-invalid_field',
    ]);
    expect(reasons(chDrops, 100 * SECOND)).toEqual(['malformed-zcl', 'malformed-key-establishment']);
    expect(statuses(100 * SECOND, 102 * SECOND)).toEqual([TerminateStatus.BadMessage]);
    expect(reasons(chDrops, 140 * SECOND)).toEqual(['malformed-key-establishment']);
    expect(statuses(150 * SECOND, 152 * SECOND)).toEqual([TerminateStatus.UnsupportedSuite]);
    expect(ev(ROGUE, 'attacker-send').filter((e) => String(e.what).startsWith('malformed:')).length).toBe(
      8 + MALFORMED_KINDS.length,
    );
    // a certificate from an unknown issuer: Terminate UnknownIssuer, logged
    expect(statuses(3 * MINUTE, 3 * MINUTE + 10 * SECOND)).toEqual([TerminateStatus.UnknownIssuer]);
    // a certificate issued for another EUI64: Terminate InvalidCertificate
    expect(statuses(4 * MINUTE, 4 * MINUTE + 10 * SECOND)).toEqual([TerminateStatus.InvalidCertificate]);
    const log = ev(CH, 'security-log').filter((e) => e.event === 'interpan-cbke-failed');
    expect(log.length).toBeGreaterThanOrEqual(3);
    // replay: the captured frames go out again and are dropped or refused by the CH
    expect(ev(ROGUE, 'attacker-replay')[0]!.frames).toBeGreaterThan(0);
    // after 60 minutes every attacker frame is dropped before decoding
    const late = between(stackDrops, 61 * MINUTE, 62 * MINUTE);
    expect(late.length).toBe(MALFORMED_KINDS.length + 1);
    expect(late.every((e) => e.reason === 'interpan-window-closed')).toBe(true);
    expect(between(answers, 61 * MINUTE, 62 * MINUTE)).toEqual([]);
    // nothing crashed anywhere
    expect(crashes()).toEqual([]);
    expect(hub.interPanFrames.get(ROGUE)!.dropped).toBe(MALFORMED_KINDS.length + 1);

    // tshark: Inter-PAN frames are dissected as Inter-PAN (NWK frame type 3)
    const pcap = tempFile('attack.pcap', buildPcap(LINKTYPE_IEEE802_15_4_WITHFCS, frames));
    const interPan = tsharkFields(pcap, ['frame.number'], ['-Y', 'zbee_nwk.frame_type == 3']);
    expect(interPan.length).toBeGreaterThan(30);
  });
});
