/**
 * Device alerts the CHF receives on the HAN and passes on to the DCC (a meter's tamper alert
 * after a Reset HAN attempt, its join alerts ...). Each is a Publish Event of the Events
 * cluster (`@gbhan/stack` device-alert.ts, the emulator's stand-in for a GBCS Alert APDU):
 * from an ESME (or another tunnel server) inside its GB-HGRP tunnel, from a GSME straight to
 * the GPF, APS-secured. The Device Log check has already been made on the frame that carried
 * it (`CommsHubApplication.handle`).
 *
 * A good alert is traced (`device-alert`) and handed to `relay`, which queues it with the
 * CH's own alerts for the WAN in NVM; only then does the CH answer it with a Default Response
 * SUCCESS (ZCL r8 §2.5.12), the meter's sign that the alert may leave its queue. The answer
 * goes back the way the alert came: through the tunnel (TransferData from the CH) or
 * APS-secured direct. An alert the CH cannot keep is answered FAILURE. A re-sent alert (its
 * confirmation was lost: same device, code, Event Time and Event Data) is recognised,
 * answered SUCCESS again and not relayed twice (`device-alert-duplicate`). Anything else is a
 * traced drop with the reason, answered with an error status when its ZCL header can be read
 * (MALFORMED_COMMAND, UNSUP_CLUSTER_COMMAND or UNSUP_GENERAL_COMMAND, NOT_AUTHORIZED for the
 * wrong path); a frame too short for a header (no transaction sequence number to answer) is
 * only dropped, and a Default Response is never answered.
 */

import {
  alertCodeHex,
  type DeviceAlert,
  DeviceAlertError,
  decodeDeviceAlert,
  defaultResponseTo,
  EVENTS_CLUSTER,
  encodeTunnelledZcl,
  sendDefaultResponse,
  traceDrop,
  virtualUsOfZclUtc,
  ZclStatus,
} from '@gbhan/runtime';
import type { Alert, ApplicationHost, IncomingZcl, NvValue } from '@gbhan/stack';
import { decodeZclHeader, toHex, type ZclFrameHeader } from '@gbhan/zigbee';
import { traceHub } from './trace-events.js';

/**
 * NVM: per device, the last alerts accepted from it as [code, Event Time, Event Data hex]
 * (duplicate check). Event Data is part of the event's identity: the meters put the
 * sub-second part of the event's time there (`alertEventData`), so two alerts of one code in
 * the same second stay two.
 */
const NV_SEEN = 'chf.deviceAlertsSeen';
// ASSUMPTION: the CH remembers the last 8 alerts of each device. A meter sends its queue in
// order with one alert awaiting confirmation, so a re-send is always the last alert the CH
// accepted from it; 8 leaves room for a sender with a few alerts in flight while keeping the
// record small (a Device Log of 16 x 8 entries). In NVM, not RAM: the re-send that matters
// most follows a CH power cycle between storing an alert and the meter hearing the answer;
// it is written in the same NVM commit as the queued alert (both or neither).
export const DEVICE_ALERTS_SEEN_PER_DEVICE = 8;

type Seen = Record<string, [number, number, string][]>;

export interface DeviceAlertsOptions {
  host: ApplicationHost;
  /** The GB device type the Device Log holds for `eui64`. */
  deviceType: (eui64: string) => string | undefined;
  /**
   * Queue a received alert for the DCC (until the WAN takes it) together with `alsoCommit` in
   * one NVM write; throws when it could not be stored. Absent: the CH cannot keep alerts, and
   * answers each with FAILURE.
   */
  relay?: (alert: Alert, alsoCommit: Record<string, NvValue>) => void;
  /** Send a ZCL frame (with its cluster envelope) through `peer`'s GB-HGRP tunnel; throws without one. */
  sendThroughTunnel: (peer: string, data: Uint8Array) => void;
}

export class DeviceAlerts {
  constructor(private readonly o: DeviceAlertsOptions) {}

  /** The ZCL frame of a Publish Event that came through `peer`'s tunnel (envelope cluster 0x0709). */
  fromTunnel(peer: string, zcl: Uint8Array): void {
    const answer = (header: ZclFrameHeader | null, status: number) => {
      const reply = header ? defaultResponseTo(header, status) : null;
      if (reply === null) return;
      try {
        this.o.sendThroughTunnel(peer, encodeTunnelledZcl({ clusterId: EVENTS_CLUSTER, zcl: reply }));
      } catch (e) {
        traceHub(this.o.host, {
          type: 'send-failed',
          what: 'device-alert-response',
          to: peer,
          status: 'no-tunnel',
          message: (e as Error).message,
        });
      }
    };
    const alert = this.decode(zcl, (reason, detail) =>
      traceHub(this.o.host, {
        type: 'app-drop',
        from: peer,
        clusterId: EVENTS_CLUSTER,
        reason,
        detail,
        via: 'tunnel',
      }),
    );
    if (alert.ok) answer(alert.header, this.accept(peer, alert.alert, 'tunnel'));
    else answer(alert.header, alert.status);
  }

