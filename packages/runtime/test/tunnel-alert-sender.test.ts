/**
 * The alert path of a tunnel server (ESME, PPMID) on a recording host, with a real
 * `TunnelServer`: nothing goes without the CH's tunnel, the Publish Event of the alert goes
 * inside it, only the CH's Default Response through the tunnel confirms it, and the CH's
 * TransferDataError or CloseTunnel for that tunnel ends the wait at once (the same frames from
 * another device do not). The ESME on it: packages/meter/test/esme.test.ts; end to end:
 * packages/comms-hub/test/device-alerts.test.ts, packages/ppmid/test/alerts.test.ts.
 */

import { GbAlertCode } from '@gbhan/stack';
import { HostDouble, type Sent } from '@gbhan/testing';
import {
  decodeZclFrame,
  encodeDefaultResponse,
  encodeGbHgrpRequestTunnel,
  encodeZclCommand,
  TransferDataStatus,
  TUNNELING_CLUSTER,
} from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { ALERT_RETRY_FIRST_US } from '../src/alert-confirmation.js';
import {
  alertEventData,
  decodeDeviceAlert,
  EVENT_CONTROL_REPORT_TO_WAN,
  EVENTS_CLUSTER,
  EventLogId,
} from '../src/device-alert.js';
import { TunnelAlertSender } from '../src/tunnel-alert-sender.js';
import { decodeTunnelledZcl, encodeTunnelledZcl, type TunnelledZcl } from '../src/tunnel-envelope.js';
import { TunnelServer } from '../src/tunnel-server.js';
import { zclUtcNow } from '../src/zcl-helpers.js';

const CH = '00124b0000000001';
const OTHER = '00124b0000000009';
const ME = '00124b0000000005';
const TAMPER = { t: 7_250_000, code: GbAlertCode.tamper };

/** The CH's Default Response to an alert (client to server, answering Publish Event). */
const answer = (tsn: number, statusCode: number) =>
  encodeDefaultResponse({ direction: 'clientToServer', tsn, commandId: 0x00, statusCode });

function setup() {
  const host = new HostDouble(ME);
  let retries = 0;
  /** What came through a tunnel and was not an answer to an alert. */
  const served: TunnelledZcl[] = [];
  let tsn = 0;
  // Any device may open a tunnel here, so another one can name the CH's tunnel id.
  const tunnel: TunnelServer = new TunnelServer({
    host,
    acceptClient: () => true,
    onData: (client, data) => {
      const req = decodeTunnelledZcl(data);
      if (!alerts.tunnelled(client, req)) served.push(req);
      return null;
    },
    onDataError: (client, tunnelId, status) => alerts.dataError(client, tunnelId, status),
    onClosed: (client, tunnelId) => alerts.closed(client, tunnelId),
  });
  const alerts = new TunnelAlertSender({ host, tunnel, ch: () => CH, retry: () => retries++ });
  host.onZcl((m) => void tunnel.handle(m));
  const settle = () => new Promise((r) => setImmediate(r));
  const command = (from: string, command: string, payload: Record<string, unknown>) =>
    host.deliver(
      HostDouble.incoming(
        from,
        TUNNELING_CLUSTER,
        encodeZclCommand({
          cluster: TUNNELING_CLUSTER,
          command,
          direction: 'clientToServer',
          payload,
          tsn: ++tsn,
        }),
      ),
    );
  /** `from` opens a tunnel; its id. */
  const open = async (from: string) => {
    host.deliver(HostDouble.incoming(from, TUNNELING_CLUSTER, encodeGbHgrpRequestTunnel(++tsn)));
    await settle();
    const id = tunnel.tunnelOf(from);
    expect(id).toBeDefined();
    host.take();
    return id!;
  };
  /** The one frame sent: a TransferData carrying a Publish Event. */
  const sentAlert = (sent: Sent[]) => {
    expect(sent).toHaveLength(1);
    const s = sent[0]!;
    expect(s.to.eui64).toBe(CH);
    expect(s.frame).toMatchObject({ clusterId: TUNNELING_CLUSTER, security: 'aps-link' });
    const f = decodeZclFrame(s.frame.zcl, { cluster: TUNNELING_CLUSTER });
    expect([f.commandName, f.header.direction]).toEqual(['transferData', 'serverToClient']);
    const p = f.payload as { tunnelId: number; data: Uint8Array };
    const inner = decodeTunnelledZcl(p.data);
    expect(inner.clusterId).toBe(EVENTS_CLUSTER);
    return { tunnelId: p.tunnelId, alert: decodeDeviceAlert(inner.zcl) };
  };
  const unconfirmed = () =>
    host.tracesOf('alert-unconfirmed').map((e) => [e.reason, (e as { retryInUs?: number }).retryInUs]);
  return {
    host,
    tunnel,
    alerts,
    served,
    settle,
    command,
    open,
    sentAlert,
    unconfirmed,
    retries: () => retries,
  };
}

