/**
 * Unit tests of the ESME application's rules (which peer may read, Default Responses,
 * malformed frames, tunnel server rules, CBKE start policy) on a recording host: the network
 * adds nothing to them. The ESME on the real stack: packages/comms-hub/test/commissioning.test.ts.
 */
import { type ManualClock, SECOND } from '@gbhan/clock';
import { decodeDeviceAlert, decodeTunnelledZcl, EVENTS_CLUSTER, encodeTunnelledZcl } from '@gbhan/runtime';
import { GbAlertCode } from '@gbhan/stack';
import { cbkeConfig, HostDouble, type Sent } from '@gbhan/testing';
import {
  decodeKeyEstablishment,
  decodeTopUpLog,
  decodeZclFrame,
  encodeDefaultResponse,
  encodeGbHgrpRequestTunnel,
  encodeReadAttributes,
  encodeZclCommand,
  TerminateStatus,
  TUNNELING_CLUSTER,
} from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { EsmeApplication, type EsmeConfig } from '../src/index.js';

/** The CH's Default Response to an alert (client to server, answering Publish Event). */
const alertAnswer = (tsn: number, statusCode: number) =>
  encodeDefaultResponse({ direction: 'clientToServer', tsn, commandId: 0x00, statusCode });

const CH = '00124b0000000001';
const ESME = '00124b0000000002';
const PPMID = '00124b0000000005';
const enc = (s: string) => new TextEncoder().encode(s);

function esme(extra: Partial<EsmeConfig> = {}) {
  const host = new HostDouble(ESME);
  const app = new EsmeApplication(host, {
    chEui64: CH,
    cbke: cbkeConfig(ESME),
    loadW: 1000,
    prepayment: { initialCredit: 1000 },
    ...extra,
  });
  host.onZcl((m) => app.handle(m));
  return { host, app };
}

function only(sent: Sent[]): Sent {
  expect(sent).toHaveLength(1);
  return sent[0]!;
}

