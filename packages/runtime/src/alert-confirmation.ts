/**
 * End-to-end delivery of a device's alerts (device-alert.ts): an alert counts as delivered
 * only when the CH's application answered its Publish Event with a Default Response SUCCESS,
 * which the CH sends once the alert is in its NVM. The radio's acknowledgment is not enough:
 * a CH that has just power-cycled acknowledges a TransferData on a tunnel it no longer knows
 * and drops it. Anything but SUCCESS within the timeout leaves the alert queued (traced
 * `alert-unconfirmed` with the reason), and a retry is planned after a back-off so an alert
 * does not wait for an unrelated trigger while there is a path to the CH.
 *
 * One instance per power cycle of the application (timers and waiters are RAM). Times are on
 * the host's clock.
 */
import type { Timer } from '@gbhan/clock';
import type { ApplicationHost } from '@gbhan/stack';
import { alertCodeHex, DeviceAlertError, decodeAlertResponse, EVENTS_CLUSTER } from './device-alert.js';
import { traceApp } from './trace-events.js';
import { ZclStatus } from './zcl-helpers.js';

// ASSUMPTION: the CH's Default Response to an alert is awaited 10 s (as long as the CHF waits
// for a RequestTunnelResponse). The CH answers as soon as the alert is in its NVM, so a
// meter's direct neighbour answers in tens of ms; for a sleepy GSME the reply waits in the
// CH's indirect queue (7.68 s macTransactionPersistenceTime) while the GSME fast-polls every
// 250 ms (OutgoingZcl.awaitReplyUs = this timeout), and 10 s also covers one regular poll of
// the default 7.5 s period if the fast poll ends early on another frame from the CH.
export const ALERT_CONFIRM_TIMEOUT_US = 10_000_000;
// ASSUMPTION: after an unconfirmed alert the queue is tried again after 30 s, doubling for
// each further unconfirmed attempt up to 30 min (the GB half-hourly check-in of a GSME), and
// back to 30 s once an alert is confirmed. Short enough that a lost confirmation is repaired
// in seconds; capped so a CH that never answers costs a transmission per half hour.
export const ALERT_RETRY_FIRST_US = 30_000_000;
export const ALERT_RETRY_MAX_US = 30 * 60_000_000;

/** What a device application is given for its alert path (by its device class). */
export interface AlertPathConfig {
  /**
   * Send the device's queued alerts now (its `securityLog.flush`): when a path to the CH
   * opens, and on the back-off after an alert the CH did not confirm.
   */
  flushAlerts?: () => void;
  /** How long an alert waits for the CH's Default Response (default ALERT_CONFIRM_TIMEOUT_US). */
  alertConfirmTimeoutUs?: number;
}

/** The retry and timeout of `AlertConfirmations` (and `TunnelAlertSender`) from an application's config. */
export function alertPathOptions(c: AlertPathConfig): { retry?: () => void; timeoutUs?: number } {
  return {
    ...(c.flushAlerts ? { retry: c.flushAlerts } : {}),
    ...(c.alertConfirmTimeoutUs !== undefined ? { timeoutUs: c.alertConfirmTimeoutUs } : {}),
  };
}

export interface AlertConfirmationsOptions {
  host: ApplicationHost;
  /** The CH: only its answers confirm. */
  peer: () => string;
  /** Try the alert queue again (the device's `securityLog.flush`); no retry when absent. */
  retry?: () => void;
  timeoutUs?: number;
  retryFirstUs?: number;
  retryMaxUs?: number;
}

interface Waiter {
  tsn: number;
  /** What the alert went through (a tunnel server's tunnel id), for `fail`. */
  tag: unknown;
  settle: (reason: string | null) => void;
}

export class AlertConfirmations {
  private readonly waiters = new Map<number, Waiter>();
  private retryTimer: Timer | null = null;
  private backoffUs: number;
  private stopped = false;

  constructor(private readonly o: AlertConfirmationsOptions) {
    this.backoffUs = o.retryFirstUs ?? ALERT_RETRY_FIRST_US;
  }

  /** How long an alert waits for its Default Response. */
  get timeoutUs(): number {
    return this.o.timeoutUs ?? ALERT_CONFIRM_TIMEOUT_US;
  }

