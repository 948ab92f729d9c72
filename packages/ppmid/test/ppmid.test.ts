/**
 * Unit tests of the PPMID application (CBKE order, display, top-up and emergency credit
 * flows, refusal reasons) on a recording host: the network adds nothing to these rules. The
 * PPMID on the real stack: packages/comms-hub/test/commissioning.test.ts.
 */
import { type ManualClock, SECOND } from '@gbhan/clock';
import { cbkeConfig, HostDouble } from '@gbhan/testing';
import {
  decodeKeyEstablishment,
  decodeZclFrame,
  encodeDefaultResponse,
  encodeReadAttributesResponse,
  encodeZclCommand,
} from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { PpmidApplication } from '../src/index.js';

const CH = '00124b0000000001';
const ESME = '00124b0000000002';
const PPMID = '00124b0000000005';

function ppmid() {
  const host = new HostDouble(PPMID);
  const app = new PpmidApplication(host, {
    chEui64: CH,
    esmeEui64: ESME,
    cbke: cbkeConfig(PPMID),
    readPeriodUs: 10 * SECOND,
  });
  host.onZcl((m) => app.handle(m));
  return { host, app };
}

describe('PpmidApplication', () => {
  it('runs CBKE with the CH first, then with the ESME', () => {
    const { host, app } = ppmid();
    app.onJoined();
    const first = host.take();
    expect(first).toHaveLength(1);
    expect(first[0]!.to.eui64).toBe(CH);
    expect(decodeKeyEstablishment(first[0]!.frame.zcl).message.command).toBe('InitiateKeyEstablishment');
    // after a power cycle with both keys done, it goes straight to reading
    host.nvm.commit({ 'app.cbkeDone': [CH, ESME] });
    const again = new PpmidApplication(host, {
      chEui64: CH,
      esmeEui64: ESME,
      cbke: cbkeConfig(PPMID),
      readPeriodUs: 10 * SECOND,
    });
    app.stop();
    again.onJoined();
    const reads = host.take();
    expect(reads.map((s) => [s.to.eui64, s.frame.clusterId])).toEqual([
      [ESME, 0x0702],
      [ESME, 0x0705],
      [CH, 0x0702],
    ]);
    expect(reads.every((s) => s.frame.security === 'aps-link')).toBe(true);
    (host.clock as ManualClock).advance(10 * SECOND);
    expect(host.take()).toHaveLength(3);
    again.stop();
  });

  it('shows readings and credit, and the top-up response', () => {
    const { host, app } = ppmid();
    const rsp = (records: { attrId: number; dataType: number; attrData: number }[]) =>
      encodeReadAttributesResponse({ tsn: 1, records: records.map((r) => ({ ...r, status: 0 })) });
    host.deliver(
      HostDouble.incoming(
        ESME,
        0x0702,
        rsp([
          { attrId: 0, dataType: 0x25, attrData: 1234 },
          { attrId: 0x400, dataType: 0x2a, attrData: 800 },
        ]),
      ),
    );
    host.deliver(HostDouble.incoming(ESME, 0x0705, rsp([{ attrId: 1, dataType: 0x2b, attrData: 950 }])));
    host.deliver(HostDouble.incoming(CH, 0x0702, rsp([{ attrId: 0, dataType: 0x25, attrData: 77 }])));
    expect(app.display).toMatchObject({ electricityWh: 1234, demandW: 800, credit: 950, gasLitres: 77 });
    expect(host.tracesOf('ppmid-display').at(-1)).toMatchObject({
      electricityWh: 1234,
      credit: 950,
      gasLitres: 77,
    });
    app.topUp('12345678901234000500');
    const sent = host.take();
    expect(sent).toHaveLength(1);
    const topUp = decodeZclFrame(sent[0]!.frame.zcl, { cluster: 0x0705 });
    expect(topUp.commandName).toBe('consumerTopUp');
    expect(topUp.payload).toMatchObject({ originatingDevice: 2 });
    host.deliver(
      HostDouble.incoming(
        ESME,
        0x0705,
        encodeZclCommand({
          cluster: 0x0705,
          command: 'consumerTopUpResponse',
          direction: 'serverToClient',
          payload: { resultType: 0, topUpValue: 500, sourceOfTopUp: 2, creditRemaining: 1450 },
          tsn: topUp.header.transactionSequenceNumber,
        }),
      ),
    );
    expect(app.display.credit).toBe(1450);
    expect(app.display.lastTopUp).toEqual({ code: '12345678901234000500', resultType: 0, value: 500 });
    expect(host.tracesOf('ppmid-top-up-result')).toHaveLength(1);
    // emergency credit: the meter's Default Response is shown, then it reads again
    app.selectEmergencyCredit();
    const [request] = host.take();
    const ecTsn = decodeZclFrame(request!.frame.zcl, { cluster: 0x0705 }).header.transactionSequenceNumber;
    // A credit meter refusing a Read Attributes (global 0x00) on Prepayment is no answer to it,
    // and must not make the PPMID read again (it looped on it).
    host.deliver(
      HostDouble.incoming(
        ESME,
        0x0705,
        encodeDefaultResponse({
          direction: 'serverToClient',
          tsn: (ecTsn + 1) & 0xff,
          commandId: 0,
          statusCode: 0xc3,
        }),
      ),
    );
    expect(host.tracesOf('ppmid-emergency-credit')).toEqual([]);
    expect(host.take()).toEqual([]);
    host.deliver(
      HostDouble.incoming(
        ESME,
        0x0705,
        encodeDefaultResponse({ direction: 'serverToClient', tsn: ecTsn, commandId: 0, statusCode: 1 }),
      ),
    );
    expect(host.tracesOf('ppmid-emergency-credit')).toEqual([
      { type: 'ppmid-emergency-credit', accepted: false },
    ]);
    expect(host.take().length).toBeGreaterThan(0); // the reads after it
  });

  it('drops what it should not act on, with a reason', () => {
    const { host, app } = ppmid();
    const rsp = encodeReadAttributesResponse({
      tsn: 1,
      records: [{ attrId: 1, status: 0, dataType: 0x2b, attrData: 5 }],
    });
    host.deliver(HostDouble.incoming(ESME, 0x0705, rsp, 'nwk'));
    host.deliver(HostDouble.incoming('00124b00000000ff', 0x0705, rsp));
    host.deliver(HostDouble.incoming(ESME, 0x0705, Uint8Array.of(0x09, 1, 0x03, 0)));
    host.deliver(
      HostDouble.incoming(
        ESME,
        0x0705,
        encodeZclCommand({
          cluster: 0x0705,
          command: 'consumerTopUp',
          direction: 'clientToServer',
          payload: { originatingDevice: 0, topUpCode: new Uint8Array(3) },
          tsn: 4,
        }),
      ),
    );
    expect(host.tracesOf('app-drop').map((t) => t.reason)).toEqual([
      'not-aps-secured',
      'unknown-peer',
      'malformed-zcl',
      'ppmid-serves-no-cluster',
    ]);
    expect(app.display.credit).toBeNull();
    app.topUp('x'.repeat(30));
    expect(host.tracesOf('ppmid-top-up-refused')).toHaveLength(1);
    expect(host.take()).toHaveLength(0);
  });
});
