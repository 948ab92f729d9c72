/**
 * The GSME's GBCS path on a recording host, the test playing the GPF: the GSME asks for its
 * GB-HGRP tunnel, sends GET when it opens, and for a GET-RESPONSE saying one more message
 * remains runs the command, answers with PUT and asks GET again - two commands (CS01b, GCS28)
 * at one wake-up, in order, each answered with a response the DCC verifies (CS01b MAC'd,
 * GCS28 signed). A tampered command is refused: traced, Security-Logged, not run, no PUT.
 */
import { type ManualClock, MINUTE } from '@gbhan/clock';
import {
  Dcc,
  decodeGbcsMessage,
  decodeGbz,
  decodeTunnelCommand,
  deviceGbcsKeys,
  encodeTunnelCommand,
  remoteParties,
  useCaseByCode,
} from '@gbhan/gbcs';
import { cbkeConfig, HostDouble, type Sent } from '@gbhan/testing';
import { decodeZclFrame, encodeZclCommand, TUNNELING_CLUSTER } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { runGbcsDeviceConfig } from '../src/gbcs-endpoint.js';
import { GsmeApplication } from '../src/index.js';

const SEED = 'gsme-gbcs-1';
const CH = '00124b0000c0ffee';
const GSME = '00124b0000065e5e';
const T0 = 1_767_225_600_000;

function newDcc(): Dcc {
  return new Dcc({
    parties: remoteParties(SEED),
    deviceKeys: (eui64) => {
      const k = deviceGbcsKeys(SEED, eui64);
      return { dsPublic: k.ds.publicKey, kaPublic: k.ka.publicKey };
    },
  });
}

/** Tunneling frames the GSME sent, decoded; other frames (the check-in report) skipped. */
function tunnelFrames(sent: Sent[]) {
  return sent
    .filter((s) => s.frame.clusterId === TUNNELING_CLUSTER)
    .map((s) => decodeZclFrame(s.frame.zcl, { cluster: TUNNELING_CLUSTER }));
}

function gbhgrp(sent: Sent[]) {
  return tunnelFrames(sent)
    .filter((f) => f.commandName === 'transferData')
    .map((f) => decodeTunnelCommand((f.payload as { data: Uint8Array }).data));
}

function fromGpf(tunnelId: number, data: Uint8Array, tsn: number) {
  return HostDouble.incoming(
    CH,
    TUNNELING_CLUSTER,
    encodeZclCommand({
      cluster: TUNNELING_CLUSTER,
      command: 'transferData',
      direction: 'serverToClient',
      payload: { tunnelId, data },
      tsn,
    }),
  );
}

function setUp() {
  const host = new HostDouble(GSME);
  host.nvm.commit({ 'app.cbkeDone': [CH] });
  const log: { event: string; alert: number | undefined }[] = [];
  const app = new GsmeApplication(host, {
    chEui64: CH,
    cbke: cbkeConfig(GSME),
    reportPeriodUs: 30 * MINUTE,
    flowLitresPerHour: 0, // no gas used: the credit changes only by top-ups
    prepayment: { initialCredit: 1000 },
    gbcs: runGbcsDeviceConfig(SEED, GSME),
    securityLog: { record: (event, _d, alert) => log.push({ event, alert }) },
  });
  host.onZcl((m) => app.handle(m));
  app.onJoined(); // commissioned: ask for the tunnel, check in
  const [request] = tunnelFrames(host.take());
  expect(request?.commandName).toBe('requestTunnel');
  host.deliver(
    HostDouble.incoming(
      CH,
      TUNNELING_CLUSTER,
      encodeZclCommand({
        cluster: TUNNELING_CLUSTER,
        command: 'requestTunnelRsp',
        direction: 'serverToClient',
        payload: { tunnelId: 7, status: 0, maxIncomingTransferSize: 1500 },
        tsn: request!.header.transactionSequenceNumber,
      }),
    ),
  );
  expect(app.tunnel.state).toBe('open');
  // The tunnel opened: GET at once.
  expect(gbhgrp(host.take())).toEqual([{ command: 'GET' }]);
  return { host, app, log };
}

