/**
 * The meters' alert path on the real stack and the real in-process bus (issue 7: "an attempt
 * being made to send an alert", queued until there is a path). The coordinator is a plain
 * `ZigbeeNode` playing the CH: trust centre with the meters' install codes, no CBKE responder,
 * so the ESME has no tunnel and the GSME is never commissioned until the test says so. It
 * opens the ESME's GB-HGRP tunnel itself (RequestTunnel, APS-secured with the install-code key)
 * and reads what comes back through it.
 */
import { SECOND } from '@gbhan/clock';
import { GbAlertCode, type IncomingZcl, MemoryNvStore, ZigbeeNode } from '@gbhan/stack';
import {
  appendInstallCodeCrc,
  decodeZclFrame,
  encodeGbHgrpRequestTunnel,
  installCodeLinkKey,
  TUNNELING_CLUSTER,
  toHex,
} from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { realBus } from '../../../test/support/real-bus.js';
import {
  type DeviceAlert,
  decodeDeviceAlert,
  decodeTunnelledZcl,
  Esme,
  EVENTS_CLUSTER,
  Gsme,
  zclUtcNow,
} from '../src/index.js';

const SEED = 'alerts-1';
const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const GSME = '00124b0000065e5e';
const code = (k: number) =>
  toHex(appendInstallCodeCrc(Uint8Array.from({ length: 16 }, (_, i) => (i * 29 + k) & 0xff)));
const CODES: Record<string, string> = { [ESME]: code(3), [GSME]: code(11) };

async function setup() {
  const { bus, radio, ev, crashes } = realBus(2);
  const channels = [{ page: 0, channel: 15 }];
  const ch = new ZigbeeNode(await radio(CH, 0, 15), new MemoryNvStore(), {
    role: 'coordinator',
    seed: SEED,
    panId: 0x1a62,
    channels,
    admission: (eui) => (CODES[eui] ? { linkKey: installCodeLinkKey(CODES[eui]!) } : null),
  });
  // What reaches the coordinator's application: Events frames, and alerts out of the tunnel.
  const heard: IncomingZcl[] = [];
  const tunnelled: DeviceAlert[] = [];
  ch.onZcl((m) => {
    heard.push(m);
    if (m.clusterId !== TUNNELING_CLUSTER) return;
    const f = decodeZclFrame(m.zcl, { cluster: TUNNELING_CLUSTER });
    if (f.commandName !== 'transferData') return;
    const inner = decodeTunnelledZcl((f.payload as { data: Uint8Array }).data);
    if (inner.clusterId === EVENTS_CLUSTER) tunnelled.push(decodeDeviceAlert(inner.zcl));
  });
  void ch.powerOn();
  ch.permitJoin(255);
  const esme = new Esme({
    radio: await radio(ESME, 3, 15),
    nvm: new MemoryNvStore(),
    seed: SEED,
    config: { chEui64: CH, installCode: CODES[ESME]!, channels, joinRetryUs: 10 * SECOND },
  });
  const gsme = new Gsme({
    radio: await radio(GSME, 4, 15),
    nvm: new MemoryNvStore(),
    seed: SEED,
    config: {
      chEui64: CH,
      installCode: CODES[GSME]!,
      channels,
      joinRetryUs: 10 * SECOND,
      pollPeriodUs: SECOND,
    },
  });
  const run = async (us: number) => {
    await new Promise((r) => setImmediate(r));
    await bus.runUntil(bus.time + us);
  };
  let tsn = 0;
  const requestTunnel = () =>
    ch.sendZcl(
      { eui64: ESME },
      { clusterId: TUNNELING_CLUSTER, zcl: encodeGbHgrpRequestTunnel(++tsn), security: 'aps-link' },
    );
  return { ch, esme, gsme, run, ev, crashes, heard, tunnelled, requestTunnel };
}

