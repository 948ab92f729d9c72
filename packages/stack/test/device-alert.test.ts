/**
 * The device alert codec (Events cluster Publish Event carrying a GB alert code and its time)
 * and the security log's relayed alerts: queued without a log entry, delivered in order, and a
 * flush asked for while one runs is not lost.
 */
import { ManualClock } from '@gbhan/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alertCodeHex,
  DeviceAlertError,
  decodeDeviceAlert,
  EVENT_CONTROL_REPORT_TO_WAN,
  EventLogId,
  encodeDeviceAlert,
  logIdForAlert,
} from '../src/app/device-alert.js';
import { virtualUsOfZclUtc, zclUtcNow } from '../src/app/zcl-helpers.js';
import { MemoryNvStore } from '../src/nvm.js';
import { type Alert, GbAlertCode, SecurityLog } from '../src/security-log.js';

const TAMPER = {
  tsn: 7,
  logId: EventLogId.tamper,
  code: GbAlertCode.tamper,
  eventTime: zclUtcNow(210_000_000),
  eventControl: EVENT_CONTROL_REPORT_TO_WAN,
};

function errorOf(bytes: Uint8Array): DeviceAlertError {
  try {
    decodeDeviceAlert(bytes);
  } catch (e) {
    if (e instanceof DeviceAlertError) return e;
    throw e;
  }
  throw new Error('decoded');
}

describe('device alert codec', () => {
  it('encodes a Publish Event with the alert code and the event time, and decodes it back', () => {
    const bytes = encodeDeviceAlert(TAMPER);
    // 0x19: cluster-specific, server to client, no default response; 0x00 Publish Event;
    // Log ID 1 (tamper), Event ID 0x8F3F, UTCTime 2026-01-01T00:03:30Z, control 0x02, no data.
    const utc = 1_767_225_600 - 946_684_800 + 210;
    expect([...bytes]).toEqual([
      0x19,
      7,
      0x00,
      0x01,
      0x3f,
      0x8f,
      utc & 0xff,
      (utc >>> 8) & 0xff,
      (utc >>> 16) & 0xff,
      utc >>> 24,
      0x02,
      0x00,
    ]);
    expect(decodeDeviceAlert(bytes)).toEqual(TAMPER);
    expect(virtualUsOfZclUtc(decodeDeviceAlert(bytes).eventTime)).toBe(210_000_000);
    expect(alertCodeHex(0x8f3f)).toBe('0x8F3F');
  });

  it('round-trips any valid alert', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 1, max: 0xff }),
        fc.integer({ min: 1, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xff }),
        (tsn, logId, code, eventTime, eventControl) => {
          const a = { tsn, logId, code, eventTime, eventControl };
          expect(decodeDeviceAlert(encodeDeviceAlert(a))).toEqual(a);
        },
      ),
    );
  });

  it('files alert codes in their Events log', () => {
    expect(logIdForAlert(GbAlertCode.tamper)).toBe(EventLogId.tamper);
    expect(logIdForAlert(GbAlertCode.unauthorisedCommunicationAccess)).toBe(EventLogId.security);
    for (const c of [0x8f48, 0x8f49, 0x8f4a, 0x8f4b, 0x8183])
      expect(logIdForAlert(c)).toBe(EventLogId.network);
    expect(logIdForAlert(0x8f00)).toBe(EventLogId.general);
  });

  it('refuses malformed frames with a typed error naming what is wrong', () => {
    const good = encodeDeviceAlert(TAMPER);
    const cases: [string, Uint8Array, string, string][] = [
      ['empty', new Uint8Array(0), 'DEVICE_ALERT_TRUNCATED', 'zcl.frameControl'],
      ['header cut', good.slice(0, 2), 'DEVICE_ALERT_TRUNCATED', 'zcl.commandId'],
      [
        'global command',
        Uint8Array.of(0x18, 1, 0x0a, ...good.slice(3)),
        'DEVICE_ALERT_WRONG_COMMAND',
        'zcl.commandId',
      ],
      [
        'client to server',
        Uint8Array.of(0x11, ...good.slice(1)),
        'DEVICE_ALERT_WRONG_COMMAND',
        'zcl.commandId',
      ],
      [
        'Publish Event Log',
        Uint8Array.of(0x19, 1, 0x01, ...good.slice(3)),
        'DEVICE_ALERT_WRONG_COMMAND',
        'zcl.commandId',
      ],
      [
        'manufacturer-specific',
        Uint8Array.of(0x1d, 0x34, 0x12, 1, 0x00, ...good.slice(3)),
        'DEVICE_ALERT_WRONG_COMMAND',
        'zcl.commandId',
      ],
      ['payload cut', good.slice(0, 9), 'DEVICE_ALERT_TRUNCATED', 'payload'],
      ['no Event Data length', good.slice(0, 11), 'DEVICE_ALERT_TRUNCATED', 'payload'],
      ['Event Data cut', Uint8Array.of(...good.slice(0, 11), 4, 0xaa), 'DEVICE_ALERT_TRUNCATED', 'eventData'],
      [
        'invalid Event Data',
        Uint8Array.of(...good.slice(0, 11), 0xff),
        'DEVICE_ALERT_BAD_VALUE',
        'eventData',
      ],
      ['trailing octets', Uint8Array.of(...good, 0x00), 'DEVICE_ALERT_TRAILING_OCTETS', 'payload'],
      [
        'log 0 (all logs)',
        Uint8Array.of(...good.slice(0, 3), 0x00, ...good.slice(4)),
        'DEVICE_ALERT_BAD_VALUE',
        'logId',
      ],
      [
        'event 0 (all events)',
        Uint8Array.of(...good.slice(0, 4), 0, 0, ...good.slice(6)),
        'DEVICE_ALERT_BAD_VALUE',
        'code',
      ],
    ];
    for (const [what, bytes, code, field] of cases) {
      const e = errorOf(bytes);
      expect({ what, code: e.code, field: e.field }).toEqual({ what, code, field });
    }
    // Event Data is allowed (and ignored) when its length is right.
    expect(decodeDeviceAlert(Uint8Array.of(...good.slice(0, 11), 2, 0xaa, 0xbb)).code).toBe(0x8f3f);
  });

  it('never throws anything but DeviceAlertError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          decodeDeviceAlert(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DeviceAlertError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses to encode values that do not fit their fields', () => {
    expect(() => encodeDeviceAlert({ ...TAMPER, code: 0x10000 })).toThrow(DeviceAlertError);
    expect(() => encodeDeviceAlert({ ...TAMPER, eventTime: -1 })).toThrow(DeviceAlertError);
    expect(() => encodeDeviceAlert({ ...TAMPER, tsn: 1.5 })).toThrow(DeviceAlertError);
    expect(() => encodeDeviceAlert({ ...TAMPER, logId: 0 })).toThrow(DeviceAlertError);
  });
});

