/**
 * Device alerts end to end on the real stack and the real in-process bus: the meters' alerts
 * wait in their NVM while there is no CH, reach the CH once there is a path (the ESME's
 * GB-HGRP tunnel, the GSME's check-in with the GPF), the CH traces each (`device-alert`) and
 * passes it to the DCC (`wan-alert`), or keeps it in its NVM while the WAN is down. Frames
 * that are not good alerts from logged devices are dropped with a reason.
 *
 * Cross-package on purpose (it imports @gbhan/meter in a test only), as commissioning.test.ts.
 */
import { MINUTE, SECOND } from '@gbhan/clock';
import { Esme, Gsme } from '@gbhan/meter';
import {
  BusRadio,
  type BusTraceEvent,
  buildPcap,
  type CapturedFrame,
  InProcessTransport,
  LINKTYPE_IEEE802_15_4_WITHFCS,
  RadioBus,
} from '@gbhan/radio-bus';
import {
  EVENT_CONTROL_REPORT_TO_WAN,
  EVENTS_CLUSTER,
  encodeDeviceAlert,
  encodeTunnelledZcl,
  GbAlertCode,
  KeyExportRegistry,
  MemoryNvStore,
  ZigbeeNode,
  zclUtcNow,
} from '@gbhan/stack';
import { appendInstallCodeCrc, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { malformedCount, tempFile, tsharkFields } from '../../../test/support/tshark.js';
import { CommsHub } from '../src/index.js';

const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const GSME = '00124b0000065e5e';
const STRANGER = '00124b0000dead01';
const TAMPER = GbAlertCode.tamper;

function installCode(eui64: string): string {
  const code = new Uint8Array(16);
  for (let i = 0; i < 16; i++)
    code[i] = (parseInt(eui64.slice((i % 8) * 2, (i % 8) * 2 + 2), 16) + i * 13) & 0xff;
  return toHex(appendInstallCodeCrc(code));
}

const channels = [{ page: 0, channel: 15 }];

async function setup(seed: string, o: { chOn: boolean; stranger?: boolean }) {
  const bus = new RadioBus({ seed: 3 });
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
      channel: 15,
      position: { x, y: 0 },
    });
  const hub = new CommsHub({
    radio: await radio(CH, 0),
    nvm: new MemoryNvStore(),
    seed,
    onKeyExport: keys.record,
    autoPowerOn: o.chOn,
    config: {
      cbkeTiming: 'as-fast-as-computed',
      panId: 0x1a62,
      channels,
      deviceLog: [
        { eui64: ESME, deviceType: 'ESME', installCode: installCode(ESME) },
        { eui64: GSME, deviceType: 'GSME', installCode: installCode(GSME) },
        ...(o.stranger ? [{ eui64: STRANGER, deviceType: 'GSME', installCode: installCode(STRANGER) }] : []),
      ],
    },
  });
  const meter = { channels, joinRetryUs: 10 * SECOND, cbkeTiming: 'as-fast-as-computed' as const };
  const esme = new Esme({
    radio: await radio(ESME, 3),
    nvm: new MemoryNvStore(),
    seed,
    onKeyExport: keys.record,
    config: { ...meter, chEui64: CH, installCode: installCode(ESME), loadW: 1000 },
  });
  const gsme = new Gsme({
    radio: await radio(GSME, 5),
    nvm: new MemoryNvStore(),
    seed,
    onKeyExport: keys.record,
    config: {
      ...meter,
      chEui64: CH,
      installCode: installCode(GSME),
      reportPeriodUs: 2 * MINUTE,
      pollPeriodUs: 2 * SECOND,
    },
  });
  const events = (radioId: string, type: string) =>
    trace
      .filter((e): e is Extract<BusTraceEvent, { type: 'device' }> => e.type === 'device')
      .filter((e) => e.radio === radioId && e.event.type === type)
      .map((e): Record<string, unknown> & { t: number } => ({ ...e.event, t: e.t }));
  const crashes = () =>
    trace.filter(
      (e) => e.type === 'device' && (e.event as { reason?: unknown }).reason === 'unexpected-error',
    );
  const run = async (us: number) => {
    await new Promise((r) => setImmediate(r));
    await bus.runUntil(bus.time + us);
  };
  return { bus, hub, esme, gsme, events, crashes, run, frames, keys, radio };
}

/** Reset HAN while locked: the meter logs a tamper event and attempts its alert. */
function tamper(m: Esme | Gsme): void {
  expect(m.triage.optical.handle({ command: 'reset-han' })).toMatchObject({
    ok: false,
    code: 'OPTICAL_LOCKED',
  });
}

const tampers = <A extends { code: number }>(alerts: A[]) => alerts.filter((a) => a.code === TAMPER);

