import { describe, expect, it } from 'vitest';
import type { IncomingZcl } from '../src/host.js';
import { type Alert, GbAlertCode } from '../src/security-log.js';
import { CH, during, ESME, GSME, joinedNet, PPMID, PRICE_GET_CURRENT, settle } from './harness.js';

const zcl = { clusterId: 0x0700, zcl: PRICE_GET_CURRENT };

describe('leave, removal and reset', () => {
  it('a device that leaves is forgotten by its parent, logs unjoin and can join again', async () => {
    const { net, ch, esme } = await joinedNet(31);
    expect(await during(net, esme.leave(), 2_000_000)).toBe(true);
    await net.run(net.bus.time + 100_000);
    expect(esme.joined).toBe(false);
    expect(esme.network).toBeNull();
    expect(esme.nvm.read('stack.network')).toBeUndefined();
    expect(net.deviceEvents(CH, 'child-left').map((e) => e.eui64)).toEqual([ESME]);
    expect(ch.children().map((c) => c.eui64)).toEqual([GSME]);
    expect(esme.securityLog.pendingAlerts().map((a) => a.code)).toContain(GbAlertCode.unjoinSucceeded);
    expect(await during(net, esme.leave(), 1_000)).toBe(false);
    expect(esme.securityLog.pendingAlerts().map((a) => a.code)).toContain(GbAlertCode.unjoinFailed);
    expect(await during(net, esme.join(), 10_000_000)).toBe('joined');
  });

  it('the coordinator removes a sleepy child: it gets the leave request when it polls', async () => {
    const { net, ch, gsme } = await joinedNet(32);
    expect(await during(net, ch.removeChild(GSME), 5_000_000)).toBe('sent');
    await net.run(net.bus.time + 200_000);
    expect(gsme.joined).toBe(false);
    expect(net.deviceEvents(GSME, 'leave-requested').length).toBe(1);
    expect(ch.children().map((c) => c.eui64)).toEqual([ESME]);
  });

  it('resetNetworkState returns to the post-reset state of 05-3474 §3.6.1.4.1', async () => {
    const { net, esme } = await joinedNet(33);
    esme.setLinkKey(CH, new Uint8Array(16).fill(7), 'cbke');
    esme.setLinkKey(PPMID, new Uint8Array(16).fill(8), 'partner');
    const counterBefore = esme.nvm.read<number>('stack.nwkFrameCounter');
    const logBefore = esme.securityLog.entries().length;
    esme.resetNetworkState();
    expect(esme.joined).toBe(false);
    expect(esme.network).toBeNull(); // EPID 0, PAN 0xffff, no key, no parent: nothing kept
    expect(esme.shortAddress).toBe(0xffff);
    expect(esme.nvm.read('stack.network')).toBeUndefined();
    expect(esme.linkKey(PPMID)).toBeNull();
    expect(esme.linkKey(CH)).toBeNull(); // the CBKE key replaced the install-code one, and is dropped
    expect(esme.nvm.read<number>('stack.nwkFrameCounter')).toBe(counterBefore); // counters never go back
    expect(esme.securityLog.entries().length).toBe(logBefore);
    await settle();
    await net.run(net.bus.time + 1_000);
    expect(net.deviceEvents(ESME, 'nwk-state').at(-1)?.state).toBe('not-joined');
    // The preconfigured (install-code) key is kept: the device can join again.
    expect(await during(net, esme.join(), 10_000_000)).toBe('joined');
    expect(esme.linkKey(CH)).not.toBeNull();
  });
});