  /** An alert waiting for its answer. */
  get pending(): number {
    return this.waiters.size;
  }

  /**
   * Send one alert (`send` resolves true when the first hop took the frame) and wait for the
   * CH's answer to its `tsn`: true on SUCCESS. The waiter is in place before the frame goes,
   * so an answer that overtakes the send's own completion is not missed.
   */
  async deliver(
    alert: { tsn: number; code: number },
    send: () => Promise<boolean>,
    tag?: unknown,
  ): Promise<boolean> {
    if (this.stopped) return false;
    const host = this.o.host;
    this.retryTimer?.cancel(); // this attempt is the retry
    this.retryTimer = null;
    this.waiters.get(alert.tsn)?.settle('superseded');
    let timer: Timer | null = null;
    let done = false;
    let resolve: (reason: string | null) => void = () => {};
    const outcome = new Promise<string | null>((r) => {
      resolve = r;
    });
    const waiter: Waiter = {
      tsn: alert.tsn,
      tag,
      settle: (reason) => {
        if (done) return;
        done = true;
        timer?.cancel();
        if (this.waiters.get(alert.tsn) === waiter) this.waiters.delete(alert.tsn);
        resolve(reason);
      },
    };
    this.waiters.set(alert.tsn, waiter);
    const sent = await send();
    if (!sent) waiter.settle('send-failed');
    else if (!done) timer = host.clock.setTimer(this.timeoutUs, () => waiter.settle('timeout'));
    const reason = await outcome;
    if (reason === null) {
      this.backoffUs = this.o.retryFirstUs ?? ALERT_RETRY_FIRST_US;
      return true;
    }
    const retryInUs = reason === 'stopped' ? undefined : this.scheduleRetry();
    traceApp(host, {
      type: 'alert-unconfirmed',
      code: alert.code,
      codeHex: alertCodeHex(alert.code),
      tsn: alert.tsn,
      reason,
      ...(retryInUs !== undefined ? { retryInUs } : {}),
    });
    return false;
  }

  /**
   * A frame on the Events cluster from `from` (through the tunnel or direct, `via` for the
   * trace): the answer to an alert settles it; anything else is a traced drop, never answered.
   */
  response(from: string, zcl: Uint8Array, via: 'tunnel' | 'direct'): void {
    const host = this.o.host;
    const drop = (reason: string, detail: string) =>
      traceApp(host, { type: 'app-drop', from, clusterId: EVENTS_CLUSTER, reason, detail, via });
    let r: ReturnType<typeof decodeAlertResponse>;
    try {
      r = decodeAlertResponse(zcl);
    } catch (e) {
      if (!(e instanceof DeviceAlertError)) throw e;
      drop('malformed-alert-response', `${e.code} ${e.message}`);
      return;
    }
    const w = this.waiters.get(r.tsn);
    const status = `0x${r.statusCode.toString(16).padStart(2, '0')}`;
    if (from !== this.o.peer() || w === undefined) {
      drop('unexpected-alert-response', `tsn ${r.tsn} status ${status}`);
      return;
    }
    w.settle(r.statusCode === ZclStatus.SUCCESS ? null : `status-${status}`);
  }

  /** The path an alert went by failed (e.g. the CH's TransferDataError for that tunnel). */
  fail(tag: unknown, reason: string): void {
    for (const w of [...this.waiters.values()]) if (w.tag === tag) w.settle(reason);
  }

  /** Power off: nothing is awaited any more, no retry is planned. */
  stop(): void {
    this.stopped = true;
    this.retryTimer?.cancel();
    this.retryTimer = null;
    for (const w of [...this.waiters.values()]) w.settle('stopped');
  }

  private scheduleRetry(): number | undefined {
    const retry = this.o.retry;
    if (!retry || this.stopped) return undefined;
    if (this.retryTimer?.active) return this.retryTimer.at - this.o.host.clock.now();
    const delay = this.backoffUs;
    this.backoffUs = Math.min(2 * delay, this.o.retryMaxUs ?? ALERT_RETRY_MAX_US);
    this.retryTimer = this.o.host.clock.setTimer(delay, () => {
      this.retryTimer = null;
      retry();
    });
    return delay;
  }
}
