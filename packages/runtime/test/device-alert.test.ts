/**
 * The device alert codec (Events cluster Publish Event carrying a GB alert code and its time,
 * and the CH's Default Response to it), the meter side's wait for that answer (confirmed,
 * refused, timed out, failed path, retried on a back-off), and the security log's relayed
 * alerts: queued without a log entry (with the caller's record in the same NVM write),
 * delivered in order, and a flush asked for while one runs is not lost.
 */
import { ManualClock } from '@gbhan/clock';
import { type Alert, GbAlertCode, MemoryNvStore, SecurityLog } from '@gbhan/stack';
import { HostDouble } from '@gbhan/testing';
import { encodeDefaultResponse, type ZclDirection } from '@gbhan/zigbee';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALERT_CONFIRM_TIMEOUT_US,
  ALERT_RETRY_FIRST_US,
  ALERT_RETRY_MAX_US,
  AlertConfirmations,
} from '../src/alert-confirmation.js';
import {
  alertCodeHex,
  alertEventData,
  DeviceAlertError,
  decodeAlertResponse,
  decodeDeviceAlert,
  EVENT_CONTROL_REPORT_TO_WAN,
  EventLogId,
  encodeDeviceAlert,
  logIdForAlert,
} from '../src/device-alert.js';
import { virtualUsOfZclUtc, zclUtcNow } from '../src/zcl-helpers.js';

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
    // 0x09: cluster-specific, server to client, default response enabled (the CH's answer is
    // the delivery confirmation); 0x00 Publish Event; Log ID 1 (tamper), Event ID 0x8F3F,
    // UTCTime 2026-01-01T00:03:30Z, control 0x02, no data.
    const utc = 1_767_225_600 - 946_684_800 + 210;
    expect([...bytes]).toEqual([
      0x09,
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
    // A sender that asked for no Default Response on success (0x19) is decoded as such.
    const quiet = encodeDeviceAlert({ ...TAMPER, disableDefaultResponse: true });
    expect(quiet[0]).toBe(0x19);
    expect(decodeDeviceAlert(quiet)).toEqual({ ...TAMPER, disableDefaultResponse: true });
    expect(virtualUsOfZclUtc(decodeDeviceAlert(bytes).eventTime)).toBe(210_000_000);
    // A meter's Event Data: the microseconds within the second (u32 LE), so two alerts of one
    // code in the same second differ; the same instant gives the same octets.
    expect([...alertEventData(180_050_752)]).toEqual([0x40, 0xc6, 0x00, 0x00]);
    expect([...alertEventData(180_094_464)]).not.toEqual([...alertEventData(180_050_752)]);
    expect([...alertEventData(210_000_000)]).toEqual([0, 0, 0, 0]);
    const withData = encodeDeviceAlert({ ...TAMPER, eventData: alertEventData(210_000_007) });
    expect([...withData.slice(11)]).toEqual([4, 7, 0, 0, 0]);
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
        fc.boolean(),
        (tsn, logId, code, eventTime, eventControl, quiet) => {
          const a = {
            tsn,
            logId,
            code,
            eventTime,
            eventControl,
            ...(quiet ? { disableDefaultResponse: true } : {}),
          };
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
    // Event Data of the right length is read as it is.
    expect(decodeDeviceAlert(Uint8Array.of(...good.slice(0, 11), 2, 0xaa, 0xbb))).toEqual({
      ...TAMPER,
      eventData: Uint8Array.of(0xaa, 0xbb),
    });
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

  it("decodes the CH's Default Response to a Publish Event and refuses anything else", () => {
    const dr = (
      tsn: number,
      commandId: number,
      statusCode: number,
      direction: ZclDirection = 'clientToServer',
    ) => encodeDefaultResponse({ direction, tsn, commandId, statusCode });
    // 0x10 global, client to server, no default response; 0x0B; answers 0x00 with SUCCESS.
    expect([...dr(7, 0x00, 0x00)]).toEqual([0x10, 7, 0x0b, 0x00, 0x00]);
    expect(decodeAlertResponse(dr(7, 0x00, 0x00))).toEqual({ tsn: 7, statusCode: 0x00 });
    expect(decodeAlertResponse(dr(200, 0x00, 0x80))).toEqual({ tsn: 200, statusCode: 0x80 });
    const bad: [string, Uint8Array, string][] = [
      ['header cut', Uint8Array.of(0x10, 7), 'DEVICE_ALERT_TRUNCATED'],
      ['server to client', dr(7, 0x00, 0x00, 'serverToClient'), 'DEVICE_ALERT_WRONG_COMMAND'],
      ['another command answered', dr(7, 0x01, 0x00), 'DEVICE_ALERT_WRONG_COMMAND'],
      ['not a Default Response', encodeDeviceAlert(TAMPER), 'DEVICE_ALERT_WRONG_COMMAND'],
      ['no status', Uint8Array.of(0x10, 7, 0x0b, 0x00), 'DEVICE_ALERT_TRUNCATED'],
      ['trailing', Uint8Array.of(...dr(7, 0x00, 0x00), 0x00), 'DEVICE_ALERT_TRAILING_OCTETS'],
      [
        'manufacturer-specific',
        Uint8Array.of(0x14, 0x34, 0x12, 7, 0x0b, 0x00, 0x00),
        'DEVICE_ALERT_WRONG_COMMAND',
      ],
    ];
    for (const [what, bytes, code] of bad) {
      let got = 'decoded';
      try {
        decodeAlertResponse(bytes);
      } catch (e) {
        got = e instanceof DeviceAlertError ? e.code : String(e);
      }
      expect({ what, got }).toEqual({ what, got: code });
    }
  });

  it('refuses to encode values that do not fit their fields', () => {
    expect(() => encodeDeviceAlert({ ...TAMPER, code: 0x10000 })).toThrow(DeviceAlertError);
    expect(() => encodeDeviceAlert({ ...TAMPER, eventTime: -1 })).toThrow(DeviceAlertError);
    expect(() => encodeDeviceAlert({ ...TAMPER, tsn: 1.5 })).toThrow(DeviceAlertError);
    expect(() => encodeDeviceAlert({ ...TAMPER, logId: 0 })).toThrow(DeviceAlertError);
    expect(() => encodeDeviceAlert({ ...TAMPER, eventData: new Uint8Array(255) })).toThrow(DeviceAlertError);
  });
});

const CH = '00124b0000c0ffee';

/** A meter's confirmations on a recording host: `send` resolves as the test says. */
function confirmations(o: { retry?: boolean } = {}) {
  const host = new HostDouble('00124b0000e5e5e5');
  let retries = 0;
  const c = new AlertConfirmations({
    host,
    peer: () => CH,
    ...(o.retry === false ? {} : { retry: () => retries++ }),
  });
  const answer = (tsn: number, statusCode: number, from = CH) =>
    c.response(
      from,
      encodeDefaultResponse({ direction: 'clientToServer', tsn, commandId: 0, statusCode }),
      'direct',
    );
  const settle = () => new Promise((r) => setImmediate(r));
  const unconfirmed = () => host.traces.filter((e) => e.type === 'alert-unconfirmed');
  return { host, c, answer, settle, unconfirmed, retries: () => retries };
}

describe('alert confirmations', () => {
  it("a Default Response SUCCESS with the alert's TSN from the CH confirms it; one that overtakes the send too", async () => {
    const t = confirmations();
    const ok = t.c.deliver({ tsn: 5, code: GbAlertCode.tamper }, async () => true);
    await t.settle();
    expect(t.c.pending).toBe(1);
    t.answer(4, 0); // another alert's TSN
    t.answer(5, 0, '00124b0000065e5e'); // not the CH
    await t.settle();
    expect(t.c.pending).toBe(1);
    t.answer(5, 0);
    expect(await ok).toBe(true);
    expect(t.host.traces.map((e) => [e.type, e.reason, e.detail])).toEqual([
      ['app-drop', 'unexpected-alert-response', 'tsn 4 status 0x00'],
      ['app-drop', 'unexpected-alert-response', 'tsn 5 status 0x00'],
    ]);
    // The answer arrives while the send is still waiting for its radio ack.
    let acked: (ok: boolean) => void = () => {};
    const early = t.c.deliver(
      { tsn: 6, code: GbAlertCode.tamper },
      () =>
        new Promise<boolean>((r) => {
          acked = r;
        }),
    );
    t.answer(6, 0);
    acked(true);
    expect(await early).toBe(true);
    expect(t.unconfirmed()).toEqual([]);
    // Nothing timed out or was retried later.
    t.host.clock.advance(ALERT_RETRY_MAX_US);
    expect(t.retries()).toBe(0);
  });

  it('anything else leaves the alert unconfirmed with the reason and plans a retry on a doubling back-off', async () => {
    const t = confirmations();
    const tamper = { code: GbAlertCode.tamper };
    const refused = t.c.deliver({ tsn: 1, ...tamper }, async () => true);
    await t.settle();
    t.answer(1, 0x80);
    expect(await refused).toBe(false);
    const failed = t.c.deliver({ tsn: 2, ...tamper }, async () => false);
    expect(await failed).toBe(false);
    const timedOut = t.c.deliver({ tsn: 3, ...tamper }, async () => true);
    await t.settle();
    t.host.clock.advance(ALERT_CONFIRM_TIMEOUT_US - 1);
    await t.settle();
    expect(t.c.pending).toBe(1);
    t.host.clock.advance(1);
    expect(await timedOut).toBe(false);
    const dropped = t.c.deliver({ tsn: 4, ...tamper }, async () => true, 'tunnel-7');
    await t.settle();
    t.c.fail('tunnel-8', 'transfer-data-error-0x00'); // another path: not this alert's
    expect(t.c.pending).toBe(1);
    t.c.fail('tunnel-7', 'transfer-data-error-0x00');
    expect(await dropped).toBe(false);
    // Each attempt cancelled the retry planned before it; back-off 30 s, 60 s, 120 s, 240 s.
    expect(t.unconfirmed().map((e) => [e.tsn, e.reason, e.retryInUs])).toEqual([
      [1, 'status-0x80', ALERT_RETRY_FIRST_US],
      [2, 'send-failed', 2 * ALERT_RETRY_FIRST_US],
      [3, 'timeout', 4 * ALERT_RETRY_FIRST_US],
      [4, 'transfer-data-error-0x00', 8 * ALERT_RETRY_FIRST_US],
    ]);
    t.host.clock.advance(8 * ALERT_RETRY_FIRST_US - 1);
    expect(t.retries()).toBe(0);
    t.host.clock.advance(1);
    expect(t.retries()).toBe(1);
    // The back-off stops at 30 min, and a confirmation brings it back to 30 s.
    for (let tsn = 10; tsn < 20; tsn++) {
      const r = t.c.deliver({ tsn, ...tamper }, async () => false);
      expect(await r).toBe(false);
    }
    expect(t.unconfirmed().at(-1)!.retryInUs).toBe(ALERT_RETRY_MAX_US);
    const good = t.c.deliver({ tsn: 30, ...tamper }, async () => true);
    await t.settle();
    t.answer(30, 0);
    expect(await good).toBe(true);
    expect(await t.c.deliver({ tsn: 31, ...tamper }, async () => false)).toBe(false);
    expect(t.unconfirmed().at(-1)!.retryInUs).toBe(ALERT_RETRY_FIRST_US);
  });

  it('stop() (power off) settles what waits without planning a retry; nothing is sent after', async () => {
    const t = confirmations();
    const waiting = t.c.deliver({ tsn: 1, code: GbAlertCode.tamper }, async () => true);
    await t.settle();
    t.c.stop();
    expect(await waiting).toBe(false);
    expect(t.unconfirmed().map((e) => [e.reason, e.retryInUs])).toEqual([['stopped', undefined]]);
    let sends = 0;
    expect(
      await t.c.deliver({ tsn: 2, code: GbAlertCode.tamper }, async () => {
        sends++;
        return true;
      }),
    ).toBe(false);
    expect(sends).toBe(0);
    t.host.clock.advance(ALERT_RETRY_MAX_US);
    expect(t.retries()).toBe(0);
    // Without a retry hook nothing is planned either.
    const quiet = confirmations({ retry: false });
    expect(await quiet.c.deliver({ tsn: 1, code: GbAlertCode.tamper }, async () => false)).toBe(false);
    expect(quiet.unconfirmed()[0]!.retryInUs).toBeUndefined();
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

  it("queueAlert writes the caller's record in the same NVM commit: both or neither", () => {
    const nvm = new MemoryNvStore();
    const log = new SecurityLog(nvm, new ManualClock(), () => {});
    log.queueAlert({ t: 1, code: GbAlertCode.tamper }, { 'chf.seen': [1] });
    expect(nvm.read('chf.seen')).toEqual([1]);
    expect(log.pendingAlerts()).toHaveLength(1);
    nvm.failNextCommit = true;
    expect(() => log.queueAlert({ t: 2, code: GbAlertCode.tamper }, { 'chf.seen': [1, 2] })).toThrow();
    expect(nvm.read('chf.seen')).toEqual([1]);
    expect(log.pendingAlerts()).toHaveLength(1);
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
