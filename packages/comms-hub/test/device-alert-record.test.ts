/**
 * The CH's handling of device alerts on a recording host (no radio): the answer follows the
 * NVM commit and says what happened to the alert, the record of alerts seen is bounded per
 * device and forgotten with the device, and ZCL's rule for a sender that disabled default
 * responses holds. End to end on the real stack: device-alerts.test.ts.
 */

import {
  alertEventData,
  decodeAlertResponse,
  EVENT_CONTROL_REPORT_TO_WAN,
  EVENTS_CLUSTER,
  encodeDeviceAlert,
  zclUtcNow,
} from '@gbhan/runtime';
import { type Alert, GbAlertCode, type NvValue } from '@gbhan/stack';
import { HostDouble } from '@gbhan/testing';
import { describe, expect, it } from 'vitest';
import { DEVICE_ALERTS_SEEN_PER_DEVICE, DeviceAlerts } from '../src/device-alerts.js';

const CH = '00124b0000c0ffee';
const GSME = '00124b0000065e5e';
const OTHER = '00124b0000065e5f';

function setup(o: { relay?: boolean } = {}) {
  const host = new HostDouble(CH);
  const relayed: Alert[] = [];
  // As the stack's queueAlert: one commit with the caller's record, or a throw and nothing.
  const relay = (alert: Alert, alsoCommit: Record<string, NvValue>) => {
    host.nvm.commit({ ...alsoCommit, queue: [...(host.nvm.read<NvValue[]>('queue') ?? []), alert.code] });
    relayed.push(alert);
  };
  /** The CH application's instance of a power cycle (RAM); NVM is the host's. */
  const make = () =>
    new DeviceAlerts({
      host,
      deviceType: () => 'GSME',
      ...(o.relay === false ? {} : { relay }),
      sendThroughTunnel: () => {
        throw new Error('no tunnel in this test');
      },
    });
  let alerts = make();
  const powerCycle = () => {
    alerts = make();
  };
  /** A tamper alert of `from` at virtual time `tUs`; the status the CH answered with (null: none). */
  const send = (from: string, tUs: number, tsn = 1, disableDefaultResponse = false) => {
    const before = host.sent.length;
    alerts.handle(
      HostDouble.incoming(
        from,
        EVENTS_CLUSTER,
        encodeDeviceAlert({
          tsn,
          logId: 1,
          code: GbAlertCode.tamper,
          eventTime: zclUtcNow(tUs),
          eventControl: EVENT_CONTROL_REPORT_TO_WAN,
          eventData: alertEventData(tUs),
          ...(disableDefaultResponse ? { disableDefaultResponse } : {}),
        }),
      ),
    );
    const answers = host.sent.slice(before);
    expect(answers.length).toBeLessThanOrEqual(1);
    if (answers.length === 0) return null;
    expect(answers[0]!.to.eui64).toBe(from);
    expect(answers[0]!.frame.security).toBe('aps-link');
    const r = decodeAlertResponse(answers[0]!.frame.zcl);
    expect(r.tsn).toBe(tsn);
    return r.statusCode;
  };
  const duplicates = () => host.traces.filter((e) => e.type === 'device-alert-duplicate').length;
  return { host, alerts: () => alerts, powerCycle, relayed, send, duplicates };
}

describe('CH device alerts: answers and the record of alerts seen', () => {
  it('answers SUCCESS after the commit, FAILURE when the commit fails or there is no queue', () => {
    const s = setup();
    s.host.nvm.failNextCommit = true;
    expect(s.send(GSME, 1_000_000)).toBe(0x01);
    expect(s.relayed).toEqual([]);
    expect(s.host.nvm.read('chf.deviceAlertsSeen')).toBeUndefined();
    // The re-send is not a duplicate (nothing was kept): stored and confirmed now.
    expect(s.send(GSME, 1_000_000, 2)).toBe(0x00);
    expect(s.relayed).toHaveLength(1);
    expect(s.host.nvm.read('queue')).toEqual([GbAlertCode.tamper]);
    expect(s.send(GSME, 1_000_000, 3)).toBe(0x00);
    expect(s.relayed).toHaveLength(1);
    expect(s.duplicates()).toBe(1);

    const none = setup({ relay: false });
    expect(none.send(GSME, 1_000_000)).toBe(0x01);
    expect(none.host.traces.find((e) => e.type === 'app-drop')).toMatchObject({
      reason: 'device-alert-not-stored',
      detail: 'no alert queue',
    });
  });

  it('keeps two alerts of one code in the same second apart (Event Data), and a sender that disabled default responses gets no SUCCESS', () => {
    const s = setup();
    expect(s.send(GSME, 180_050_752)).toBe(0x00);
    expect(s.send(GSME, 180_094_464, 2)).toBe(0x00);
    expect(s.relayed).toHaveLength(2);
    expect(s.duplicates()).toBe(0);
    expect(s.send(GSME, 181_000_000, 3, true)).toBeNull();
    expect(s.relayed).toHaveLength(3);
    // ... but an error is still answered.
    s.host.nvm.failNextCommit = true;
    expect(s.send(GSME, 182_000_000, 4, true)).toBe(0x01);
  });

  it('remembers the last 8 alerts of each device in NVM, and forgets a device removed from the Device Log', () => {
    const s = setup();
    const n = DEVICE_ALERTS_SEEN_PER_DEVICE;
    for (let i = 0; i <= n; i++) expect(s.send(GSME, (i + 1) * 1_000_000, i)).toBe(0x00);
    expect(s.send(OTHER, 1_000_000)).toBe(0x00);
    expect(s.relayed).toHaveLength(n + 2);
    const seen = s.host.nvm.read<Record<string, NvValue[]>>('chf.deviceAlertsSeen')!;
    expect(seen[GSME]).toHaveLength(n);
    expect(seen[OTHER]).toHaveLength(1);
    // The newest 8 of the GSME are recognised (also after a CH power cycle) ...
    s.powerCycle();
    for (let i = 1; i <= n; i++) expect(s.send(GSME, (i + 1) * 1_000_000, 100 + i)).toBe(0x00);
    expect(s.duplicates()).toBe(n);
    expect(s.relayed).toHaveLength(n + 2);
    // ... the oldest is not (it is relayed again), and neither is anything after `forget`.
    expect(s.send(GSME, 1_000_000, 200)).toBe(0x00);
    expect(s.relayed).toHaveLength(n + 3);
    s.alerts().forget(OTHER);
    expect(s.host.nvm.read<Record<string, NvValue[]>>('chf.deviceAlertsSeen')![OTHER]).toBeUndefined();
    expect(s.send(OTHER, 1_000_000, 201)).toBe(0x00);
    expect(s.relayed).toHaveLength(n + 4);
  });
});
