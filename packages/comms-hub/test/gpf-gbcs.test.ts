/**
 * The GPF's side of GBCS for the GSME on a recording host, the test playing the GSME: the
 * GPF is tunnel server of a commissioned GSME; the DCC's CS01b and GCS28 wait in its queue
 * (nothing goes on the air) and each GET gets the oldest one as GET-RESPONSE with the count
 * still waiting; a GET with nothing waiting is not answered; the GSME's PUT goes to the
 * DCC's check (`gbcs-response` with the request id, or refused when tampered); the queue is
 * bounded and its overflow traced.
 */
import {
  buildResponse,
  decodeGbcsMessage,
  decodeTunnelCommand,
  deviceGbcsKeys,
  encodeGbz,
  encodeTunnelCommand,
  flipBit,
  remoteParties,
  useCaseByCode,
} from '@gbhan/gbcs';
import { cbkeConfig, HostDouble, type Sent } from '@gbhan/testing';
import {
  decodeZclFrame,
  encodeGbHgrpRequestTunnel,
  encodeZclCommand,
  TUNNELING_CLUSTER,
} from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { CommsHubApplication, runDcc, WanError } from '../src/index.js';

const SEED = 'gpf-gbcs-1';
const CH = '00124b0000c0ffee';
const GSME = '00124b0000065e5e';
const CODE = '83fed3407a939723a5c639b26916d505c3b5';

function hub() {
  const host = new HostDouble(CH);
  const app = new CommsHubApplication(
    host,
    { cbke: cbkeConfig(CH), dcc: runDcc(SEED) },
    { alertLog: { record: () => {}, queueAlert: () => {}, flush: async () => {} } },
  );
  host.onZcl((m) => app.handle(m));
  app.deviceLog.add({ eui64: GSME, deviceType: 'GSME', installCode: CODE });
  app.deviceLog.markCommissioned(GSME);
  // The GSME asks for its tunnel.
  host.deliver(HostDouble.incoming(GSME, TUNNELING_CLUSTER, encodeGbHgrpRequestTunnel(3)));
  const rsp = decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER });
  expect(rsp.commandName).toBe('requestTunnelRsp');
  const { tunnelId, status } = rsp.payload as { tunnelId: number; status: number };
  expect(status).toBe(0);
  return { host, app, tunnelId };
}

function only(sent: Sent[]): Sent {
  expect(sent).toHaveLength(1);
  return sent[0]!;
}

function fromGsme(tunnelId: number, data: Uint8Array, tsn = 9) {
  return HostDouble.incoming(
    GSME,
    TUNNELING_CLUSTER,
    encodeZclCommand({
      cluster: TUNNELING_CLUSTER,
      command: 'transferData',
      direction: 'clientToServer',
      payload: { tunnelId, data },
      tsn,
    }),
  );
}

/** The GB-HGRP commands the GPF sent back through the tunnel. */
function gbhgrp(sent: Sent[]) {
  return sent.map((s) => {
    const f = decodeZclFrame(s.frame.zcl, { cluster: TUNNELING_CLUSTER });
    expect(s.to.eui64).toBe(GSME);
    expect(f.commandName).toBe('transferData');
    return decodeTunnelCommand((f.payload as { data: Uint8Array }).data);
  });
}

const GET = encodeTunnelCommand({ command: 'GET' });

