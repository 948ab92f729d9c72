/**
 * Device alerts end to end on the real stack and the real in-process bus: the meters' alerts
 * wait in their NVM while there is no CH, reach the CH once there is a path (the ESME's
 * GB-HGRP tunnel, the GSME's check-in with the GPF), the CH traces each (`device-alert`),
 * keeps it in NVM and passes it to the DCC (`wan-alert`, or later while the WAN is down), and
 * answers it with a Default Response: only that takes it off the meter's queue. A CH that
 * power-cycled and drops an alert on a stale tunnel, a lost answer, a CH that could not store
 * the alert: the alert stays with the meter, goes again, and reaches the DCC exactly once.
 * Frames that are not good alerts from logged devices are dropped with a reason (and answered
 * with an error status where they can be).
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
  ALERT_CONFIRM_TIMEOUT_US,
  ALERT_RETRY_FIRST_US,
  EVENT_CONTROL_REPORT_TO_WAN,
  EVENTS_CLUSTER,
  encodeDeviceAlert,
  encodeTunnelledZcl,
  zclUtcNow,
} from '@gbhan/runtime';
import { GbAlertCode, KeyExportRegistry, MemoryNvStore, ZigbeeNode } from '@gbhan/stack';
import { malformedCount, tempFile, tsharkFields } from '@gbhan/testing';
import { appendInstallCodeCrc, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
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

async function setup(seed: string, o: { chOn: boolean; stranger?: boolean; gsmePollUs?: number }) {
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
  const hubNvm = new MemoryNvStore();
  const hub = new CommsHub({
    radio: await radio(CH, 0),
    nvm: hubNvm,
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
      pollPeriodUs: o.gsmePollUs ?? 2 * SECOND,
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
  /** Jam the ESME's receiver only (at its position, heard by nothing farther than 1 m) for `us`. */
  const jamEsme = (fromUs: number, us: number) =>
    bus.addJammer({
      band: '2.4GHz',
      page: 0,
      channel: 15,
      position: { x: 3, y: 0 },
      txPowerDbm: -58,
      startUs: fromUs,
      endUs: fromUs + us,
    });
  return { bus, hub, hubNvm, esme, gsme, events, crashes, run, frames, keys, radio, jamEsme, trace };
}

/** Reset HAN while locked: the meter logs a tamper event and attempts its alert. */
function tamper(m: Esme | Gsme): void {
  expect(m.triage.optical.handle({ command: 'reset-han' })).toMatchObject({
    ok: false,
    code: 'OPTICAL_LOCKED',
  });
}