  /** Events cluster frames straight from a HAN device; false for other clusters. */
  handle(msg: IncomingZcl): boolean {
    if (msg.clusterId !== EVENTS_CLUSTER) return false;
    const host = this.o.host;
    const peer = msg.from.eui64;
    const header = headerOf(msg.zcl);
    const answer = (status: number) => {
      if (header) sendDefaultResponse(host, msg, header, status, 'device-alert-response');
    };
    if (msg.security !== 'aps-link') {
      traceDrop(host, msg, 'device-alert-not-aps-secured');
      answer(ZclStatus.NOT_AUTHORIZED);
      return true;
    }
    // GBCS: a GSME talks to the GPF; tunnel servers (ESME, PPMID, HCALCS) use their tunnel.
    if (this.o.deviceType(peer) !== 'GSME') {
      traceDrop(host, msg, 'device-alert-outside-tunnel', this.o.deviceType(peer));
      answer(ZclStatus.NOT_AUTHORIZED);
      return true;
    }
    const alert = this.decode(msg.zcl, (reason, detail) => traceDrop(host, msg, reason, detail));
    answer(alert.ok ? this.accept(peer, alert.alert, 'gpf') : alert.status);
    return true;
  }

  /** A device left the Device Log: its duplicate record goes too. */
  forget(eui64: string): void {
    const seen = this.o.host.nvm.read<Seen>(NV_SEEN) ?? {};
    if (!(eui64 in seen)) return;
    delete seen[eui64];
    this.o.host.nvm.commit({ [NV_SEEN]: seen });
  }

  private decode(
    zcl: Uint8Array,
    drop: (reason: string, detail: string) => void,
  ):
    | { ok: true; alert: DeviceAlert; header: ZclFrameHeader }
    | { ok: false; status: number; header: ZclFrameHeader | null } {
    try {
      return { ok: true, alert: decodeDeviceAlert(zcl), header: headerOf(zcl)! };
    } catch (e) {
      if (!(e instanceof DeviceAlertError)) throw e;
      drop('malformed-device-alert', `${e.code} ${e.message}`);
      const header = headerOf(zcl);
      let status: number = ZclStatus.MALFORMED_COMMAND;
      if (e.code === 'DEVICE_ALERT_WRONG_COMMAND')
        status =
          header?.frameType === 'global' ? ZclStatus.UNSUP_GENERAL_COMMAND : ZclStatus.UNSUP_CLUSTER_COMMAND;
      return { ok: false, status, header };
    }
  }

  /** Keep a good alert for the DCC (once); the status to answer it with. */
  private accept(from: string, a: DeviceAlert, via: 'tunnel' | 'gpf'): number {
    const host = this.o.host;
    const eventTimeUs = virtualUsOfZclUtc(a.eventTime);
    const what = { from, code: a.code, codeHex: alertCodeHex(a.code), logId: a.logId, eventTimeUs, via };
    const data = toHex(a.eventData ?? new Uint8Array(0));
    const seen = host.nvm.read<Seen>(NV_SEEN) ?? {};
    const mine = seen[from] ?? [];
    if (mine.some(([code, time, d]) => code === a.code && time === a.eventTime && d === data)) {
      // Its confirmation was lost and the meter sent it again: already on its way to the DCC.
      traceHub(host, { type: 'device-alert-duplicate', ...what });
      return ZclStatus.SUCCESS;
    }
    traceHub(host, { type: 'device-alert', ...what });
    if (!this.o.relay) {
      traceHub(host, {
        type: 'app-drop',
        ...what,
        clusterId: EVENTS_CLUSTER,
        reason: 'device-alert-not-stored',
        detail: 'no alert queue',
      });
      return ZclStatus.FAILURE;
    }
    mine.push([a.code, a.eventTime, data]);
    while (mine.length > DEVICE_ALERTS_SEEN_PER_DEVICE) mine.shift();
    seen[from] = mine;
    try {
      this.o.relay(
        { t: host.clock.now(), code: a.code, detail: { from, via, eventTimeUs } },
        { [NV_SEEN]: seen },
      );
    } catch (e) {
      // Not in NVM: the meter keeps it and sends it again.
      traceHub(host, {
        type: 'app-drop',
        ...what,
        clusterId: EVENTS_CLUSTER,
        reason: 'device-alert-not-stored',
        detail: (e as Error).message,
      });
      return ZclStatus.FAILURE;
    }
    return ZclStatus.SUCCESS;
  }
}

function headerOf(zcl: Uint8Array): ZclFrameHeader | null {
  try {
    return decodeZclHeader(zcl).header;
  } catch {
    return null;
  }
}
