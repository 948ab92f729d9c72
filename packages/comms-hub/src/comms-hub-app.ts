/**
 * The Communications Hub's applications over an `ApplicationHost`: the CHF (Device Log,
 * CBKE responder for every joiner, GB-HGRP tunnel client, WAN side) and the GPF (gas mirror
 * and sleepy queue). The stack under it is coordinator and trust centre; this layer gives it
 * the admission policy (`deviceLog.admission`) and runs everything after the join
 * (protocol-notes §2 steps 4-6).
 *
 * One instance is the RAM of one power cycle: `stop()` at power-off; a new instance (reading
 * NVM) at power-on, whose `start()` asks for the tunnels again (GBCS 10.2.2 "at power-on").
 */

import type { Dcc } from '@gbhan/gbcs';
import {
  type CbkeConfig,
  CbkeService,
  ClusterServer,
  decodeHandover,
  EVENTS_CLUSTER,
  encodeHandoverResponse,
  HANDOVER_CLUSTER,
  HandoverStatus,
  sendInterPanTraced,
  traceDrop,
  UNIX_EPOCH_AT_VIRTUAL_ZERO,
} from '@gbhan/runtime';
import type { AlertLog, ApplicationHost, CoordinatorHost, DropReasonOf, IncomingZcl } from '@gbhan/stack';
import { KEY_ESTABLISHMENT_CLUSTER, TUNNELING_CLUSTER } from '@gbhan/zigbee';
import { DeviceAlerts } from './device-alerts.js';
import { DeviceLog } from './device-log.js';
import { Gpf, METERING_CLUSTER } from './gpf.js';
import { DEFAULT_INTERPAN_WINDOW_US, InterPanWindow } from './interpan-window.js';
import { traceHub } from './trace-events.js';
import { TunnelManager, type TunnelManagerOptions } from './tunnel-manager.js';
import { type DccCommand, WanSide } from './wan.js';
import { WanGbcs } from './wan-gbcs.js';

export interface CommsHubAppConfig {
  cbke: CbkeConfig;
  /** Tunnel timings (tests shorten them). */
  tunnel?: Pick<TunnelManagerOptions, 'responseTimeoutUs' | 'retryUs' | 'busyRetryUs'>;
  /** Device Log capacity (default 16). */
  deviceLogCapacity?: number;
  /** Inter-PAN window from power-on (default 60 min, GBCS); 'unlimited' = SECMP0037. */
  interPanWindowUs?: number | 'unlimited';
  /** The DCC that builds GBCS commands for the WAN side (the run's remote parties). */
  dcc?: Dcc;
  /** SECMP0038: route GBCS commands an enhanced PPMID passes onto the HAN (default false: refused). */
  secmp0038?: boolean;
}

/** The hosts of the CHF beyond its `ApplicationHost` (the CH's node provides both). */
export interface CommsHubHosts {
  /** Refusals and Device Log changes recorded; a device's alert for the DCC queued (it waits in NVM for the WAN). */
  alertLog: AlertLog;
  /** Ask a device to leave and forget it (Device Log removal); none in unit tests. */
  coordinator?: Pick<CoordinatorHost, 'removeChild'>;
}

/** GBCS 10.2.2: the CHF is tunnel client to these device types. */
const TUNNEL_SERVER_TYPES = new Set(['ESME', 'HCALCS', 'PPMID']);

export class CommsHubApplication {
  readonly deviceLog: DeviceLog;
  readonly cbke: CbkeService;
  readonly tunnels: TunnelManager;
  readonly gpf: Gpf;
  readonly wan: WanSide;
  readonly alerts: DeviceAlerts;
  readonly clusters = new ClusterServer();
  /** Inter-PAN (HHT pairing): the window of this power cycle and its own CBKE responder. */
  readonly interPanWindow: InterPanWindow;
  readonly interPanCbke: CbkeService;
  /** Devices that completed Inter-PAN CBKE in this power cycle (may hand over an install code). */
  private readonly interPanKeyed = new Set<string>();
  /** Inter-PAN initiators told to wait (Terminate wait time): EUI64 -> virtual time. */
  private readonly interPanBackoff = new Map<string, number>();
  private stopped = false;

