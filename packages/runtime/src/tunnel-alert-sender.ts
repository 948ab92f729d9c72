/**
 * The alert path of a GB-HGRP tunnel server (ESME, PPMID): the device's queued alerts
 * (`ZigbeeNode.setAlertSender`) go to the CH as a Publish Event (device-alert.ts) inside the
 * tunnel the CHF opened (envelope cluster 0x0709), and each counts as delivered only on the
 * CH's Default Response SUCCESS, which comes back through the tunnel (alert-confirmation.ts).
 * A tunnel server cannot open a tunnel itself, so without one an alert is not sent and stays
 * queued; the device flushes its queue when the CHF opens a tunnel (`TunnelServer.onOpened`).
 *
 * The device wires its `TunnelServer` to it: `tunnelled` first in `onData`, `dataError` as
 * `onDataError`, `closed` as `onClosed`. One instance per power cycle (waiters and timers are
 * RAM), like the tunnel server.
 */
import type { Alert, ApplicationHost } from '@gbhan/stack';
import { AlertConfirmations } from './alert-confirmation.js';
import { EVENTS_CLUSTER, encodeAlertPublishEvent } from './device-alert.js';
import { encodeTunnelledZcl, type TunnelledZcl } from './tunnel-envelope.js';
import type { TunnelServer, TunnelServerOptions } from './tunnel-server.js';
import { isDefaultResponse } from './zcl-helpers.js';

export interface TunnelAlertSenderOptions {
  host: ApplicationHost;
  /** The device's tunnel server; the CH is its client. */
  tunnel: TunnelServer;
  /** The CH: where alerts go and the only sender of a confirmation (read at each use). */
  ch: () => string;
  /**
   * Send the queued alerts again (the device's `securityLog.flush`): after an unconfirmed
   * alert's back-off, and when the CH opens its tunnel.
   */
  retry?: () => void;
  /** How long an alert waits for the CH's Default Response (default ALERT_CONFIRM_TIMEOUT_US). */
  timeoutUs?: number;
}

export class TunnelAlertSender {
  /** Alerts sent and waiting for the CH's Default Response. */
  readonly confirmations: AlertConfirmations;
  private tsn = 0;
  private stopped = false;

  /**
   * The `TunnelServer` hooks a device gives its server (`opened`, `dataError`, `closed`).
   * `alerts` is read late: the sender is built after the server it sends through.
   */
  static serverHooks(
    alerts: () => TunnelAlertSender,
  ): Pick<TunnelServerOptions, 'onOpened' | 'onDataError' | 'onClosed'> {
    return {
      onOpened: (client) => alerts().opened(client),
      onDataError: (client, tunnelId, status) => alerts().dataError(client, tunnelId, status),
      onClosed: (client, tunnelId) => alerts().closed(client, tunnelId),
    };
  }

  constructor(private readonly o: TunnelAlertSenderOptions) {
    const { host, ch: peer, retry, timeoutUs } = o;
    this.confirmations = new AlertConfirmations({
      host,
      peer,
      ...(retry ? { retry } : {}),
      ...(timeoutUs !== undefined ? { timeoutUs } : {}),
    });
  }

  /**
   * The device's alert sender: true only when the CH answered the alert with a Default
   * Response SUCCESS through the tunnel (it holds the alert in NVM then). Without a tunnel to
   * the CH (no CH, CBKE not done, the CHF not yet asked) it is not sent and stays queued; an
   * alert the CH did not confirm stays queued with a retry planned.
   */
  async send(alert: Alert): Promise<boolean> {
    const ch = this.o.ch();
    const tunnelId = this.o.tunnel.tunnelOf(ch);
    if (this.stopped || !this.o.host.joined || tunnelId === undefined) return false;
    this.tsn = (this.tsn + 1) & 0xff;
    const tsn = this.tsn;
    const data = encodeTunnelledZcl({ clusterId: EVENTS_CLUSTER, zcl: encodeAlertPublishEvent(alert, tsn) });
    // Tagged with the tunnel: an error or closure of that tunnel ends the wait.
    return this.confirmations.deliver(
      { tsn, code: alert.code },
      () => this.o.tunnel.sendToClient(ch, data),
      tunnelId,
    );
  }

  /**
   * A frame that came through the tunnel from `client`: true when it is the answer to an
   * alert (a Default Response on the Events cluster), which settles the alert waiting for it
   * (or is a traced drop) and is never answered; false for anything else.
   */
  tunnelled(client: string, req: TunnelledZcl): boolean {
    if (req.clusterId !== EVENTS_CLUSTER || !isDefaultResponse(req.zcl)) return false;
    this.confirmations.response(client, req.zcl, 'tunnel');
    return true;
  }

  /** `TunnelServer.onOpened`: the CH's tunnel is the path, so the queued alerts go now. */
  opened(client: string): void {
    if (client === this.o.ch()) this.o.retry?.();
  }

  /** `TunnelServer.onDataError`: the CH dropped what went on that tunnel, an alert with it. */
  dataError(client: string, tunnelId: number, status: number): void {
    if (client !== this.o.ch()) return;
    this.confirmations.fail(tunnelId, `transfer-data-error-0x${status.toString(16).padStart(2, '0')}`);
  }

  /** `TunnelServer.onClosed`: the CH's answer cannot come back through that tunnel. */
  closed(client: string, tunnelId: number): void {
    if (client !== this.o.ch()) return;
    this.confirmations.fail(tunnelId, 'tunnel-closed');
  }

  /** Power off: nothing is sent or awaited any more, no retry is planned. */
  stop(): void {
    this.stopped = true;
    this.confirmations.stop();
  }
}