describe('alerts', () => {
  it('queue in NVM until the application sender delivers them, across power cycles', async () => {
    const { net, esme } = await joinedNet(34);
    expect(esme.securityLog.pendingAlerts().map((a) => a.code)).toEqual([GbAlertCode.joinSucceeded]);
    let path = false;
    const sent: Alert[] = [];
    esme.setAlertSender((a) => {
      if (!path) return false;
      sent.push(a);
      return true;
    });
    await settle();
    expect(sent).toEqual([]);
    esme.powerOff();
    await during(net, esme.powerOn(), 5_000_000);
    expect(esme.securityLog.pendingAlerts().map((a) => a.code)).toEqual([
      GbAlertCode.joinSucceeded,
      GbAlertCode.joinSucceeded,
    ]);
    path = true;
    await esme.securityLog.flush();
    expect(sent.map((a) => a.code)).toEqual([GbAlertCode.joinSucceeded, GbAlertCode.joinSucceeded]);
    expect(esme.securityLog.pendingAlerts()).toEqual([]);
    await net.run(net.bus.time + 1_000);
    expect(net.deviceEvents(ESME, 'alert-sent').length).toBe(2);
  });
});

describe('Inter-PAN', () => {
  it('a device outside the network exchanges Inter-PAN frames with the hub, plain and APS-secured', async () => {
    const { net, ch } = await joinedNet(35);
    const hht = await net.add(PPMID, 'end-device', { x: 1 });
    await during(net, hht.powerOn(), 1_000);
    hht.tune(0, ch.network!.channel);
    const atHht: IncomingZcl[] = [];
    const atCh: IncomingZcl[] = [];
    hht.onZcl((m) => void atHht.push(m));
    ch.onZcl((m) => void atCh.push(m));
    expect(
      (await during(net, ch.sendInterPan('broadcast', { ...zcl, security: 'none' }), 1_000_000)).status,
    ).toBe('sent');
    expect(atHht.map((m) => [m.interPan, m.from.eui64, m.sourcePanId, m.security])).toEqual([
      [true, CH, 0x1a62, 'none'],
    ]);
    expect(
      (
        await during(
          net,
          hht.sendInterPan({ eui64: CH, panId: 0x1a62 }, { ...zcl, security: 'none' }),
          1_000_000,
        )
      ).status,
    ).toBe('sent');
    const key = new Uint8Array(16).fill(0x42);
    ch.setLinkKey(PPMID, key, 'cbke');
    hht.setLinkKey(CH, key, 'cbke');
    expect(
      (
        await during(
          net,
          hht.sendInterPan({ eui64: CH, panId: 0x1a62 }, { ...zcl, security: 'aps-link' }),
          1_000_000,
        )
      ).status,
    ).toBe('sent');
    await net.run(net.bus.time + 10_000);
    expect(atCh.map((m) => [m.interPan, m.from.eui64, m.security])).toEqual([
      [true, PPMID, 'none'],
      [true, PPMID, 'aps-link'],
    ]);
    expect([...atCh[1]!.zcl]).toEqual([...PRICE_GET_CURRENT]);
    expect(
      (await hht.sendInterPan({ eui64: ESME, panId: 0x1a62 }, { ...zcl, security: 'aps-link' })).status,
    ).toBe('no-link-key');
  });
});

describe('scenario controls', () => {
  it('power, leave and join arrive as bus controls at their virtual time', async () => {
    const { net, esme } = await joinedNet(36);
    // A device's control dispatch (a kind's `dispatchControl`) in miniature.
    esme.radio.onControl((c) => {
      if (c.type === 'power') void (c.on ? esme.powerOn() : esme.powerOff());
      else if (c.type === 'leave') void esme.leave();
      else if (c.type === 'join') void esme.join();
    });
    const t = net.bus.time;
    net.bus.scheduleControl(ESME, t + 1_000_000, { type: 'power', on: false });
    net.bus.scheduleControl(ESME, t + 2_000_000, { type: 'power', on: true });
    net.bus.scheduleControl(ESME, t + 4_000_000, { type: 'leave' });
    net.bus.scheduleControl(ESME, t + 5_000_000, { type: 'join' });
    await net.run(t + 1_500_000);
    expect(esme.isPowered).toBe(false);
    await net.run(t + 3_500_000);
    expect(esme.joined).toBe(true);
    expect(net.deviceEvents(ESME, 'rejoined').length).toBe(1);
    await net.run(t + 4_500_000);
    expect(esme.joined).toBe(false);
    await net.run(t + 9_000_000);
    expect(esme.joined).toBe(true);
  });
});
