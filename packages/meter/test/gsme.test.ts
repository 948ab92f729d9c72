/**
 * Unit test of the GSME's check-in schedule and peer rules on a recording host (hours of
 * virtual time on a ManualClock). The sleepy GSME on the real stack, polling its parent:
 * packages/comms-hub/test/commissioning.test.ts.
 */
import { type ManualClock, MINUTE } from '@gbhan/clock';
import { cbkeConfig, HostDouble } from '@gbhan/testing';
import { decodeZclFrame, encodeReadAttributes } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { GsmeApplication } from '../src/index.js';

const CH = '00124b0000000001';
const GSME = '00124b0000000003';

describe('GsmeApplication', () => {
  it('checks in with the GPF every report period and answers the GPF only', () => {
    const host = new HostDouble(GSME);
    host.nvm.commit({ 'app.cbkeDone': [CH] });
    const app = new GsmeApplication(host, {
      chEui64: CH,
      cbke: cbkeConfig(GSME),
      flowLitresPerHour: 600,
      reportPeriodUs: 30 * MINUTE,
    });
    host.onZcl((m) => app.handle(m));
    app.onJoined(); // commissioned: check in at once (and ask the GPF for its GB-HGRP tunnel)
    const metering = () => host.take().filter((s) => s.frame.clusterId === 0x0702);
    const first = metering();
    expect(first).toHaveLength(1);
    expect(first[0]!.to.eui64).toBe(CH);
    expect(decodeZclFrame(first[0]!.frame.zcl, { cluster: 0x0702 }).payload).toEqual([
      { attrId: 0, dataType: 0x25, attrData: 0 },
    ]);
    (host.clock as ManualClock).advance(30 * MINUTE);
    const second = metering();
    expect(decodeZclFrame(second[0]!.frame.zcl, { cluster: 0x0702 }).payload).toEqual([
      { attrId: 0, dataType: 0x25, attrData: 300 },
    ]);
    expect(app.checkIns).toBe(2);
    host.deliver(
      HostDouble.incoming(CH, 0x0702, encodeReadAttributes({ attributeIds: [0, 0x0300], tsn: 5 })),
    );
    const rsp = decodeZclFrame(host.take()[0]!.frame.zcl, { cluster: 0x0702 });
    expect(rsp.payload).toMatchObject([{ attrData: 300 }, { attrData: 1 }]);
    host.deliver(
      HostDouble.incoming('00124b0000000009', 0x0702, encodeReadAttributes({ attributeIds: [0], tsn: 6 })),
    );
    expect(host.take()).toHaveLength(0);
    expect(host.tracesOf('app-drop').at(-1)?.reason).toBe('not-from-gpf');
    app.stop();
    expect((host.nvm.read('meter.metering') as { summation: number }).summation).toBe(300);
    (host.clock as ManualClock).advance(60 * MINUTE);
    expect(host.take()).toHaveLength(0);
  });
});
