/**
 * Unit tests of the CHF application's state machines (Device Log refusals, tunnel retry
 * timings over hours of virtual time, DCC commands, GPF queue) on a recording host: the
 * network adds nothing to these rules. The same application on the real stack:
 * commissioning.test.ts and cbke-real-stack.test.ts.
 */
import { ManualClock, MINUTE, SECOND } from '@gbhan/clock';
import { CbkeService, decodeTunnelledZcl, encodeTunnelledZcl } from '@gbhan/runtime';
import { cbkeConfig, HostDouble, type Sent } from '@gbhan/testing';
import {
  decodeZclFrame,
  encodeReadAttributes,
  encodeZclCommand,
  encodeZclGlobalCommand,
  TUNNELING_CLUSTER,
} from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { CommsHubApplication, TUNNEL_RETRY_US, WanError } from '../src/index.js';

const CH = '00124b0000000001';
const ESME = '00124b0000000002';
const GSME = '00124b0000000003';
const STRANGER = '00124b00000000ff';
const CODE = '83fed3407a939723a5c639b26916d505c3b5';

function hub(clock = new ManualClock()) {
  const host = new HostDouble(CH, clock);
  const security: string[] = [];
  const removed: string[] = [];
  const app = new CommsHubApplication(
    host,
    { cbke: cbkeConfig(CH) },
    {
      alertLog: { record: (e) => void security.push(e), queueAlert: () => {}, flush: async () => {} },
      coordinator: {
        removeChild: async (e) => {
          removed.push(e);
          return 'sent';
        },
      },
    },
  );
  host.onZcl((m) => app.handle(m));
  return { host, app, security, removed };
}

/** Hand every frame sent by `from` to `to` (as NWK/APS-secured as it was sent). */
function pass(from: HostDouble, to: HostDouble): number {
  const sent = from.take();
  for (const s of sent)
    to.deliver(HostDouble.incoming(from.eui64, s.frame.clusterId, s.frame.zcl, s.frame.security));
  return sent.length;
}

function only(sent: Sent[]): Sent {
  expect(sent).toHaveLength(1);
  return sent[0]!;
}

function tunnelRsp(tsn: number, status: number, tunnelId = 7) {
  return encodeZclCommand({
    cluster: TUNNELING_CLUSTER,
    command: 'requestTunnelRsp',
    direction: 'serverToClient',
    payload: { tunnelId, status, maxIncomingTransferSize: 1500 },
    tsn,
  });
}