describe('device alerts from the meters to the DCC', () => {
  it('wait in the meters while there is no CH (across a power cycle), then go through the tunnel and the GPF to the WAN', async () => {
    const s = await setup('alerts-hub-1', { chOn: false });
    await s.run(5 * SECOND);
    tamper(s.esme);
    tamper(s.gsme);
    await s.run(MINUTE);
    // No CH: nothing sent, the alerts wait in NVM, and survive a power cycle.
    for (const m of [s.esme, s.gsme]) {
      m.runtime.powerOff();
      m.runtime.start();
    }
    await s.run(5 * SECOND);
    for (const m of [s.esme, s.gsme]) expect(tampers(m.node.securityLog.pendingAlerts())).toHaveLength(1);
    expect([...s.events(ESME, 'alert-sent'), ...s.events(GSME, 'alert-sent')]).toEqual([]);

    const chOnAt = s.bus.time;
    void s.hub.powerOn();
    await s.run(4 * MINUTE);
    expect(s.esme.node.joined && s.gsme.node.joined).toBe(true);
    // Delivered and gone from the meters' queues.
    for (const m of [s.esme, s.gsme]) expect(m.node.securityLog.pendingAlerts()).toEqual([]);
    const tunnelAt = s.events(CH, 'tunnel-established').find((e) => e.peer === ESME)!.t;
    const esmeSent = s.events(ESME, 'alert-sent').filter((e) => e.code === TAMPER);
    expect(esmeSent).toHaveLength(1);
    expect(esmeSent[0]!.t).toBeGreaterThan(tunnelAt);
    const gsmeCbke = s.events(GSME, 'cbke-established')[0]!.t;
    expect(s.events(GSME, 'alert-sent').filter((e) => e.code === TAMPER)[0]!.t).toBeGreaterThanOrEqual(
      gsmeCbke,
    );

    // The CH traced each with its origin and the time of the event, and passed it to the DCC.
    const attemptAt = (m: Esme | Gsme) =>
      m.node.securityLog.entries().find((e) => e.event === 'reset-han-attempt')!.t;
    const received = s.events(CH, 'device-alert').filter((e) => e.code === TAMPER);
    expect(received.map(({ from, codeHex, via, logId }) => ({ from, codeHex, via, logId }))).toEqual([
      { from: ESME, codeHex: '0x8F3F', via: 'tunnel', logId: 1 },
      { from: GSME, codeHex: '0x8F3F', via: 'gpf', logId: 1 },
    ]);
    expect(received.map((e) => e.eventTimeUs)).toEqual([
      Math.floor(attemptAt(s.esme) / SECOND) * SECOND,
      Math.floor(attemptAt(s.gsme) / SECOND) * SECOND,
    ]);
    for (const e of received) expect(e.t).toBeGreaterThan(chOnAt);
    const wan = s.events(CH, 'wan-alert').filter((e) => e.code === TAMPER);
    expect(wan.map((e) => e.from)).toEqual([ESME, GSME]);
    expect(s.hub.node.securityLog.pendingAlerts()).toEqual([]);
    // Every alert a meter sent arrived at the CH once.
    for (const eui of [ESME, GSME])
      expect(
        s
          .events(CH, 'device-alert')
          .filter((e) => e.from === eui)
          .map((e) => e.code),
      ).toEqual(s.events(eui, 'alert-sent').map((e) => e.code));

    // Wireshark reads the GSME's alert (APS-secured on the air) as an Events Publish Event.
    const pcap = tempFile('device-alerts.pcap', buildPcap(LINKTYPE_IEEE802_15_4_WITHFCS, s.frames));
    const keyArgs = s.keys.tsharkOptions();
    const rows = tsharkFields(
      pcap,
      [
        'zbee_zcl_se.events.publish_event.event_id',
        'zbee_zcl_se.events.publish_event.log_id',
        'zbee_zcl_se.events.publish_event.event_control',
      ],
      [...keyArgs, '-Y', 'zbee_zcl_se.events.publish_event.event_id == 0x8f3f'],
    );
    expect(rows).toEqual([['0x8f3f', '0x01', '0x02']]);
    expect(malformedCount(pcap, keyArgs)).toBe(0);
    expect(s.crashes()).toEqual([]);
  });

  it('the CH keeps relayed alerts in its NVM while the WAN is down and sends them when it comes up', async () => {
    const s = await setup('alerts-hub-2', { chOn: true });
    s.hub.control({ action: 'wan-down' });
    await s.run(3 * MINUTE);
    expect(s.hub.app?.tunnels.state(ESME)).toBe('open');
    tamper(s.esme);
    await s.run(10 * SECOND);
    // Received and traced, not sent: it waits with the CH's own alerts.
    expect(s.events(CH, 'device-alert').filter((e) => e.code === TAMPER && e.from === ESME)).toHaveLength(1);
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual([]);
    expect(s.events(CH, 'wan-alert')).toEqual([]);
    const waiting = tampers(s.hub.node.securityLog.pendingAlerts());
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.detail).toMatchObject({ from: ESME, via: 'tunnel' });
    // The relayed alert is no entry of the CH's own security log.
    expect(s.hub.node.securityLog.entries().some((e) => e.alertCode === TAMPER)).toBe(false);

    const upAt = s.bus.time;
    s.hub.control({ action: 'wan-up' });
    await s.run(SECOND);
    const sent = s.events(CH, 'wan-alert').filter((e) => e.code === TAMPER);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ from: ESME, codeHex: '0x8F3F', detail: { from: ESME, via: 'tunnel' } });
    expect(sent[0]!.t).toBeGreaterThanOrEqual(upAt);
    expect(s.hub.node.securityLog.pendingAlerts()).toEqual([]);
    expect(s.crashes()).toEqual([]);
  });

  it('drops alerts from a device not in the Device Log, outside the path of their type, unsecured or malformed, with a reason', async () => {
    const s = await setup('alerts-hub-3', { chOn: true, stranger: true });
    // A sleepy device that polls rarely: removed from the Device Log, it does not hear the
    // CH's Leave in time and still holds the network key.
    const stranger = new ZigbeeNode(await s.radio(STRANGER, 2), new MemoryNvStore(), {
      role: 'sleepy-end-device',
      seed: 'alerts-hub-3',
      installCode: installCode(STRANGER),
      extendedPanId: CH,
      channels,
      pollPeriodUs: 10 * MINUTE,
    });
    void stranger.powerOn();
    await s.run(SECOND);
    const joined = stranger.join();
    await s.run(3 * MINUTE);
    expect(await joined).toBe('joined');
    expect(s.hub.app?.tunnels.state(ESME)).toBe('open');
    expect(s.gsme.app?.commissioned).toBe(true);
    const before = s.events(CH, 'device-alert').length;

    const good = (tsn: number) =>
      encodeDeviceAlert({
        tsn,
        logId: 1,
        code: TAMPER,
        eventTime: zclUtcNow(s.bus.time),
        eventControl: EVENT_CONTROL_REPORT_TO_WAN,
      });
    const sends: Promise<unknown>[] = [];
    // Not in the Device Log (any more).
    s.hub.dcc({ kind: 'update-device-log', op: 'remove', eui64: STRANGER });
    await s.run(10 * SECOND);
    sends.push(stranger.sendZcl({ eui64: CH }, { clusterId: EVENTS_CLUSTER, zcl: good(1), security: 'nwk' }));
    // Through the ESME's tunnel: truncated, a wrong command, trailing octets, a bare envelope.
    const esmeApp = s.esme.app!;
    const viaTunnel = (zcl: Uint8Array) =>
      sends.push(esmeApp.tunnel.sendToClient(CH, encodeTunnelledZcl({ clusterId: EVENTS_CLUSTER, zcl })));
    viaTunnel(good(2).slice(0, 8));
    viaTunnel(Uint8Array.of(0x19, 3, 0x01, ...good(3).slice(3)));
    viaTunnel(Uint8Array.of(...good(4), 0x00));
    sends.push(esmeApp.tunnel.sendToClient(CH, Uint8Array.of(0x09, 0x07)));
    // An ESME's alert outside its tunnel; the GSME's unsecured, then malformed.
    sends.push(
      s.esme.node.sendZcl({ eui64: CH }, { clusterId: EVENTS_CLUSTER, zcl: good(5), security: 'aps-link' }),
    );
    sends.push(
      s.gsme.node.sendZcl({ eui64: CH }, { clusterId: EVENTS_CLUSTER, zcl: good(6), security: 'nwk' }),
    );
    sends.push(
      s.gsme.node.sendZcl(
        { eui64: CH },
        {
          clusterId: EVENTS_CLUSTER,
          zcl: Uint8Array.of(0x11, 7, 0x00, ...good(7).slice(3)),
          security: 'aps-link',
        },
      ),
    );
    await s.run(20 * SECOND);
    await Promise.all(sends);

    const drops = s
      .events(CH, 'app-drop')
      .filter((e) => e.clusterId === EVENTS_CLUSTER || e.from === STRANGER);
    // Each with its reason (the order the frames crossed the air is not the point).
    const summary = drops.map((e) => [e.from, e.reason, String(e.detail ?? '').split(' ')[0]]).sort();
    expect(summary).toEqual(
      [
        [STRANGER, 'not-in-device-log', ''],
        [ESME, 'malformed-device-alert', 'DEVICE_ALERT_TRUNCATED'],
        [ESME, 'malformed-device-alert', 'DEVICE_ALERT_WRONG_COMMAND'],
        [ESME, 'malformed-device-alert', 'DEVICE_ALERT_TRAILING_OCTETS'],
        [ESME, 'malformed-device-alert', 'DEVICE_ALERT_TRUNCATED'],
        [ESME, 'device-alert-outside-tunnel', 'ESME'],
        [GSME, 'device-alert-not-aps-secured', ''],
        [GSME, 'malformed-device-alert', 'DEVICE_ALERT_WRONG_COMMAND'],
      ].sort(),
    );
    expect(s.events(CH, 'device-log-refused').some((e) => e.eui64 === STRANGER)).toBe(true);
    // None of them became an alert for the DCC, and nothing crashed.
    expect(s.events(CH, 'device-alert').length).toBe(before);
    expect(s.hub.node.securityLog.pendingAlerts().filter((a) => a.detail?.from !== undefined)).toEqual([]);
    expect(s.crashes()).toEqual([]);
  });
});