const tampers = <A extends object>(alerts: A[]) =>
  alerts.filter((a) => (a as { code?: unknown }).code === TAMPER);

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
    // Every alert a meter sent arrived at the CH once, and left the meter's queue only after
    // the CH had it (its Default Response came back); nothing went unconfirmed.
    for (const eui of [ESME, GSME]) {
      const atCh = s.events(CH, 'device-alert').filter((e) => e.from === eui);
      const sent = s.events(eui, 'alert-sent');
      expect(atCh.map((e) => e.code)).toEqual(sent.map((e) => e.code));
      for (const [i, e] of sent.entries()) expect(e.t).toBeGreaterThan(atCh[i]!.t);
      expect(s.events(eui, 'alert-unconfirmed')).toEqual([]);
    }
    expect(s.events(CH, 'device-alert-duplicate')).toEqual([]);

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
    // ... with the default response enabled, and the CH's Default Response to each of the
    // GSME's alerts: global command 0x0B, client to server, answering command 0x00 with
    // SUCCESS under the alert's TSN (the ESME's travel inside the tunnel's TransferData).
    const fields = [
      'zbee_zcl.cmd.tsn',
      'zbee_zcl.ddr',
      'zbee_zcl.dir',
      'zbee_zcl.cmd.id.rsp',
      'zbee_zcl.attr.status',
    ];
    const alerts = tsharkFields(pcap, fields, [
      ...keyArgs,
      '-Y',
      'zbee_zcl_se.events.publish_event.event_id',
    ]);
    const answers = tsharkFields(pcap, fields, [
      ...keyArgs,
      '-Y',
      'zbee_aps.cluster == 0x0709 && zbee_zcl.cmd.id == 0x0b',
    ]);
    expect(alerts.length).toBe(s.events(GSME, 'alert-sent').length);
    expect(alerts.map(([, ddr, dir]) => [ddr, dir])).toEqual(alerts.map(() => ['0', '1']));
    expect(answers).toEqual(alerts.map(([tsn]) => [tsn, '1', '0', '0x00', '0x00']));
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
    const from = s.bus.time;
    sends.push(stranger.sendZcl({ eui64: CH }, { clusterId: EVENTS_CLUSTER, zcl: good(1), security: 'nwk' }));
    // Through the ESME's tunnel: truncated, a wrong command, trailing octets, a bare envelope.
    const esmeApp = s.esme.app!;
    const viaTunnel = (zcl: Uint8Array) =>
      sends.push(esmeApp.tunnel.sendToClient(CH, encodeTunnelledZcl({ clusterId: EVENTS_CLUSTER, zcl })));
    viaTunnel(good(2).slice(0, 8));
    viaTunnel(Uint8Array.of(0x19, 3, 0x01, ...good(3).slice(3)));
    viaTunnel(Uint8Array.of(...good(4), 0x00));
    sends.push(esmeApp.tunnel.sendToClient(CH, Uint8Array.of(0x09, 0x07)));
    // An ESME's alert outside its tunnel; the GSME's unsecured, then malformed (one at a time:
    // the CH's answers share the air with them).
    sends.push(
      s.esme.node.sendZcl({ eui64: CH }, { clusterId: EVENTS_CLUSTER, zcl: good(5), security: 'aps-link' }),
    );
    await s.run(10 * SECOND);
    sends.push(
      s.gsme.node.sendZcl({ eui64: CH }, { clusterId: EVENTS_CLUSTER, zcl: good(6), security: 'nwk' }),
    );
    await s.run(5 * SECOND);
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
    await s.run(10 * SECOND);
    expect(
      (await Promise.all(sends)).map((r) => (typeof r === 'boolean' ? r : (r as { status: string }).status)),
    ).toEqual(['sent', true, true, true, true, 'sent', 'sent', 'sent']);

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
    // The CH answered what it could read a header of: through the tunnel MALFORMED_COMMAND
    // (0x80) for the truncated and the overlong one, UNSUP_CLUSTER_COMMAND for the wrong
    // command (a Default Response to command 0x01, which the ESME refuses to read as an
    // alert's answer), nothing for the bare envelope (no TSN to answer); the ESME, waiting for
    // none of them, traced each and answered none.
    expect(
      s
        .events(ESME, 'app-drop')
        .filter((e) => e.t >= from && e.via === 'tunnel')
        .map((e) => `${e.reason} ${e.detail}`)
        .sort(),
    ).toEqual([
      'malformed-alert-response DEVICE_ALERT_WRONG_COMMAND commandId: answers command 0x01, not Publish Event',
      'unexpected-alert-response tsn 2 status 0x80',
      'unexpected-alert-response tsn 4 status 0x80',
    ]);
    expect(s.events(ESME, 'tunnel-data-out').filter((e) => e.t >= from)).toHaveLength(4);
    // Straight: NOT_AUTHORIZED (0x7E) for the alert outside the tunnel and the unsecured one,
    // UNSUP_CLUSTER_COMMAND for the client-to-server frame (Wireshark's reading, with the keys).
    const pcap = tempFile('device-alert-drops.pcap', buildPcap(LINKTYPE_IEEE802_15_4_WITHFCS, s.frames));
    const keyArgs = s.keys.tsharkOptions();
    const answers = tsharkFields(
      pcap,
      ['frame.time_relative', 'zbee_zcl.cmd.tsn', 'zbee_zcl.cmd.id.rsp', 'zbee_zcl.attr.status'],
      [...keyArgs, '-Y', 'zbee_aps.cluster == 0x0709 && zbee_zcl.cmd.id == 0x0b'],
    );
    expect(answers.filter(([t]) => Number(t) * SECOND >= from).map((r) => r.slice(1))).toEqual([
      ['5', '0x00', '0x7e'],
      ['6', '0x00', '0x7e'],
      ['7', '0x00', '0x81'],
    ]);
    // The one frame Wireshark calls malformed is the test's client-to-server one (not a Get
    // Event Log); every answer of the CH is well-formed.
    expect(
      tsharkFields(
        pcap,
        ['zbee_zcl.cmd.tsn', 'zbee_zcl.dir', 'zbee_zcl.type', 'zbee_aps.cluster'],
        [...keyArgs, '-Y', '_ws.malformed'],
      ),
    ).toEqual([['7', '0', '0x01', '0x0709']]);
    // None of them became an alert for the DCC, and nothing crashed.
    expect(s.events(CH, 'device-alert').length).toBe(before);
    expect(s.hub.node.securityLog.pendingAlerts().filter((a) => a.detail?.from !== undefined)).toEqual([]);
    expect(s.crashes()).toEqual([]);
  });

  it('a CH that power-cycled drops an alert sent on its stale tunnel: not confirmed, it stays queued and goes once through the new tunnel', async () => {
    const s = await setup('alerts-hub-4', { chOn: true });
    await s.run(3 * MINUTE);
    expect(s.hub.app?.tunnels.state(ESME)).toBe('open');
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual([]);
    const staleTunnel = s.esme.app!.tunnel.tunnelOf(CH);

    // The CH power-cycles; its power-on RequestTunnel does not reach the meter (the meter's
    // receiver is jammed for 2 s), so the meter still holds the old tunnel when it raises a
    // tamper alert: the CH's radio acknowledges it, the CHF knows no such tunnel.
    s.hub.powerOff();
    await s.run(SECOND);
    const onAt = s.bus.time;
    s.jamEsme(onAt, 2 * SECOND);
    void s.hub.powerOn();
    await s.run(3 * SECOND);
    expect(s.events(CH, 'tunnel-request-failed').filter((e) => e.t >= onAt && e.peer === ESME)).toHaveLength(
      1,
    );
    expect(s.esme.app!.tunnel.tunnelOf(CH)).toBe(staleTunnel);
    tamper(s.esme);
    await s.run(MINUTE);

    // Dropped by the CHF (before this change: lost), and not confirmed: the CH's
    // TransferDataError for the stale tunnel ends the wait at once; the CH asks for a tunnel
    // on that frame and the alert goes through the new one.
    const dropped = s
      .events(CH, 'app-drop')
      .filter((e) => e.t >= onAt && e.reason === 'transfer-data-unknown-tunnel');
    expect(dropped.map((e) => e.from)).toEqual([ESME]);
    expect(s.events(ESME, 'tunnel-data-error').map((e) => e.tunnelId)).toEqual([staleTunnel]);
    expect(s.esme.app!.tunnel.tunnelOf(CH)).not.toBe(staleTunnel);
    expect(s.events(ESME, 'alert-unconfirmed').map((e) => [e.codeHex, e.reason])).toEqual([
      ['0x8F3F', 'transfer-data-error-0x00'],
    ]);
    const reopened = s.events(CH, 'tunnel-established').filter((e) => e.t >= onAt);
    expect(reopened).toHaveLength(1);
    const sent = tampers(s.events(ESME, 'alert-sent'));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.t).toBeGreaterThan(reopened[0]!.t);
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual([]);
    // Exactly once at the CH and to the DCC.
    expect(tampers(s.events(CH, 'device-alert'))).toHaveLength(1);
    expect(tampers(s.events(CH, 'wan-alert')).map((e) => e.from)).toEqual([ESME]);
    expect(s.events(CH, 'device-alert-duplicate')).toEqual([]);
    expect(s.crashes()).toEqual([]);
  });

  it('a lost confirmation makes the meter send the alert again: the CH answers SUCCESS again and does not relay it twice, also across a CH power cycle (the record is in NVM)', async () => {
    const s = await setup('alerts-hub-5', { chOn: true });
    await s.run(3 * MINUTE);
    expect(s.hub.app?.tunnels.state(ESME)).toBe('open');
    // Once the CH has the next tamper alert (and its radio acknowledged it), the meter's
    // receiver is jammed from the CH's next data frame on: its answer through the tunnel does
    // not arrive.
    let armed: 'no' | 'yes' | 'done' = 'no';
    s.bus.onTrace((e) => {
      if (armed === 'no' && e.type === 'device' && e.radio === CH && e.event.type === 'device-alert')
        armed = e.event.code === TAMPER ? 'yes' : 'no';
      else if (armed === 'yes' && e.type === 'tx' && e.radio === CH && e.bytes > 5) {
        armed = 'done';
        s.jamEsme(e.t, 500_000);
      }
    });
    tamper(s.esme);
    await s.run(5 * SECOND);
    expect(tampers(s.events(CH, 'device-alert'))).toHaveLength(1);
    expect(tampers(s.events(CH, 'wan-alert'))).toHaveLength(1);
    expect(
      s.events(CH, 'send-failed').filter((e) => e.what === 'transfer-data' && e.to === ESME),
    ).toHaveLength(1);
    expect(tampers(s.esme.node.securityLog.pendingAlerts())).toHaveLength(1);

    // Timeout, then the retry 30 s later: the same alert (code, event time) again.
    await s.run(MINUTE);
    const unconfirmed = s.events(ESME, 'alert-unconfirmed');
    expect(unconfirmed.map((e) => [e.reason, e.retryInUs])).toEqual([['timeout', ALERT_RETRY_FIRST_US]]);
    const first = tampers(s.events(CH, 'device-alert'))[0]!;
    const again = s.events(CH, 'device-alert-duplicate');
    expect(again.map(({ from, codeHex, eventTimeUs, via }) => ({ from, codeHex, eventTimeUs, via }))).toEqual(
      [{ from: ESME, codeHex: '0x8F3F', eventTimeUs: first.eventTimeUs, via: 'tunnel' }],
    );
    expect(again[0]!.t - first.t).toBeGreaterThanOrEqual(ALERT_CONFIRM_TIMEOUT_US + ALERT_RETRY_FIRST_US);
    expect(tampers(s.events(ESME, 'alert-sent'))).toHaveLength(1);
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual([]);
    expect(tampers(s.events(CH, 'device-alert'))).toHaveLength(1);
    expect(tampers(s.events(CH, 'wan-alert'))).toHaveLength(1);

    // The CH stores the next alert and loses power before its answer is on the air: the
    // re-send after its power-on is recognised from NVM.
    let cuts = 0;
    s.bus.onTrace((e) => {
      if (e.type !== 'device' || e.radio !== CH || e.event.type !== 'device-alert') return;
      if (e.event.code === TAMPER && cuts++ === 0) s.bus.schedule(e.t, () => s.hub.powerOff());
    });
    const before = s.events(CH, 'device-alert').length;
    tamper(s.esme);
    await s.run(5 * SECOND);
    expect(s.hub.app).toBeNull();
    expect(s.events(CH, 'device-alert').length).toBe(before + 1);
    expect(tampers(s.events(CH, 'wan-alert'))).toHaveLength(2);
    void s.hub.powerOn();
    await s.run(2 * MINUTE);
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual([]);
    expect(tampers(s.events(ESME, 'alert-sent'))).toHaveLength(2);
    expect(s.events(CH, 'device-alert-duplicate')).toHaveLength(2);
    expect(tampers(s.events(CH, 'device-alert'))).toHaveLength(2);
    expect(tampers(s.events(CH, 'wan-alert'))).toHaveLength(2);
    expect(s.hub.node.securityLog.pendingAlerts()).toEqual([]);
    expect(s.crashes()).toEqual([]);
  });

  it('a CH that cannot store an alert answers FAILURE: the meter keeps it and the retry delivers it once', async () => {
    const s = await setup('alerts-hub-6', { chOn: true });
    await s.run(3 * MINUTE);
    expect(s.hub.app?.tunnels.state(ESME)).toBe('open');
    // The CH's next NVM write (the alert's) fails, as at a power cut in the middle of it.
    s.hubNvm.failNextCommit = true;
    tamper(s.esme);
    await s.run(5 * SECOND);
    const notStored = s.events(CH, 'app-drop').filter((e) => e.reason === 'device-alert-not-stored');
    expect(notStored.map((e) => [e.from, e.codeHex])).toEqual([[ESME, '0x8F3F']]);
    expect(s.events(ESME, 'alert-unconfirmed').map((e) => e.reason)).toEqual(['status-0x01']);
    expect(tampers(s.esme.node.securityLog.pendingAlerts())).toHaveLength(1);
    expect(tampers(s.events(CH, 'wan-alert'))).toEqual([]);
    await s.run(MINUTE);
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual([]);
    // Received twice, kept once, relayed once (not a duplicate: the first was never stored).
    expect(tampers(s.events(CH, 'device-alert'))).toHaveLength(2);
    expect(s.events(CH, 'device-alert-duplicate')).toEqual([]);
    expect(tampers(s.events(CH, 'wan-alert'))).toHaveLength(1);
    expect(s.crashes()).toEqual([]);
  });

  it("a sleepy GSME gets the CH's answer at its next (fast) poll, long before its poll period", async () => {
    const s = await setup('alerts-hub-7', { chOn: true, gsmePollUs: 7_500_000 });
    await s.run(4 * MINUTE);
    expect(s.gsme.app?.commissioned).toBe(true);
    expect(s.gsme.node.securityLog.pendingAlerts()).toEqual([]);
    const from = s.bus.time;
    tamper(s.gsme);
    await s.run(20 * SECOND);
    const atCh = tampers(s.events(CH, 'device-alert')).filter((e) => e.from === GSME);
    const sent = tampers(s.events(GSME, 'alert-sent'));
    expect(atCh).toHaveLength(1);
    expect(sent).toHaveLength(1);
    // The answer waited in the CH's indirect queue and came with a 250 ms fast poll, not the
    // 7.5 s poll period; the GSME's receiver was off between polls.
    expect(sent[0]!.t - atCh[0]!.t).toBeLessThan(SECOND);
    expect(sent[0]!.t).toBeGreaterThan(atCh[0]!.t);
    expect(s.events(GSME, 'alert-unconfirmed')).toEqual([]);
    expect(s.events(CH, 'mac-indirect-expired').filter((e) => e.t >= from)).toEqual([]);
    expect(tampers(s.events(CH, 'wan-alert')).map((e) => e.from)).toEqual([GSME]);
    expect(s.crashes()).toEqual([]);
  });

  it('an ESME that power-cycled lost its end of the tunnel: the CH asks again when it rejoins, so its alert goes at once', async () => {
    const s = await setup('alerts-hub-8', { chOn: true });
    await s.run(3 * MINUTE);
    expect(s.hub.app?.tunnels.state(ESME)).toBe('open');
    s.esme.runtime.powerOff();
    await s.run(5 * SECOND);
    const onAt = s.bus.time;
    void s.esme.runtime.powerOn();
    await s.run(5 * SECOND);
    tamper(s.esme);
    await s.run(5 * SECOND);
    // The secured rejoin made the CH ask for a new tunnel, not a message it happened to send.
    const asked = s.events(CH, 'tunnel-request-sent').filter((e) => e.t >= onAt);
    expect(asked.map((e) => e.why)).toEqual(['device-rejoined']);
    expect(s.events(CH, 'rejoin-response').filter((e) => e.t >= onAt)).toMatchObject([
      { to: ESME, status: 0 },
    ]);
    // Well before the first retry (30 s): delivered through the new tunnel and confirmed.
    const sent = tampers(s.events(ESME, 'alert-sent')).filter((e) => e.t >= onAt);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.t - onAt).toBeLessThan(ALERT_RETRY_FIRST_US);
    expect(tampers(s.events(CH, 'wan-alert')).map((e) => e.from)).toEqual([ESME]);
    expect(s.esme.node.securityLog.pendingAlerts()).toEqual([]);
    expect(s.crashes()).toEqual([]);
  });
});