  constructor(
    readonly host: ApplicationHost,
    readonly config: CommsHubAppConfig,
    readonly hosts: CommsHubHosts,
  ) {
    this.deviceLog = new DeviceLog({
      nvm: host.nvm,
      clock: host.clock,
      trace: (e) => host.trace(e),
      securityLog: (event, detail) => hosts.alertLog.record(event, detail),
      ...(config.deviceLogCapacity !== undefined ? { capacity: config.deviceLogCapacity } : {}),
    });
    this.cbke = new CbkeService({
      host,
      config: config.cbke,
      acceptInitiator: (peer) => this.deviceLog.check(peer, 'cbke'),
      // A sleepy GSME needs no longer waiting times: the stack fast-polls while it awaits the
      // next Key Establishment message (OutgoingZcl.awaitReplyUs).
      onEstablished: (peer, role) => {
        if (role !== 'responder') return;
        this.deviceLog.markCommissioned(peer);
        const type = this.deviceLog.get(peer)?.deviceType;
        if (type && TUNNEL_SERVER_TYPES.has(type)) this.tunnels.request(peer, 'after-cbke');
      },
    });
    this.interPanWindow = new InterPanWindow({
      clock: host.clock,
      durationUs: config.interPanWindowUs ?? DEFAULT_INTERPAN_WINDOW_US,
      trace: (e) => host.trace(e),
    });
    // The CH responds to Inter-PAN Key Establishment from anyone inside the window: the
    // certificate (issuer, subject = sender) decides; one exchange at a time.
    this.interPanCbke = new CbkeService({
      host,
      config: config.cbke,
      interPan: true,
      onEstablished: (peer, role) => {
        if (role === 'responder') this.interPanKeyed.add(peer);
      },
      onResult: (peer, role, r) => {
        if (role !== 'responder' || r.ok) return;
        // Logged, and the peer is not served again before the Terminate's wait time.
        hosts.alertLog.record('interpan-cbke-failed', {
          eui64: peer,
          reason: r.reason,
          ...(r.terminateStatus !== undefined ? { terminateStatus: r.terminateStatus } : {}),
        });
      },
      onTerminateSent: (peer, status, waitTime) => this.backOff(peer, status, waitTime),
    });
    this.tunnels = new TunnelManager({
      host,
      onData: (peer, data) => this.tunnelData(peer, data),
      ...config.tunnel,
    });
    this.alerts = new DeviceAlerts({
      host,
      deviceType: (e) => this.deviceLog.get(e)?.deviceType,
      relay: (alert, alsoCommit) => hosts.alertLog.queueAlert(alert, alsoCommit),
      // The answer to a tunnelled alert goes back through the tunnel, as DCC commands do.
      sendThroughTunnel: (peer, data) => this.tunnels.send(peer, data),
    });
    const dcc = config.dcc;
    const isGsme = (e: string) => this.deviceLog.get(e)?.deviceType === 'GSME';
    // ASSUMPTION: the GPF is GB-HGRP tunnel server of every GSME commissioned in the Device Log
    // (CBKE done); the GSME asks for its tunnel (meter package, gsme-tunnel.ts).
    this.gpf = new Gpf({
      host,
      isGsme,
      acceptTunnel: (e) => this.deviceLog.get(e)?.commissioned === true,
      onGsmeReply: (gsme, clusterId, frame) => this.wan.onGsmeReply(gsme, clusterId, frame),
      onGbcsResponse: (gsme, message) => this.wan.onGbcsMessage(gsme, message),
    });
    this.wan = new WanSide({
      host,
      deviceLog: this.deviceLog,
      tunnels: this.tunnels,
      gpf: this.gpf,
      onDeviceRemoved: (eui64) => this.deviceRemoved(eui64),
      ...(dcc
        ? {
            gbcs: new WanGbcs({
              host,
              dcc,
              tunnels: this.tunnels,
              nowUnixMs: () => (UNIX_EPOCH_AT_VIRTUAL_ZERO * 1_000_000 + host.clock.now()) / 1000,
              wanUp: () => this.wan.up,
              isGsme,
              gpf: this.gpf,
              hanCommands: {
                secmp0038: config.secmp0038 === true,
                deviceType: (e) => this.deviceLog.get(e)?.deviceType,
                alertLog: hosts.alertLog,
              },
            }),
          }
        : {}),
    });
    // The CH's Metering server is the GPF mirror (the PPMID reads gas here).
    // ASSUMPTION: one GSME per CH; the mirror served is the first GSME in the Device Log.
    this.clusters.register(METERING_CLUSTER, {
      readAttributes: (ids) =>
        this.gpf.readMirror(this.deviceLog.entries().find((e) => e.deviceType === 'GSME')?.eui64, ids),
    });
  }

