/**
 * Security log and alerts. Entries are persisted in NVM in a bounded ring (oldest dropped
 * first), so they survive power cycles. Alerts carry GB alert codes where one exists
 * (protocol-notes §8, Aclara SGM1400 manual) and wait in NVM until the application's sender
 * reports them delivered: the stack cannot know what "sent to the DCC" means for a device.
 */
import type { Clock } from '@gbhan/clock';
import type { NvStore, NvValue } from './nvm.js';
import type { StackTraceEvent } from './trace-events.js';

/** GB alert codes (protocol-notes §8). */
export const GbAlertCode = {
  joinFailed: 0x8f48,
  joinSucceeded: 0x8f49,
  unjoinFailed: 0x8f4a,
  unjoinSucceeded: 0x8f4b,
  deviceJoinedSmhan: 0x8183,
  unauthorisedCommunicationAccess: 0x8f3e,
  tamper: 0x8f3f,
} as const;

export interface SecurityLogEntry {
  /** Virtual time (us). */
  t: number;
  event: string;
  /** GB alert code when the event has one. */
  alertCode?: number;
  detail?: Record<string, string | number | boolean>;
}

export interface Alert {
  t: number;
  code: number;
  detail?: Record<string, string | number | boolean>;
}

/** Delivers an alert; returns true when it got through (then it leaves the queue). */
export type AlertSender = (alert: Alert) => boolean | Promise<boolean>;

/** A device's security log and alert queue as applications use it; `SecurityLog` implements it. */
export interface AlertLog {
  /** Log an event (persisted); with a GB alert code it also queues the alert. */
  record(event: string, detail?: SecurityLogEntry['detail'], alertCode?: number): void;
  /** Queue an alert without a log entry (a relayed one), in one NVM write with `alsoCommit`. */
  queueAlert(alert: Alert, alsoCommit?: Record<string, NvValue>): void;
  /** Try the alert queue now (a path to the alerts' destination opened). */
  flush(): Promise<void>;
}

const LOG_KEY = 'stack.securityLog';
const ALERT_KEY = 'stack.alertQueue';
const DROPPED_KEY = 'stack.alertsDropped';

export class SecurityLog implements AlertLog {
  private sender: AlertSender | null = null;
  /** The flush under way (a call meanwhile waits for it, and makes it run once more). */
  private flushing: Promise<void> | null = null;
  private flushAgain = false;

  constructor(
    private readonly nvm: NvStore,
    private readonly clock: Clock,
    private readonly traceFn: (e: StackTraceEvent) => void,
    readonly capacity = 128,
    readonly alertCapacity = 64,
  ) {}

  entries(): SecurityLogEntry[] {
    return (this.nvm.read<NvValue[]>(LOG_KEY) ?? []) as unknown as SecurityLogEntry[];
  }

  pendingAlerts(): Alert[] {
    return (this.nvm.read<NvValue[]>(ALERT_KEY) ?? []) as unknown as Alert[];
  }

  /** Write an entry (and queue its alert when `alertCode` is given). */
  record(event: string, detail?: SecurityLogEntry['detail'], alertCode?: number): void {
    const entry: SecurityLogEntry = { t: this.clock.now(), event };
    if (alertCode !== undefined) entry.alertCode = alertCode;
    if (detail) entry.detail = detail;
    const log = this.entries();
    log.push(entry);
    while (log.length > this.capacity) log.shift();
    const changes: Record<string, NvValue> = { [LOG_KEY]: log as unknown as NvValue };
    if (alertCode !== undefined) {
      const alert: Alert = { t: entry.t, code: alertCode };
      if (detail) alert.detail = detail;
      Object.assign(changes, this.queuedWith(alert));
    }
    this.nvm.commit(changes);
    this.traceFn({ type: 'security-log', event, ...(detail ? { detail } : {}) });
    if (alertCode !== undefined) {
      this.traceFn({
        type: 'alert',
        code: alertCode,
        codeHex: `0x${alertCode.toString(16).toUpperCase()}`,
        event,
      });
      void this.flush();
    }
  }

  /**
   * Queue an alert without a log entry of this device: one it passes on for another (a CH
   * relaying a meter's alert to the DCC). It waits in NVM like the device's own. `alsoCommit`
   * goes into the same NVM write (the caller's record of the alert: both survive or neither).
   * Throws when the write fails: the alert is then not queued.
   */
  queueAlert(alert: Alert, alsoCommit: Record<string, NvValue> = {}): void {
    this.nvm.commit({ ...alsoCommit, ...this.queuedWith(alert) });
    void this.flush();
  }

  /**
   * The NVM changes that queue `alert`. A full queue drops its oldest alert - traced
   * (`alert-dropped`) and counted in NVM, never silently: evidence a flood pushes out shows.
   */
  private queuedWith(alert: Alert): Record<string, NvValue> {
    const alerts = this.pendingAlerts();
    alerts.push(alert);
    let dropped = this.nvm.read<number>(DROPPED_KEY) ?? 0;
    const changes: Record<string, NvValue> = {};
    while (alerts.length > this.alertCapacity) {
      const old = alerts.shift()!;
      dropped++;
      changes[DROPPED_KEY] = dropped;
      this.traceFn({
        type: 'alert-dropped',
        code: old.code,
        codeHex: `0x${old.code.toString(16).toUpperCase()}`,
        dropped,
      });
    }
    changes[ALERT_KEY] = alerts as unknown as NvValue;
    return changes;
  }

  /** The application's way to deliver alerts; queued ones are tried at once. */
  setSender(sender: AlertSender | null): void {
    this.sender = sender;
    void this.flush();
  }

  /**
   * Try to deliver queued alerts in order; stops at the first that does not get through. A
   * call while a flush runs makes it try once more when it ends (the path may have opened
   * while it waited on a send that failed) and resolves with it.
   */
  flush(): Promise<void> {
    if (!this.sender) return Promise.resolve();
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.flushAgain = false;
          await this.deliverQueued();
        } while (this.flushAgain && this.sender);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private async deliverQueued(): Promise<void> {
    for (;;) {
      const next = this.pendingAlerts()[0];
      if (!next || !this.sender) return;
      let ok = false;
      try {
        ok = await this.sender(next);
      } catch {
        ok = false;
      }
      if (!ok) return;
      const rest = this.pendingAlerts();
      if (rest[0] && rest[0].t === next.t && rest[0].code === next.code) rest.shift();
      this.nvm.commit({ [ALERT_KEY]: rest as unknown as NvValue });
      this.traceFn({ type: 'alert-sent', code: next.code });
    }
  }
}