describe('GPF: GBCS for the GSME through GET / GET-RESPONSE / PUT', () => {
  it('holds CS01b and GCS28 for the GSME and hands them over in order, one per GET', () => {
    const { host, app, tunnelId } = hub();
    const topUp = app.dcc({ kind: 'top-up', target: GSME, code: '00000000000001000700' });
    const clock = app.dcc({ kind: 'set-clock', target: GSME, epochSeconds: 1_767_227_000 });
    expect(host.take()).toEqual([]); // nothing on the air: the GSME sleeps
    expect(app.gpf.queuedGbcs(GSME)).toBe(2);
    // Other ESME use cases are not for a GSME.
    expect(() => app.dcc({ kind: 'read-credit', target: GSME })).toThrow(WanError);

    host.deliver(fromGsme(tunnelId, GET));
    const [first] = gbhgrp(host.take());
    expect(first).toMatchObject({ command: 'GET-RESPONSE', remaining: 1 });
    const cs01b = decodeGbcsMessage((first as { message: Uint8Array }).message).signing;
    expect(useCaseByCode(cs01b.messageCode)?.name).toBe('CS01b');

    host.deliver(fromGsme(tunnelId, GET));
    const [second] = gbhgrp(host.take());
    expect(second).toMatchObject({ command: 'GET-RESPONSE', remaining: 0 });
    const gcs28 = decodeGbcsMessage((second as { message: Uint8Array }).message).signing;
    expect(useCaseByCode(gcs28.messageCode)?.name).toBe('GCS28');
    expect(gcs28.signature).not.toBeNull(); // critical: signed by the Supplier

    // Nothing left: GET is not answered.
    host.deliver(fromGsme(tunnelId, GET));
    expect(host.take()).toEqual([]);
    expect(host.tracesOf('gpf-get').map((e) => (e as unknown as { queued: number }).queued)).toEqual([
      2, 1, 0,
    ]);
    expect(host.tracesOf('gpf-get-response').map((e) => (e as unknown as { tag: string }).tag)).toEqual([
      topUp,
      clock,
    ]);

    // The GSME's PUT: its MAC'd CS01b response, checked for the DCC with the request id.
    const device = deviceGbcsKeys(SEED, GSME);
    const supplier = remoteParties(SEED).supplier;
    const response = buildResponse({
      useCase: 'CS01b',
      originator: device.systemTitle,
      recipient: supplier.systemTitle,
      counter: cs01b.originatorCounter,
      payload: encodeGbz([
        {
          clusterId: 0x0705,
          frameControl: 0x09,
          sequenceNumber: 0,
          commandId: 0x03,
          payload: Uint8Array.of(0),
        },
      ]),
      deviceDsPrivate: device.ds.privateKey,
      deviceKaPrivate: device.ka.privateKey,
      recipientKaPublic: supplier.ka.publicKey,
    });
    host.deliver(fromGsme(tunnelId, encodeTunnelCommand({ command: 'PUT', message: response })));
    expect(host.take()).toEqual([]);
    expect(host.tracesOf('gbcs-response').at(-1)).toMatchObject({
      requestId: topUp,
      from: GSME,
      useCase: 'CS01b',
      authenticated: true,
      results: [0],
    });
    // A tampered one is refused by the DCC's check.
    host.deliver(
      fromGsme(tunnelId, encodeTunnelCommand({ command: 'PUT', message: flipBit(response, 300) })),
    );
    expect(host.tracesOf('gbcs-response').at(-1)).toMatchObject({ authenticated: false, requestId: null });
  });

  it('bounds the queue (oldest dropped, traced) and serves only its tunnel clients', () => {
    const { host, app, tunnelId } = hub();
    for (let i = 0; i < 17; i++)
      app.dcc({ kind: 'top-up', target: GSME, code: `000000000000${String(i).padStart(2, '0')}000100` });
    expect(app.gpf.queuedGbcs(GSME)).toBe(16);
    expect(host.tracesOf('gpf-gbcs-overflow')).toEqual([
      expect.objectContaining({ gsme: GSME, tag: 'dcc-1' }),
    ]);
    // GET on another tunnel id: Transfer Data Error, nothing handed over.
    host.deliver(fromGsme(tunnelId + 1, GET));
    const err = decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER });
    expect(err.commandName).toBe('transferDataError');
    expect(app.gpf.queuedGbcs(GSME)).toBe(16);
    // A GSME not commissioned gets no tunnel.
    app.deviceLog.add({ eui64: '00124b0000065e5f', deviceType: 'GSME', installCode: CODE });
    host.deliver(HostDouble.incoming('00124b0000065e5f', TUNNELING_CLUSTER, encodeGbHgrpRequestTunnel(4)));
    const refused = decodeZclFrame(only(host.take()).frame.zcl, { cluster: TUNNELING_CLUSTER });
    expect(refused.payload).toMatchObject({ tunnelId: 0xffff });
    // A power cycle empties the queue (RAM) and forgets the tunnel.
    app.stop();
    expect(app.gpf.queuedGbcs(GSME)).toBe(0);
  });
});