const tamperCodes = (alerts: { code: number }[]) => alerts.filter((a) => a.code === GbAlertCode.tamper);

describe('meter alerts', () => {
  it('wait in NVM without a tunnel (across a power cycle), go through the tunnel once it opens, and stay queued when a send fails', async () => {
    const s = await setup();
    await s.run(30 * SECOND);
    expect(s.esme.node.joined).toBe(true);
    expect(s.gsme.node.joined).toBe(true);

    // Reset HAN while locked: a tamper event on each meter, its alert attempted at once.
    for (const m of [s.esme, s.gsme])
      expect(m.triage.optical.handle({ command: 'reset-han' })).toMatchObject({ code: 'OPTICAL_LOCKED' });
    const attemptAt = s.esme.node.securityLog.entries().find((e) => e.event === 'reset-han-attempt')!.t;
    await s.run(60 * SECOND);
    for (const m of [s.esme, s.gsme]) expect(tamperCodes(m.node.securityLog.pendingAlerts())).toHaveLength(1);
    expect(s.ev(ESME, 'alert-sent')).toEqual([]);
    expect(s.ev(GSME, 'alert-sent')).toEqual([]);
    expect(s.heard.filter((m) => m.clusterId === EVENTS_CLUSTER)).toEqual([]);
    expect(s.ev(ESME, 'tunnel-data-out')).toEqual([]);

    // A power cycle keeps them (NVM).
    for (const m of [s.esme, s.gsme]) {
      m.runtime.powerOff();
      m.runtime.start();
    }
    await s.run(20 * SECOND);
    expect(s.esme.node.joined).toBe(true);
    for (const m of [s.esme, s.gsme]) expect(tamperCodes(m.node.securityLog.pendingAlerts())).toHaveLength(1);

    // The CH opens the tunnel: everything queued goes through it, in order, and leaves the queue.
    const queued = s.esme.node.securityLog.pendingAlerts();
    void s.requestTunnel();
    await s.run(10 * SECOND);
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual([]);
    expect(s.tunnelled.map((a) => a.code)).toEqual(queued.map((a) => a.code));
    expect(s.tunnelled.map((a) => a.eventTime)).toEqual(queued.map((a) => zclUtcNow(a.t)));
    expect(tamperCodes(s.tunnelled)[0]).toMatchObject({ logId: 0x01, eventTime: zclUtcNow(attemptAt) });
    expect(s.ev(ESME, 'alert-sent').map((e) => e.code)).toEqual(queued.map((a) => a.code));
    const opened = s.ev(ESME, 'tunnel-request').find((e) => e.status === 0)!;
    for (const e of s.ev(ESME, 'alert-sent')) expect(e.t).toBeGreaterThan(opened.t);

    // The CH goes away with the tunnel still open at the meter: the send is not acknowledged,
    // so the next tamper alert stays queued; when the CH is back and reopens it, it goes.
    s.ch.powerOff();
    expect(s.esme.triage.optical.handle({ command: 'reset-han' }).ok).toBe(false);
    await s.run(10 * SECOND);
    expect(tamperCodes(s.esme.node.securityLog.pendingAlerts())).toHaveLength(1);
    expect(s.ev(ESME, 'send-failed').some((e) => e.what === 'transfer-data')).toBe(true);
    void s.ch.powerOn();
    await s.run(SECOND);
    void s.requestTunnel();
    await s.run(10 * SECOND);
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual([]);
    expect(tamperCodes(s.tunnelled)).toHaveLength(2);

    // The GSME was never commissioned with its CH (no CBKE here): its alert is still queued.
    expect(tamperCodes(s.gsme.node.securityLog.pendingAlerts())).toHaveLength(1);
    expect(s.ev(GSME, 'alert-sent')).toEqual([]);
    expect(s.heard.filter((m) => m.clusterId === EVENTS_CLUSTER)).toEqual([]);
    expect(s.crashes()).toEqual([]);
  });
});
