/**
 * Device alerts the CHF receives on the HAN and passes on to the DCC (a meter's tamper alert
 * after a Reset HAN attempt, its join alerts ...). Each is a Publish Event of the Events
 * cluster (`@gbhan/stack` device-alert.ts, the emulator's stand-in for a GBCS Alert APDU):
 * from an ESME (or another tunnel server) inside its GB-HGRP tunnel, from a GSME straight to
 * the GPF, APS-secured. The Device Log check has already been made on the frame that carried
 * it (`CommsHubApplication.handle`). A good alert is traced (`device-alert`) and handed to
 * `relay`, which queues it with the CH's own alerts for the WAN; anything else is a traced
 * drop with the reason.
 */
import {
  type Alert,
  type ApplicationHost,
  alertCodeHex,
  type DeviceAlert,
  DeviceAlertError,
  decodeDeviceAlert,
  EVENTS_CLUSTER,
  type IncomingZcl,
  traceDrop,
  virtualUsOfZclUtc,
} from '@gbhan/stack';

export interface DeviceAlertsOptions {
  host: ApplicationHost;
  /** The GB device type the Device Log holds for `eui64`. */
  deviceType: (eui64: string) => string | undefined;
  /** Pass a received alert on to the DCC (queued until the WAN takes it). */
  relay: (alert: Alert) => void;
}

export class DeviceAlerts {
  constructor(private readonly o: DeviceAlertsOptions) {}

  /** The ZCL frame of a Publish Event that came through `peer`'s tunnel (envelope cluster 0x0709). */
  fromTunnel(peer: string, zcl: Uint8Array): void {
    const alert = this.decode(zcl, (reason, detail) =>
      this.o.host.trace({
        type: 'app-drop',
        from: peer,
        clusterId: EVENTS_CLUSTER,
        reason,
        detail,
        via: 'tunnel',
      }),
    );
    if (alert) this.accept(peer, alert, 'tunnel');
  }

  /** Events cluster frames straight from a HAN device; false for other clusters. */
  handle(msg: IncomingZcl): boolean {
    if (msg.clusterId !== EVENTS_CLUSTER) return false;
    const host = this.o.host;
    const peer = msg.from.eui64;
    if (msg.security !== 'aps-link') {
      traceDrop(host, msg, 'device-alert-not-aps-secured');
      return true;
    }
    // GBCS: a GSME talks to the GPF; tunnel servers (ESME, PPMID, HCALCS) use their tunnel.
    if (this.o.deviceType(peer) !== 'GSME') {
      traceDrop(host, msg, 'device-alert-outside-tunnel', this.o.deviceType(peer));
      return true;
    }
    const alert = this.decode(msg.zcl, (reason, detail) => traceDrop(host, msg, reason, detail));
    if (alert) this.accept(peer, alert, 'gpf');
    return true;
  }

  private decode(zcl: Uint8Array, drop: (reason: string, detail: string) => void): DeviceAlert | null {
    try {
      return decodeDeviceAlert(zcl);
    } catch (e) {
      if (!(e instanceof DeviceAlertError)) throw e;
      drop('malformed-device-alert', `${e.code} ${e.message}`);
      return null;
    }
  }

  private accept(from: string, a: DeviceAlert, via: 'tunnel' | 'gpf'): void {
    const eventTimeUs = virtualUsOfZclUtc(a.eventTime);
    this.o.host.trace({
      type: 'device-alert',
      from,
      code: a.code,
      codeHex: alertCodeHex(a.code),
      logId: a.logId,
      eventTimeUs,
      via,
    });
    this.o.relay({ t: this.o.host.clock.now(), code: a.code, detail: { from, via, eventTimeUs } });
  }
}
