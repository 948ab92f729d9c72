/**
 * The meters' alert path on the real stack and the real in-process bus ("an attempt
 * being made to send an alert", queued until there is a path, and delivered end to end). The
 * coordinator is a plain `ZigbeeNode` playing the CH: trust centre with the meters' install
 * codes, no CBKE responder, so the ESME has no tunnel and the GSME is never commissioned until
 * the test says so. It opens the ESME's GB-HGRP tunnel itself (RequestTunnel, APS-secured with
 * the install-code key), reads the alerts that come through it and answers each as the test
 * says: a Default Response SUCCESS (what a CH sends once it holds the alert), another status,
 * a wrong transaction sequence number, or nothing.
 */
import { SECOND } from '@gbhan/clock';
import {
  ALERT_CONFIRM_TIMEOUT_US,
  ALERT_RETRY_FIRST_US,
  type DeviceAlert,
  decodeDeviceAlert,
  decodeTunnelledZcl,
  EVENTS_CLUSTER,
  encodeTunnelledZcl,
  zclUtcNow,
} from '@gbhan/runtime';
import { GbAlertCode, type IncomingZcl, MemoryNvStore, ZigbeeNode } from '@gbhan/stack';
import { realBus } from '@gbhan/testing';
import {
  appendInstallCodeCrc,
  decodeZclFrame,
  encodeDefaultResponse,
  encodeGbHgrpRequestTunnel,
  encodeZclCommand,
  installCodeLinkKey,
  TUNNELING_CLUSTER,
  toHex,
} from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { Esme, Gsme } from '../src/index.js';

const SEED = 'alerts-1';
const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const GSME = '00124b0000065e5e';
const code = (k: number) =>
  toHex(appendInstallCodeCrc(Uint8Array.from({ length: 16 }, (_, i) => (i * 29 + k) & 0xff)));
const CODES: Record<string, string> = { [ESME]: code(3), [GSME]: code(11) };