describe('TunnelAlertSender', () => {
  it("sends nothing without the CH's tunnel; through it the alert's Publish Event, confirmed only by the CH's SUCCESS through the tunnel", async () => {
    const s = setup();
    expect(await s.alerts.send(TAMPER)).toBe(false);
    // Another device's tunnel is no path to the CH.
    await s.open(OTHER);
    expect(await s.alerts.send(TAMPER)).toBe(false);
    const tunnelId = await s.open(CH);
    s.host.joined = false;
    expect(await s.alerts.send(TAMPER)).toBe(false);
    s.host.joined = true;
    // Not sent: no attempt, so nothing unconfirmed and no retry (the tunnel's opening is the trigger).
    expect(s.host.take()).toEqual([]);
    expect(s.unconfirmed()).toEqual([]);

    const first = s.alerts.send(TAMPER);
    await s.settle();
    const sent = s.sentAlert(s.host.take());
    expect(sent.tunnelId).toBe(tunnelId);
    // The first alert sent has TSN 1: the refused attempts used none.
    expect(sent.alert).toEqual({
      tsn: 1,
      logId: EventLogId.tamper,
      code: GbAlertCode.tamper,
      eventTime: zclUtcNow(TAMPER.t),
      eventControl: EVENT_CONTROL_REPORT_TO_WAN,
      eventData: alertEventData(TAMPER.t),
    });
    expect(s.alerts.confirmations.pending).toBe(1);
    // Through the tunnel on other clusters, or not a Default Response: not the answer.
    const other = { clusterId: 0x0702, zcl: answer(1, 0) };
    expect(s.alerts.tunnelled(CH, other)).toBe(false);
    expect(s.alerts.tunnelled(CH, { clusterId: EVENTS_CLUSTER, zcl: Uint8Array.of(0x09, 1, 0x00) })).toBe(
      false,
    );
    // The answer from another device's tunnel confirms nothing (a traced drop).
    s.command(OTHER, 'transferData', {
      tunnelId: s.tunnel.tunnelOf(OTHER),
      data: encodeTunnelledZcl({ clusterId: EVENTS_CLUSTER, zcl: answer(1, 0) }),
    });
    await s.settle();
    expect(s.alerts.confirmations.pending).toBe(1);
    expect(s.host.tracesOf('app-drop').map((e) => [e.from, e.reason])).toEqual([
      [OTHER, 'unexpected-alert-response'],
    ]);
    s.command(CH, 'transferData', {
      tunnelId,
      data: encodeTunnelledZcl({ clusterId: EVENTS_CLUSTER, zcl: answer(1, 0) }),
    });
    expect(await first).toBe(true);
    // The answer is consumed, never served or answered.
    expect(s.served).toEqual([]);
    expect(s.host.take()).toEqual([]);
    expect(s.unconfirmed()).toEqual([]);
  });

  it("the CH's CloseTunnel or TransferDataError for the alert's tunnel ends the wait at once; the same frames from another device do not", async () => {
    const s = setup();
    await s.open(OTHER);
    let tunnelId = await s.open(CH);
    const closed = s.alerts.send(TAMPER);
    await s.settle();
    s.sentAlert(s.host.take());
    // Another device naming the CH's tunnel: its error is not the CH's, its close is refused.
    s.command(OTHER, 'transferDataError', { tunnelId, status: TransferDataStatus.NoSuchTunnel });
    s.command(OTHER, 'closeTunnel', { tunnelId });
    await s.settle();
    expect(s.alerts.confirmations.pending).toBe(1);
    expect(s.tunnel.tunnelOf(CH)).toBe(tunnelId);
    s.command(CH, 'closeTunnel', { tunnelId });
    await s.settle();
    expect(s.alerts.confirmations.pending).toBe(0);
    expect(await closed).toBe(false);
    expect(s.tunnel.tunnelOf(CH)).toBeUndefined();
    expect(s.unconfirmed()).toEqual([['tunnel-closed', ALERT_RETRY_FIRST_US]]);

    // "No such tunnel" closes the tunnel too, and the error is the reason given.
    tunnelId = await s.open(CH);
    const dropped = s.alerts.send(TAMPER);
    await s.settle();
    expect(s.sentAlert(s.host.take()).alert.tsn).toBe(2);
    s.command(CH, 'transferDataError', { tunnelId, status: TransferDataStatus.NoSuchTunnel });
    expect(await dropped).toBe(false);
    expect(s.host.tracesOf('tunnel-closed').map((e) => e.by)).toEqual(['client', 'no-such-tunnel']);
    expect(s.unconfirmed().at(-1)).toEqual(['transfer-data-error-0x00', 2 * ALERT_RETRY_FIRST_US]);
    expect(s.retries()).toBe(0);
    s.host.clock.advance(2 * ALERT_RETRY_FIRST_US);
    expect(s.retries()).toBe(1);
  });

  it('stop() (power off) settles the alert waiting without a retry, and sends nothing after, tunnel or not', async () => {
    const s = setup();
    await s.open(CH);
    const waiting = s.alerts.send(TAMPER);
    await s.settle();
    s.sentAlert(s.host.take());
    s.alerts.stop();
    expect(await waiting).toBe(false);
    expect(s.unconfirmed()).toEqual([['stopped', undefined]]);
    expect(await s.alerts.send(TAMPER)).toBe(false);
    expect(s.host.take()).toEqual([]);
    s.host.clock.advance(ALERT_RETRY_FIRST_US);
    expect(s.retries()).toBe(0);
  });
});