describe('security log: relayed alerts', () => {
  it('queueAlert queues without a log entry, survives in NVM and is delivered in order', async () => {
    const nvm = new MemoryNvStore();
    const clock = new ManualClock();
    const traces: { type: string }[] = [];
    const log = new SecurityLog(nvm, clock, (e) => traces.push(e));
    log.record('reset-han-attempt', { locked: true }, GbAlertCode.tamper);
    log.queueAlert({ t: 5, code: GbAlertCode.tamper, detail: { from: '00124b0000e5e5e5' } });
    expect(log.entries().map((e) => e.event)).toEqual(['reset-han-attempt']);
    // A store that outlives the object: what a power cycle keeps.
    const again = new SecurityLog(nvm, clock, (e) => traces.push(e));
    expect(again.pendingAlerts().map((a) => a.detail?.from ?? null)).toEqual([null, '00124b0000e5e5e5']);
    const sent: Alert[] = [];
    again.setSender((a) => {
      sent.push(a);
      return true;
    });
    await again.flush();
    expect(sent.map((a) => a.detail?.from ?? null)).toEqual([null, '00124b0000e5e5e5']);
    expect(again.pendingAlerts()).toEqual([]);
    expect(traces.filter((e) => e.type === 'alert-sent')).toHaveLength(2);
  });

  it('a flush asked for while a failing one runs tries again when it ends', async () => {
    const log = new SecurityLog(new MemoryNvStore(), new ManualClock(), () => {});
    log.queueAlert({ t: 1, code: GbAlertCode.tamper });
    let open = false;
    let release: (ok: boolean) => void = () => {};
    let calls = 0;
    log.setSender(() => {
      calls++;
      if (open) return true;
      return new Promise<boolean>((r) => {
        release = r;
      });
    });
    // The first attempt waits on a send; meanwhile the path opens and a flush is asked for.
    open = true;
    const second = log.flush();
    release(false);
    await second; // resolves when the run it joined is over, the extra attempt included
    expect(calls).toBe(2);
    expect(log.pendingAlerts()).toEqual([]);
  });
});