describe('CHF', () => {
  // CBKE with a logged joiner runs on the real stack: cbke-real-stack.test.ts.
  it('refuses CBKE and any frame from a device not in the Device Log, and security-logs it', () => {
    const { host, app, security } = hub();
    const stranger = new HostDouble(STRANGER, host.clock as ManualClock);
    const ini = new CbkeService({ host: stranger, config: cbkeConfig(STRANGER) });
    ini.start(CH);
    pass(stranger, host);
    host.deliver(HostDouble.incoming(STRANGER, 0x0702, encodeReadAttributes({ attributeIds: [0], tsn: 1 })));
    expect(host.take()).toHaveLength(0);
    expect(host.tracesOf('app-drop').map((t) => t.reason)).toEqual([
      'not-in-device-log',
      'not-in-device-log',
    ]);
    expect(security).toEqual(['refused-not-in-device-log', 'refused-not-in-device-log']);
    expect(app.cbke.state(STRANGER)).toBe('idle');
  });

  it('follows the tunnel retry rules: Busy after 3 min, failure after 0xFFFF s, early on a message', () => {
    const { host, app } = hub();
    const clock = host.clock as ManualClock;
    app.deviceLog.add({ eui64: ESME, deviceType: 'ESME', installCode: CODE });
    app.deviceLog.markCommissioned(ESME);
    app.start(); // power-on
    let req = only(host.take());
    expect(req.frame.security).toBe('aps-link');
    let tsn = decodeZclFrame(req.frame.zcl, { cluster: TUNNELING_CLUSTER }).header.transactionSequenceNumber;
    host.deliver(HostDouble.incoming(ESME, TUNNELING_CLUSTER, tunnelRsp(tsn, 1)));
    expect(app.tunnels.state(ESME)).toBe('waiting-retry');
    clock.advance(3 * MINUTE - 1);
    expect(host.take()).toHaveLength(0);
    clock.advance(1);
    req = only(host.take());
    // no answer: failed after the response timeout, next try after 0xFFFF s
    clock.advance(10 * SECOND);
    expect(app.tunnels.state(ESME)).toBe('waiting-retry');
    clock.advance(TUNNEL_RETRY_US - SECOND);
    expect(host.take()).toHaveLength(0);
    // ...unless the device says something first
    host.deliver(HostDouble.incoming(ESME, 0x0702, encodeReadAttributes({ attributeIds: [0], tsn: 3 })));
    const sent = host.take();
    req = sent.find((s) => s.frame.clusterId === TUNNELING_CLUSTER)!;
    tsn = decodeZclFrame(req.frame.zcl, { cluster: TUNNELING_CLUSTER }).header.transactionSequenceNumber;
    host.deliver(HostDouble.incoming(ESME, TUNNELING_CLUSTER, tunnelRsp(tsn, 0, 9)));
    expect(app.tunnels.tunnelId(ESME)).toBe(9);
    // a stale response is a traced drop
    host.deliver(HostDouble.incoming(ESME, TUNNELING_CLUSTER, tunnelRsp(tsn, 0, 10)));
    expect(host.tracesOf('app-drop').at(-1)?.reason).toBe('unexpected-request-tunnel-response');
  });

  it('carries DCC commands through the tunnel and fails them with a typed error when the WAN is down', () => {
    const { host, app, removed } = hub();
    app.deviceLog.add({ eui64: ESME, deviceType: 'ESME', installCode: CODE });
    app.deviceLog.markCommissioned(ESME);
    expect(() => app.dcc({ kind: 'read-meter', target: ESME })).toThrow(WanError);
    expect(host.tracesOf('wan-command-failed').at(-1)?.code).toBe('WAN_NO_TUNNEL');
    app.start();
    const tsn = decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER }).header
      .transactionSequenceNumber;
    host.deliver(HostDouble.incoming(ESME, TUNNELING_CLUSTER, tunnelRsp(tsn, 0, 4)));
    // (top-ups are GBCS now - gpf-gbcs.test.ts, packages/meter; a register read stays tunnelled ZCL)
    const id = app.dcc({ kind: 'read-meter', target: ESME });
    const td = decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER });
    expect(td.payload).toMatchObject({ tunnelId: 4 });
    const inner = decodeTunnelledZcl((td.payload as { data: Uint8Array }).data);
    const read = decodeZclFrame(inner.zcl, { cluster: inner.clusterId });
    expect(read.commandName).toBe('read');
    // the ESME's answer comes back through the tunnel
    const answer = encodeZclGlobalCommand({
      command: 'readRsp',
      direction: 'serverToClient',
      payload: [{ attrId: 0, status: 0, dataType: 0x25, attrData: 1100 }],
      tsn: read.header.transactionSequenceNumber,
      disableDefaultResponse: true,
    });
    const back = encodeZclCommand({
      cluster: TUNNELING_CLUSTER,
      command: 'transferData',
      direction: 'serverToClient',
      payload: { tunnelId: 4, data: encodeTunnelledZcl({ clusterId: 0x0702, zcl: answer }) },
      tsn: 1,
    });
    host.deliver(HostDouble.incoming(ESME, TUNNELING_CLUSTER, back));
    expect(host.tracesOf('wan-response').at(-1)).toMatchObject({
      requestId: id,
      command: 'readRsp',
      payload: [{ attrData: 1100 }],
    });
    app.wan.setUp(false);
    let err: unknown;
    try {
      app.dcc({ kind: 'read-meter', target: ESME });
    } catch (e) {
      err = e;
    }
    expect((err as WanError).code).toBe('WAN_DOWN');
    app.wan.setUp(true);
    expect(() => app.dcc({ kind: 'read-meter', target: STRANGER })).toThrow(/not in the Device Log/);
    expect(() => app.dcc({ kind: 'nonsense' } as never)).toThrow(WanError);
    app.dcc({ kind: 'update-device-log', op: 'remove', eui64: ESME });
    expect(removed).toEqual([ESME]);
    expect(app.tunnels.state(ESME)).toBe('none');
  });

  it('GPF: mirrors GSME reports and delivers queued frames when the GSME checks in', () => {
    const { host, app } = hub();
    app.deviceLog.add({ eui64: GSME, deviceType: 'GSME', installCode: CODE });
    const report = (litres: number) =>
      encodeZclGlobalCommand({
        command: 'report',
        direction: 'serverToClient',
        payload: [{ attrId: 0, dataType: 0x25, attrData: litres }],
        tsn: 1,
        disableDefaultResponse: true,
      });
    host.deliver(HostDouble.incoming(GSME, 0x0702, report(1234)));
    expect(app.gpf.mirror(GSME)?.summation).toBe(1234);
    const id = app.dcc({ kind: 'read-meter', target: GSME });
    expect(host.tracesOf('wan-response').at(-1)).toMatchObject({
      requestId: id,
      via: 'gpf-mirror',
      payload: { summation: 1234 },
    });
    const live = app.dcc({ kind: 'read-meter', target: GSME, live: true });
    expect(host.take()).toHaveLength(0); // asleep: queued
    expect(app.gpf.queued(GSME)).toBe(1);
    host.deliver(HostDouble.incoming(GSME, 0x0702, report(1300)));
    const delivered = only(host.take());
    expect(delivered.to.eui64).toBe(GSME);
    const read = decodeZclFrame(delivered.frame.zcl, { cluster: 0x0702 });
    const rsp = encodeZclGlobalCommand({
      command: 'readRsp',
      direction: 'serverToClient',
      payload: [{ attrId: 0, status: 0, dataType: 0x25, attrData: 1301 }],
      tsn: read.header.transactionSequenceNumber,
      disableDefaultResponse: true,
    });
    host.deliver(HostDouble.incoming(GSME, 0x0702, rsp));
    expect(host.tracesOf('wan-response').at(-1)).toMatchObject({ requestId: live, via: 'gpf' });
    expect(app.gpf.mirror(GSME)?.summation).toBe(1301);
    // the CH's Metering server is the mirror, for HAN readers
    app.deviceLog.add({ eui64: ESME, deviceType: 'PPMID', installCode: CODE });
    host.deliver(HostDouble.incoming(ESME, 0x0702, encodeReadAttributes({ attributeIds: [0], tsn: 9 })));
    const mirrorRead = decodeZclFrame(
      only(host.take().filter((s) => s.frame.clusterId === 0x0702)).frame.zcl,
      { cluster: 0x0702 },
    );
    expect((mirrorRead.payload as { attrData: number }[])[0]!.attrData).toBe(1301);
    // garbage from a GSME: traced drop
    host.deliver(HostDouble.incoming(GSME, 0x0702, Uint8Array.of(0x18, 1, 0x0a, 0, 0, 0x25, 1)));
    expect(host.tracesOf('app-drop').at(-1)?.reason).toBe('malformed-zcl');
  });
});