describe('EsmeApplication', () => {
  it('answers Metering and Prepayment reads from an APS-secured peer only', () => {
    const { host, app } = esme();
    host.clock.advance(3600 * SECOND);
    host.deliver(
      HostDouble.incoming(PPMID, 0x0702, encodeReadAttributes({ attributeIds: [0, 0x400], tsn: 7 })),
    );
    const r = only(host.take());
    expect(r.frame.security).toBe('aps-link');
    const f = decodeZclFrame(r.frame.zcl, { cluster: 0x0702 });
    expect(f.header.transactionSequenceNumber).toBe(7);
    expect(f.payload).toEqual([
      { attrId: 0, status: 0, dataType: 0x25, attrData: 1000 },
      { attrId: 0x400, status: 0, dataType: 0x2a, attrData: 1000 },
    ]);
    host.deliver(HostDouble.incoming(PPMID, 0x0705, encodeReadAttributes({ attributeIds: [1], tsn: 8 })));
    const c = decodeZclFrame(only(host.take()).frame.zcl, { cluster: 0x0705 });
    expect((c.payload as { attrData: number }[])[0]!.attrData).toBe(975);
    // NWK-only security: refused and traced, nothing sent
    host.deliver(
      HostDouble.incoming(PPMID, 0x0702, encodeReadAttributes({ attributeIds: [0], tsn: 9 }), 'nwk'),
    );
    expect(host.take()).toHaveLength(0);
    expect(host.tracesOf('app-drop').at(-1)).toMatchObject({ reason: 'not-aps-secured' });
    expect(app.register.summation()).toBe(1000);
  });

  it('performs a Consumer Top Up and publishes the top-up log', () => {
    const { host } = esme();
    const topUp = encodeZclCommand({
      cluster: 0x0705,
      command: 'consumerTopUp',
      direction: 'clientToServer',
      payload: { originatingDevice: 2, topUpCode: enc('12345678901234000750') },
      tsn: 3,
    });
    host.deliver(HostDouble.incoming(PPMID, 0x0705, topUp));
    const rsp = decodeZclFrame(only(host.take()).frame.zcl, { cluster: 0x0705 });
    expect(rsp.commandName).toBe('consumerTopUpResponse');
    expect(rsp.payload).toEqual({ resultType: 0, topUpValue: 750, sourceOfTopUp: 2, creditRemaining: 1750 });
    host.deliver(HostDouble.incoming(PPMID, 0x0705, topUp));
    expect(
      (decodeZclFrame(only(host.take()).frame.zcl, { cluster: 0x0705 }).payload as { resultType: number })
        .resultType,
    ).toBe(2);
    const getLog = encodeZclCommand({
      cluster: 0x0705,
      command: 'getTopUpLog',
      direction: 'clientToServer',
      payload: { latestEndTime: 0xffffffff, numberOfRecords: 5 },
      tsn: 4,
    });
    host.deliver(HostDouble.incoming(PPMID, 0x0705, getLog));
    const log = decodeZclFrame(only(host.take()).frame.zcl, { cluster: 0x0705 });
    expect(log.commandName).toBe('publishTopUpLog');
    const records = decodeTopUpLog((log.payload as { topUpPayload: Uint8Array }).topUpPayload);
    expect(records.map((r) => r.topUpAmount)).toEqual([750]);
  });

  it('answers garbage and unknown commands with a Default Response or a traced drop, never a throw', () => {
    const { host } = esme();
    host.deliver(HostDouble.incoming(PPMID, 0x0705, Uint8Array.of(0x01, 0x05, 0x04, 0xff)));
    expect(host.take()).toHaveLength(0);
    expect(host.tracesOf('app-drop').at(-1)?.reason).toMatch(/malformed-zcl/);
    // Get Debt Repayment Log is not served: UNSUP_CLUSTER_COMMAND
    const debt = encodeZclCommand({
      cluster: 0x0705,
      command: 'getDebtRepaymentLog',
      direction: 'clientToServer',
      payload: { latestEndTime: 0, numberOfDebts: 1, debtType: 0 },
      tsn: 5,
    });
    host.deliver(HostDouble.incoming(PPMID, 0x0705, debt));
    const dr = decodeZclFrame(only(host.take()).frame.zcl, { cluster: 0x0705 });
    expect(dr.payload).toEqual({ cmdId: 0x0a, statusCode: 0x81 });
    // Unknown cluster: UNSUP_CLUSTER
    host.deliver(HostDouble.incoming(PPMID, 0x0700, encodeReadAttributes({ attributeIds: [0], tsn: 6 })));
    expect(decodeZclFrame(only(host.take()).frame.zcl, { cluster: 0x0700 }).payload).toEqual({
      cmdId: 0,
      statusCode: 0xc3,
    });
    for (let i = 0; i < 200; i++) {
      const junk = Uint8Array.from({ length: i % 40 }, (_, j) => (i * 31 + j * 17) & 0xff);
      for (const c of [0x0702, 0x0705, 0x0704, 0x0800]) host.deliver(HostDouble.incoming(PPMID, c, junk));
    }
  });

  it('is a GB-HGRP tunnel server for the CHF only, serving clusters through the tunnel', () => {
    const { host, app } = esme();
    host.deliver(HostDouble.incoming(CH, TUNNELING_CLUSTER, encodeGbHgrpRequestTunnel(1)));
    const rsp = decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER });
    expect(rsp.commandName).toBe('requestTunnelRsp');
    expect(rsp.payload).toMatchObject({ status: 0, maxIncomingTransferSize: 1500 });
    const tunnelId = (rsp.payload as { tunnelId: number }).tunnelId;
    expect(app.tunnel.tunnelOf(CH)).toBe(tunnelId);
    const inner = encodeTunnelledZcl({
      clusterId: 0x0702,
      zcl: encodeReadAttributes({ attributeIds: [0], tsn: 11 }),
    });
    const td = encodeZclCommand({
      cluster: TUNNELING_CLUSTER,
      command: 'transferData',
      direction: 'clientToServer',
      payload: { tunnelId, data: inner },
      tsn: 2,
    });
    host.deliver(HostDouble.incoming(CH, TUNNELING_CLUSTER, td));
    const back = decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER });
    expect(back.commandName).toBe('transferData');
    const reply = decodeTunnelledZcl((back.payload as { data: Uint8Array }).data);
    expect(decodeZclFrame(reply.zcl, { cluster: reply.clusterId }).commandName).toBe('readRsp');
    // wrong device, unknown tunnel, no APS security, non-CHF client
    host.deliver(HostDouble.incoming(PPMID, TUNNELING_CLUSTER, td));
    expect(decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER }).payload).toEqual({
      tunnelId,
      status: 1,
    });
    const td9 = encodeZclCommand({
      cluster: TUNNELING_CLUSTER,
      command: 'transferData',
      direction: 'clientToServer',
      payload: { tunnelId: 99, data: inner },
      tsn: 3,
    });
    host.deliver(HostDouble.incoming(CH, TUNNELING_CLUSTER, td9));
    expect(decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER }).payload).toEqual({
      tunnelId: 99,
      status: 0,
    });
    host.deliver(HostDouble.incoming(CH, TUNNELING_CLUSTER, encodeGbHgrpRequestTunnel(4), 'nwk'));
    expect(decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER }).payload).toEqual({
      cmdId: 0,
      statusCode: 0x7e,
    });
    host.deliver(HostDouble.incoming(PPMID, TUNNELING_CLUSTER, encodeGbHgrpRequestTunnel(5)));
    expect(decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER }).payload).toMatchObject(
      { status: 1 },
    );
    const other = encodeZclCommand({
      cluster: TUNNELING_CLUSTER,
      command: 'requestTunnel',
      direction: 'clientToServer',
      payload: { protocolId: 2, manufacturerCode: 0xffff, flowControl: 0, maxIncomingTransferSize: 1500 },
      tsn: 6,
    });
    host.deliver(HostDouble.incoming(CH, TUNNELING_CLUSTER, other));
    expect(decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER }).payload).toMatchObject(
      { status: 3 },
    );
  });

  it("waits for the CH's Default Response to an alert inside the tunnel, answers none, and takes the CH's TransferDataError as a failed alert", async () => {
    const { host, app } = esme();
    const settle = () => new Promise((r) => setImmediate(r));
    host.deliver(HostDouble.incoming(CH, TUNNELING_CLUSTER, encodeGbHgrpRequestTunnel(1)));
    const tunnelId = (
      decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER }).payload as {
        tunnelId: number;
      }
    ).tunnelId;
    const transfer = (zcl: Uint8Array, tsn: number) =>
      encodeZclCommand({
        cluster: TUNNELING_CLUSTER,
        command: 'transferData',
        direction: 'clientToServer',
        payload: { tunnelId, data: encodeTunnelledZcl({ clusterId: EVENTS_CLUSTER, zcl }) },
        tsn,
      });
    const alertTsn = (s: Sent) => {
      const f = decodeZclFrame(s.frame.zcl, { cluster: TUNNELING_CLUSTER });
      const inner = decodeTunnelledZcl((f.payload as { data: Uint8Array }).data);
      return decodeDeviceAlert(inner.zcl).tsn;
    };
    const tamper = { t: 5_000_000, code: GbAlertCode.tamper };

    // Confirmed by SUCCESS under its TSN through the tunnel; nothing goes back for it.
    const first = app.sendAlert(tamper);
    await settle();
    const tsn1 = alertTsn(only(host.take()));
    host.deliver(HostDouble.incoming(CH, TUNNELING_CLUSTER, transfer(alertAnswer(tsn1, 0), 2)));
    expect(await first).toBe(true);
    expect(host.take()).toEqual([]);

    // The CH's TransferDataError (no such tunnel) for that tunnel: unconfirmed at once, the
    // tunnel closed (acknowledged with a Default Response), no alert sent without one.
    const second = app.sendAlert(tamper);
    await settle();
    only(host.take());
    const error = encodeZclCommand({
      cluster: TUNNELING_CLUSTER,
      command: 'transferDataError',
      direction: 'clientToServer',
      payload: { tunnelId, status: 0 },
      tsn: 3,
    });
    host.deliver(HostDouble.incoming(CH, TUNNELING_CLUSTER, error));
    expect(await second).toBe(false);
    expect(decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER }).payload).toEqual({
      cmdId: 0x03,
      statusCode: 0,
    });
    expect(app.tunnel.tunnelOf(CH)).toBeUndefined();
    expect(host.traces.filter((e) => e.type === 'alert-unconfirmed').map((e) => e.reason)).toEqual([
      'transfer-data-error-0x00',
    ]);
    expect(host.traces.find((e) => e.type === 'tunnel-closed')).toMatchObject({
      tunnelId,
      by: 'no-such-tunnel',
    });
    expect(await app.sendAlert(tamper)).toBe(false);
    expect(host.take()).toEqual([]);
  });

  it('starts CBKE with the CH after joining and refuses CBKE initiated by the CH', () => {
    const { host, app } = esme();
    app.onJoined();
    const first = only(host.take());
    expect(first.to.eui64).toBe(CH);
    expect(first.frame.security).toBe('nwk');
    expect(decodeKeyEstablishment(first.frame.zcl).message.command).toBe('InitiateKeyEstablishment');
    host.deliver(HostDouble.incoming(CH, 0x0800, first.frame.zcl, 'nwk'));
    expect(host.take()).toHaveLength(0);
    expect(host.tracesOf('app-drop').at(-1)?.reason).toBe('trust-centre-is-not-initiator');
    // the CH terminates: the initiator backs off, then retries by itself
    const term = new Uint8Array([0x19, 0x01, 0x03, TerminateStatus.NoResources, 30, 0x02, 0x00]);
    host.deliver(HostDouble.incoming(CH, 0x0800, term, 'nwk'));
    expect(host.tracesOf('cbke-failed').at(-1)).toMatchObject({ reason: 'CBKE_TERMINATED_BY_PEER' });
    (host.clock as ManualClock).advance(61 * SECOND);
    expect(decodeKeyEstablishment(only(host.take()).frame.zcl).message.command).toBe(
      'InitiateKeyEstablishment',
    );
  });
});