  /** The stack's admission policy (pass it to the coordinator node). */
  get admission(): (eui64: string) => { linkKey: Uint8Array } | null {
    return this.deviceLog.admission;
  }

  /** Power-on: ask for a tunnel with every commissioned tunnel server (GBCS 10.2.2). */
  start(): void {
    for (const e of this.deviceLog.entries()) {
      if (e.commissioned && TUNNEL_SERVER_TYPES.has(e.deviceType)) this.tunnels.request(e.eui64, 'power-on');
    }
  }

  /**
   * A commissioned tunnel server rejoined (`CoordinatorApplication.childRejoined`): it may have power
   * cycled and lost its end of the tunnel, which only the CHF can reopen. ASSUMPTION: GBCS
   * asks for tunnels at CH power-on and after CBKE; asking again on a rejoin is this
   * emulator's choice, so a meter's queued alerts do not wait for the CHF's next message.
   * A meter that kept its tunnel just gets a new one (the old is replaced).
   */
  deviceRejoined(eui64: string): void {
    if (this.stopped) return;
    const e = this.deviceLog.get(eui64);
    if (e?.commissioned && TUNNEL_SERVER_TYPES.has(e.deviceType))
      this.tunnels.request(eui64, 'device-rejoined');
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cbke.stop();
    this.interPanCbke.stop();
    this.interPanWindow.stop();
    this.tunnels.stop();
    this.gpf.stop();
  }

  /** A DCC command from the WAN (the scenario, or the process's JSON endpoint). */
  dcc(cmd: DccCommand): string {
    return this.wan.execute(cmd);
  }

  handle(msg: IncomingZcl): void {
    if (this.stopped) return;
    const peer = msg.from.eui64;
    if (msg.interPan) {
      this.handleInterPan(msg);
      return;
    }
    // The CHF talks only to devices in its Device Log (traced and security-logged).
    const refusal = this.deviceLog.check(peer, `zcl 0x${msg.clusterId.toString(16).padStart(4, '0')}`);
    if (refusal !== null) {
      traceDrop(this.host, msg, refusal);
      return;
    }
    if (this.cbke.handle(msg)) return;
    const entry = this.deviceLog.get(peer);
    // A GSME is tunnel client of the GPF: every Tunneling frame from it is the GPF's.
    if (msg.clusterId === TUNNELING_CLUSTER && entry?.deviceType === 'GSME') {
      this.gpf.tunnel.handle(msg);
      return;
    }
    if (entry?.commissioned && TUNNEL_SERVER_TYPES.has(entry.deviceType) && msg.security === 'aps-link') {
      this.tunnels.noteMessage(peer);
    }
    if (this.tunnels.handle(msg)) return;
    if (this.alerts.handle(msg)) return;
    if (this.gpf.handle(msg)) return;
    if (msg.security !== 'aps-link') {
      traceDrop(this.host, msg, 'not-aps-secured');
      return;
    }
    this.clusters.answer(this.host, msg, peer);
  }

  /**
   * TransferData from a tunnel server: an alert it sends unprompted (envelope cluster 0x0709,
   * decoded by `alerts` so even a truncated one is a typed drop), else an answer for the WAN.
   */
  private tunnelData(peer: string, data: Uint8Array): void {
    if (data.length >= 2 && (data[0]! | (data[1]! << 8)) === EVENTS_CLUSTER)
      this.alerts.fromTunnel(peer, data.subarray(2));
    else this.wan.onTunnelData(peer, data);
  }