describe('GSME GBCS through the GPF (GET / GET-RESPONSE / PUT)', () => {
  it('runs two queued commands in order at one wake-up, asking GET again while some remain', () => {
    const { host, app } = setUp();
    const dcc = newDcc();
    const topUp = dcc.command(GSME, { useCase: 'CS01b', utrn: '00000000000001000700' }, { nowUnixMs: T0 });
    const clock = dcc.command(GSME, { useCase: 'GCS28', epochSeconds: 1_767_227_000 }, { nowUnixMs: T0 });

    // Next wake-up: check-in and GET.
    (host.clock as ManualClock).advance(30 * MINUTE);
    expect(gbhgrp(host.take())).toEqual([{ command: 'GET' }]);
    expect(host.tracesOf('gsme-get').at(-1)).toMatchObject({ why: 'wake' });

    host.deliver(
      fromGpf(7, encodeTunnelCommand({ command: 'GET-RESPONSE', remaining: 1, message: topUp.bytes }), 1),
    );
    const afterFirst = gbhgrp(host.take());
    expect(afterFirst.map((t) => t.command)).toEqual(['PUT', 'GET']);
    expect(host.tracesOf('gsme-get').at(-1)).toMatchObject({ why: 'remaining' });
    expect(app.prepayment!.credit).toBe(1700);

    host.deliver(
      fromGpf(7, encodeTunnelCommand({ command: 'GET-RESPONSE', remaining: 0, message: clock.bytes }), 2),
    );
    const afterSecond = gbhgrp(host.take());
    expect(afterSecond.map((t) => t.command)).toEqual(['PUT']); // nothing remains: no GET
    expect(host.tracesOf('meter-clock-set').at(-1)).toMatchObject({ epochSeconds: 1_767_227_000, by: CH });
    expect(app.clockOffsetS).not.toBe(0);

    const executed = host
      .tracesOf('gbcs-command-executed')
      .map((e) => (e as unknown as { useCase: string }).useCase);
    expect(executed).toEqual(['CS01b', 'GCS28']);

    // The DCC checks both answers: CS01b MAC'd (GBZ Consumer Top Up Response, accepted),
    // GCS28 signed (GBZ Default Response SUCCESS).
    const answers = [afterFirst[0]!, afterSecond[0]!].map((t) => {
      const message = (t as { message: Uint8Array }).message;
      const v = dcc.verifyFromDevice(message, GSME);
      expect(v.ok).toBe(true);
      const g = decodeGbcsMessage(message).signing;
      return { v, useCase: useCaseByCode(g.messageCode)?.name, gbz: decodeGbz(g.content)[0]! };
    });
    expect(answers[0]).toMatchObject({ useCase: 'CS01b', v: { authenticatedBy: 'mac' } });
    expect(answers[0]!.gbz).toMatchObject({ clusterId: 0x0705, commandId: 0x03 });
    expect(answers[0]!.gbz.payload[0]).toBe(0); // result type: accepted
    expect(answers[1]).toMatchObject({ useCase: 'GCS28', v: { authenticatedBy: 'signature' } });
    expect(answers[1]!.gbz).toMatchObject({ clusterId: 0x000a, commandId: 0x0b });
    expect([...answers[1]!.gbz.payload]).toEqual([0x02, 0x00]);
  });

  it('refuses a tampered command: traced, Security-Logged and alerted, not run, no PUT', () => {
    const { host, app, log } = setUp();
    const dcc = newDcc();
    const forged = dcc.command(
      GSME,
      { useCase: 'CS01b', utrn: '00000000000002009900' },
      { nowUnixMs: T0, forge: { flipBit: 400 } },
    );
    host.deliver(
      fromGpf(7, encodeTunnelCommand({ command: 'GET-RESPONSE', remaining: 0, message: forged.bytes }), 1),
    );
    expect(gbhgrp(host.take())).toEqual([]);
    expect(host.tracesOf('gbcs-command-refused')).toEqual([
      expect.objectContaining({ from: CH, via: 'tunnel', reason: 'bad-mac', alertCode: 0x8f1e }),
    ]);
    expect(log).toEqual([{ event: 'gbcs-command-refused', alert: 0x8f1e }]);
    expect(host.tracesOf('gbcs-command-executed')).toEqual([]);
    expect(host.tracesOf('top-up-accepted')).toEqual([]);
    expect(app.prepayment!.credit).toBe(1000);

    // A PUT pushed by the GPF (not an answer to GET) is refused as well.
    const genuine = dcc.command(GSME, { useCase: 'CS01b', utrn: '00000000000003000100' }, { nowUnixMs: T0 });
    host.deliver(fromGpf(7, encodeTunnelCommand({ command: 'PUT', message: genuine.bytes }), 2));
    expect(host.tracesOf('gbcs-command-refused').at(-1)).toMatchObject({ reason: 'not-gbcs' });
    expect(app.prepayment!.credit).toBe(1000);
    // Data on a tunnel the GSME does not have: Transfer Data Error, nothing run.
    host.deliver(
      fromGpf(9, encodeTunnelCommand({ command: 'GET-RESPONSE', remaining: 0, message: genuine.bytes }), 3),
    );
    expect(tunnelFrames(host.take()).map((f) => f.commandName)).toEqual(['transferDataError']);
    expect(host.tracesOf('gbcs-command-executed')).toEqual([]);
  });
});
