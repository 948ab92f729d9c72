/**
 * The PPMID's own alerts on the real stack and the real in-process bus: raised while it has
 * no tunnel (no CH at all, then joined but before the CHF's tunnel), they wait in its NVM,
 * go through the CHF's GB-HGRP tunnel once it opens, are confirmed by the CH (they leave the
 * queue) and reach the DCC once; after a PPMID power cycle the CHF's new tunnel (asked for on
 * the rejoin) carries the next ones.
 *
 * Cross-package on purpose (it imports @gbhan/comms-hub in a test only), as
 * interpan-pairing.test.ts: the PPMID's alerts are for the CH.
 */
import { MINUTE, SECOND } from '@gbhan/clock';
import { CommsHub } from '@gbhan/comms-hub';
import { GbAlertCode, MemoryNvStore } from '@gbhan/stack';
import { realBus } from '@gbhan/testing';
import { appendInstallCodeCrc, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { Ppmid } from '../src/index.js';

const CH = '00124b0000c0ffee';
const PPMID = '00124b0000bbbbbb';
// Not on the air: the PPMID's reads fail, which its alerts do not depend on.
const ESME = '00124b0000e5e5e5';
const code = (n: number) => toHex(appendInstallCodeCrc(new Uint8Array(16).map((_, i) => n + i)));

async function home() {
  const { bus, radio, ev, crashes } = realBus(4);
  const channels = [{ page: 0, channel: 11 }];
  const hub = new CommsHub({
    radio: await radio(CH, 0),
    nvm: new MemoryNvStore(),
    seed: 'ppmid-alerts',
    autoPowerOn: false,
    config: {
      cbkeTiming: 'as-fast-as-computed',
      panId: 0x1a63,
      channels,
      deviceLog: [{ eui64: PPMID, deviceType: 'PPMID', installCode: code(0x50) }],
    },
  });
  const ppmid = new Ppmid({
    radio: await radio(PPMID, 2),
    nvm: new MemoryNvStore(),
    seed: 'ppmid-alerts',
    config: {
      chEui64: CH,
      esmeEui64: ESME,
      installCode: code(0x50),
      channels,
      joinRetryUs: 20 * SECOND,
      cbkeTiming: 'as-fast-as-computed',
      readGas: false,
    },
  });
  const run = async (us: number) => {
    await new Promise((r) => setImmediate(r));
    await bus.runUntil(bus.time + us);
  };
  const codes = (events: object[]) => events.map((e) => (e as { code?: unknown }).code);
  return { bus, hub, ppmid, ev, crashes, run, codes };
}

describe('PPMID alerts to the CH', () => {
  it("wait in the PPMID's NVM while it has no tunnel, go through the CHF's tunnel once it opens, are confirmed and reach the DCC once", async () => {
    const s = await home();
    await s.run(MINUTE);
    // No CH: every join attempt failed, each alert waits in NVM, nothing was sent.
    expect(s.ppmid.node.joined).toBe(false);
    const queued = s.ppmid.node.securityLog.pendingAlerts();
    expect(queued.length).toBeGreaterThan(0);
    expect(queued.every((a) => a.code === GbAlertCode.joinFailed)).toBe(true);
    expect(s.ev(PPMID, 'alert-sent')).toEqual([]);
    expect(s.ev(PPMID, 'tunnel-data-out')).toEqual([]);

    void s.hub.powerOn();
    await s.run(3 * MINUTE);
    expect(s.ppmid.node.joined).toBe(true);
    const opened = s.ev(CH, 'tunnel-established').filter((e) => e.peer === PPMID);
    expect(opened).toHaveLength(1);
    // Joined (its 0x8F49 raised) and commissioned before the tunnel opened: nothing went
    // before it (a PPMID's alerts have no path but the tunnel).
    const joinedAlert = s.ev(PPMID, 'alert').find((e) => e.code === GbAlertCode.joinSucceeded)!;
    expect(joinedAlert.t).toBeLessThan(opened[0]!.t);
    const sent = s.ev(PPMID, 'alert-sent');
    expect(s.codes(sent)).toEqual([...s.codes(queued), GbAlertCode.joinSucceeded]);
    for (const e of sent) expect(e.t).toBeGreaterThan(opened[0]!.t);
    // Confirmed: gone from the PPMID's queue, none left unconfirmed.
    expect(s.ppmid.node.securityLog.pendingAlerts()).toEqual([]);
    expect(s.ev(PPMID, 'alert-unconfirmed')).toEqual([]);

    // The CH got each once, through the tunnel, from the PPMID, before the PPMID let it go,
    // and passed each to the DCC once.
    const atCh = s.ev(CH, 'device-alert');
    expect(atCh.map(({ from, via, logId }) => ({ from, via, logId }))).toEqual(
      sent.map(() => ({ from: PPMID, via: 'tunnel', logId: 5 })),
    );
    expect(s.codes(atCh)).toEqual(s.codes(sent));
    for (const [i, e] of sent.entries()) expect(e.t).toBeGreaterThan(atCh[i]!.t);
    expect(atCh.map((e) => e.eventTimeUs)).toEqual(
      [...queued, joinedAlert].map((a) => Math.floor(a.t / SECOND) * SECOND),
    );
    expect(s.ev(CH, 'device-alert-duplicate')).toEqual([]);
    const wan = s.ev(CH, 'wan-alert').filter((e) => e.from === PPMID);
    expect(s.codes(wan)).toEqual(s.codes(sent));
    expect(s.hub.node.securityLog.pendingAlerts()).toEqual([]);

    // Power-cycled, the PPMID lost its end of the tunnel; the CHF asks for a new one when it
    // rejoins, and the rejoin's alert goes through that.
    s.ppmid.runtime.powerOff();
    await s.run(5 * SECOND);
    const onAt = s.bus.time;
    void s.ppmid.runtime.powerOn();
    await s.run(MINUTE);
    const asked = s.ev(CH, 'tunnel-request-sent').filter((e) => e.t >= onAt && e.peer === PPMID);
    expect(asked.map((e) => e.why)).toEqual(['device-rejoined']);
    const reopened = s.ev(CH, 'tunnel-established').filter((e) => e.t >= onAt);
    expect(reopened).toHaveLength(1);
    const again = s.ev(PPMID, 'alert-sent').filter((e) => e.t >= onAt);
    expect(again.length).toBeGreaterThan(0);
    for (const e of again) expect(e.t).toBeGreaterThan(reopened[0]!.t);
    expect(s.ppmid.node.securityLog.pendingAlerts()).toEqual([]);
    const wanAgain = s.ev(CH, 'wan-alert').filter((e) => e.from === PPMID && e.t >= onAt);
    expect(s.codes(wanAgain)).toEqual(s.codes(again));
    expect(s.ev(PPMID, 'alert-unconfirmed')).toEqual([]);
    expect(s.crashes()).toEqual([]);
  });
});