  /**
   * The stack's Inter-PAN gate (`CoordinatorApplication.interPanGate`): outside the window every
   * Inter-PAN frame is dropped with reason `interpan-window-closed`, before decoding.
   */
  interPanGate(): DropReasonOf<'INTERPAN'> | null {
    return this.stopped || !this.interPanWindow.isOpen() ? 'interpan-window-closed' : null;
  }

  private handleInterPan(msg: IncomingZcl): void {
    // The stack's gate already dropped what arrives outside the window; this guards the rest.
    if (!this.interPanWindow.isOpen()) {
      traceDrop(this.host, msg, 'interpan-window-closed');
      return;
    }
    if (msg.clusterId === KEY_ESTABLISHMENT_CLUSTER) {
      const until = this.interPanBackoff.get(msg.from.eui64);
      if (until !== undefined && this.host.clock.now() < until) {
        traceDrop(this.host, msg, 'interpan-cbke-backoff');
        return;
      }
    }
    if (this.interPanCbke.handle(msg)) return;
    if (msg.clusterId === HANDOVER_CLUSTER) {
      this.handover(msg);
      return;
    }
    traceDrop(this.host, msg, 'interpan-not-served');
  }

  /**
   * ASSUMPTION: after sending an Inter-PAN initiator a Terminate the CH ignores that
   * initiator's Key Establishment frames for the wait time the Terminate gave (30 s by
   * default), so a flooding source costs it no more answers; at most 64 sources are remembered.
   */
  private backOff(peer: string, status: number, waitTime: number): void {
    if (this.interPanBackoff.size >= 64 && !this.interPanBackoff.has(peer)) {
      const oldest = this.interPanBackoff.keys().next().value as string;
      this.interPanBackoff.delete(oldest);
    }
    this.interPanBackoff.delete(peer);
    const until = this.host.clock.now() + waitTime * 1_000_000;
    this.interPanBackoff.set(peer, until);
    traceHub(this.host, { type: 'interpan-backoff', peer, terminateStatus: status, untilUs: until });
  }

  /** The install-code hand-over of an HHT (or a PPMID acting as one) after Inter-PAN CBKE. */
  private handover(msg: IncomingZcl): void {
    const peer = msg.from.eui64;
    if (msg.security !== 'aps-link' || !this.interPanKeyed.has(peer)) {
      traceDrop(
        this.host,
        msg,
        msg.security !== 'aps-link' ? 'handover-not-secured' : 'handover-without-cbke',
      );
      this.hosts.alertLog.record('interpan-handover-refused', { eui64: peer });
      return;
    }
    let h: ReturnType<typeof decodeHandover>;
    try {
      h = decodeHandover(msg.zcl);
    } catch (e) {
      traceDrop(this.host, msg, 'malformed-handover', (e as Error).message);
      return;
    }
    let status: number = HandoverStatus.Success;
    if (h.entityId !== peer) {
      // ASSUMPTION: a device hands over only its own install code (entity id = CBKE peer).
      status = HandoverStatus.WrongEntity;
      this.hosts.alertLog.record('interpan-handover-refused', { eui64: peer, entityId: h.entityId });
    } else {
      try {
        this.deviceLog.add({ eui64: h.entityId, deviceType: h.deviceType, installCode: h.installCode });
      } catch {
        status = HandoverStatus.Refused; // DeviceLogError: traced by the Device Log
      }
    }
    traceHub(this.host, {
      type: 'interpan-handover',
      peer,
      entityId: h.entityId,
      deviceType: h.deviceType,
      status,
    });
    void sendInterPanTraced(
      this.host,
      { eui64: peer, panId: msg.sourcePanId ?? 0xffff },
      { clusterId: HANDOVER_CLUSTER, zcl: encodeHandoverResponse(h.tsn, status), security: 'aps-link' },
      'interpan-handover-response',
    );
  }

  private deviceRemoved(eui64: string): void {
    this.tunnels.forget(eui64);
    this.gpf.forget(eui64);
    this.alerts.forget(eui64);
    this.host.removeLinkKey(eui64);
    void this.hosts.coordinator?.removeChild(eui64);
  }
}