/** How the coordinator answers an alert: a ZCL status, the right status with a wrong TSN, or not at all. */
type Answer = number | 'wrong-tsn' | 'none';

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
  // What reaches the coordinator's application: Events frames, alerts out of the tunnel (with
  // the time they arrived), and every other frame the ESME sent through the tunnel.
  const heard: IncomingZcl[] = [];
  const tunnelled: (DeviceAlert & { t: number })[] = [];
  const otherTunnelled: Uint8Array[] = [];
  const o = { answer: 0 as Answer, tunnelId: -1 };
  let tsn = 0;
  ch.onZcl((m) => {
    heard.push(m);
    if (m.clusterId !== TUNNELING_CLUSTER) return;
    const f = decodeZclFrame(m.zcl, { cluster: TUNNELING_CLUSTER });
    const p = f.payload as { tunnelId: number; status: number; data: Uint8Array };
    if (f.commandName === 'requestTunnelRsp' && p.status === 0) o.tunnelId = p.tunnelId;
    if (f.commandName !== 'transferData') return;
    const inner = decodeTunnelledZcl(p.data);
    if (inner.clusterId !== EVENTS_CLUSTER) {
      otherTunnelled.push(inner.zcl);
      return;
    }
    const alert = decodeDeviceAlert(inner.zcl);
    tunnelled.push({ ...alert, t: bus.time });
    if (o.answer === 'none') return;
    const reply = encodeDefaultResponse({
      direction: 'clientToServer',
      tsn: o.answer === 'wrong-tsn' ? (alert.tsn + 1) & 0xff : alert.tsn,
      commandId: 0x00,
      statusCode: o.answer === 'wrong-tsn' ? 0 : o.answer,
    });
    void ch.sendZcl(
      { eui64: ESME },
      {
        clusterId: TUNNELING_CLUSTER,
        zcl: encodeZclCommand({
          cluster: TUNNELING_CLUSTER,
          command: 'transferData',
          direction: 'clientToServer',
          payload: {
            tunnelId: p.tunnelId,
            data: encodeTunnelledZcl({ clusterId: EVENTS_CLUSTER, zcl: reply }),
          },
          tsn: ++tsn,
        }),
        security: 'aps-link',
      },
    );
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
  const requestTunnel = () =>
    ch.sendZcl(
      { eui64: ESME },
      { clusterId: TUNNELING_CLUSTER, zcl: encodeGbHgrpRequestTunnel(++tsn), security: 'aps-link' },
    );
  return { bus, ch, esme, gsme, run, ev, crashes, heard, tunnelled, otherTunnelled, requestTunnel, o };
}

const tamperCodes = <A extends { code: number }>(alerts: A[]) =>
  alerts.filter((a) => a.code === GbAlertCode.tamper);

describe('meter alerts', () => {
  it('wait in NVM without a tunnel (across a power cycle), go through the tunnel once it opens, leave the queue only when the CH confirms them, and stay queued when a send fails', async () => {
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
    // Nothing was sent, so nothing is unconfirmed and no retry is planned.
    expect(s.ev(ESME, 'alert-unconfirmed')).toEqual([]);

    // A power cycle keeps them (NVM).
    for (const m of [s.esme, s.gsme]) {
      m.runtime.powerOff();
      m.runtime.start();
    }
    await s.run(20 * SECOND);
    expect(s.esme.node.joined).toBe(true);
    for (const m of [s.esme, s.gsme]) expect(tamperCodes(m.node.securityLog.pendingAlerts())).toHaveLength(1);

    // The CH opens the tunnel: everything queued goes through it, in order, each leaving the
    // queue once the CH's Default Response SUCCESS came back through the tunnel.
    const queued = s.esme.node.securityLog.pendingAlerts();
    void s.requestTunnel();
    await s.run(10 * SECOND);
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual([]);
    expect(s.tunnelled.map((a) => a.code)).toEqual(queued.map((a) => a.code));
    expect(s.tunnelled.map((a) => a.eventTime)).toEqual(queued.map((a) => zclUtcNow(a.t)));
    expect(tamperCodes(s.tunnelled)[0]).toMatchObject({ logId: 0x01, eventTime: zclUtcNow(attemptAt) });
    const sent = s.ev(ESME, 'alert-sent');
    expect(sent.map((e) => e.code)).toEqual(queued.map((a) => a.code));
    const opened = s.ev(ESME, 'tunnel-request').find((e) => e.status === 0)!;
    for (const [i, e] of sent.entries()) {
      expect(e.t).toBeGreaterThan(opened.t);
      // Left the queue after the CH had it (its answer came back), not on the radio's ack.
      expect(e.t).toBeGreaterThan(s.tunnelled[i]!.t);
    }
    // The ESME never answers the CH's Default Responses (nothing else went through the tunnel).
    expect(s.otherTunnelled).toEqual([]);
    expect(s.ev(ESME, 'app-drop')).toEqual([]);
    expect(s.ev(ESME, 'alert-unconfirmed')).toEqual([]);

    // The CH goes away with the tunnel still open at the meter: the send is not acknowledged,
    // so the next tamper alert stays queued with a retry planned; when the CH is back and
    // reopens it, it goes.
    s.ch.powerOff();
    expect(s.esme.triage.optical.handle({ command: 'reset-han' }).ok).toBe(false);
    await s.run(10 * SECOND);
    expect(tamperCodes(s.esme.node.securityLog.pendingAlerts())).toHaveLength(1);
    expect(s.ev(ESME, 'send-failed').some((e) => e.what === 'transfer-data')).toBe(true);
    expect(s.ev(ESME, 'alert-unconfirmed')).toMatchObject([
      { codeHex: '0x8F3F', reason: 'send-failed', retryInUs: ALERT_RETRY_FIRST_US },
    ]);
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

  it('an alert the CH does not confirm stays queued (across a meter power cycle), tried again on a doubling back-off, until a Default Response SUCCESS with its TSN comes', async () => {
    const s = await setup();
    s.o.answer = 'none';
    await s.run(30 * SECOND);
    expect(s.esme.node.joined).toBe(true);
    const queued = s.esme.node.securityLog.pendingAlerts();
    expect(queued.length).toBeGreaterThan(0);
    const head = queued[0]!;

    // The tunnel opens, the head of the queue goes, the CH never answers: 10 s later it is
    // unconfirmed (timeout) and tried again after 30 s, then 60 s, then 120 s.
    void s.requestTunnel();
    await s.run(3 * 60 * SECOND);
    expect(s.tunnelled.length).toBe(3);
    for (const a of s.tunnelled) expect(a).toMatchObject({ code: head.code, eventTime: zclUtcNow(head.t) });
    const unconfirmed = s.ev(ESME, 'alert-unconfirmed');
    expect(unconfirmed.map((e) => [e.code, e.reason, e.retryInUs])).toEqual([
      [head.code, 'timeout', ALERT_RETRY_FIRST_US],
      [head.code, 'timeout', 2 * ALERT_RETRY_FIRST_US],
      [head.code, 'timeout', 4 * ALERT_RETRY_FIRST_US],
    ]);
    for (const [i, e] of unconfirmed.entries()) {
      // The timeout runs from the CH's radio acknowledgment (a few ms after it heard the frame).
      expect(e.t - s.tunnelled[i]!.t).toBeGreaterThanOrEqual(ALERT_CONFIRM_TIMEOUT_US);
      expect(e.t - s.tunnelled[i]!.t).toBeLessThan(ALERT_CONFIRM_TIMEOUT_US + 50_000);
      if (i > 0) {
        const gap = s.tunnelled[i]!.t - unconfirmed[i - 1]!.t;
        expect(gap).toBeGreaterThanOrEqual(unconfirmed[i - 1]!.retryInUs as number);
        expect(gap).toBeLessThan((unconfirmed[i - 1]!.retryInUs as number) + 50_000);
      }
    }
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual(queued);
    expect(s.ev(ESME, 'alert-sent')).toEqual([]);

    // A power cycle of the meter keeps it.
    s.esme.runtime.powerOff();
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual(queued);
    s.esme.runtime.start();
    await s.run(20 * SECOND);
    expect(s.esme.node.joined).toBe(true);
    expect(s.esme.node.securityLog.pendingAlerts().slice(0, queued.length)).toEqual(queued);

    // A Default Response with another TSN confirms nothing (traced), a FAILURE neither.
    s.o.answer = 'wrong-tsn';
    void s.requestTunnel();
    await s.run(15 * SECOND);
    expect(s.ev(ESME, 'app-drop').map((e) => e.reason)).toEqual(['unexpected-alert-response']);
    s.o.answer = 0x01;
    await s.run(30 * SECOND);
    expect(
      s
        .ev(ESME, 'alert-unconfirmed')
        .slice(3)
        .map((e) => e.reason),
    ).toEqual(['timeout', 'status-0x01']);
    expect(s.esme.node.securityLog.pendingAlerts()[0]).toEqual(head);
    expect(s.ev(ESME, 'alert-sent')).toEqual([]);

    // SUCCESS at the next retry (60 s): the whole queue goes, the head first, each once confirmed.
    s.o.answer = 0x00;
    await s.run(70 * SECOND);
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual([]);
    const sent = s.ev(ESME, 'alert-sent');
    expect(sent[0]!.code).toBe(head.code);
    // Every copy the CH got of the head is the same alert (code and event time).
    const copies = s.tunnelled.filter((a) => a.code === head.code && a.eventTime === zclUtcNow(head.t));
    expect(copies.length).toBe(6);
    expect(s.otherTunnelled).toEqual([]);
    expect(s.crashes()).toEqual([]);
  });
});
