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
import {
  type ApplicationHost,
  type CbkeConfig,
  CbkeService,
  ClusterServer,
  type IncomingZcl,
  sendTraced,
  traceDrop,
} from '@gbhan/stack';
import { DeviceLog } from './device-log.js';

import { Gpf, METERING_CLUSTER } from './gpf.js';

import { TunnelManager, type TunnelManagerOptions } from './tunnel-manager.js';

import { type DccCommand, WanSide } from './wan.js';

export interface CommsHubAppConfig {
  cbke: CbkeConfig;
  /** Tunnel timings (tests shorten them). */
  tunnel?: Pick<TunnelManagerOptions, 'responseTimeoutUs' | 'retryUs' | 'busyRetryUs'>;
  /** Device Log capacity (default 16). */
  deviceLogCapacity?: number;
}

export interface CommsHubHooks {
  /** The device's security log (the stack's `securityLog.record`). */
  securityLog: (event: string, detail?: Record<string, string | number | boolean>) => void;
  /** Ask a device to leave and forget it (the stack's `removeChild`). */
  removeChild?: (eui64: string) => void;
}

/** GBCS 10.2.2: the CHF is tunnel client to these device types. */
const TUNNEL_SERVER_TYPES = new Set(['ESME', 'HCALCS', 'PPMID']);

export class CommsHubApplication {
  readonly deviceLog: DeviceLog;
  readonly cbke: CbkeService;
  readonly tunnels: TunnelManager;
  readonly gpf: Gpf;
  readonly wan: WanSide;
  readonly clusters = new ClusterServer();
  private stopped = false;

  constructor(
    readonly host: ApplicationHost,
    readonly config: CommsHubAppConfig,
    readonly hooks: CommsHubHooks,
  ) {
    this.deviceLog = new DeviceLog({
      nvm: host.nvm,
      clock: host.clock,
      trace: (e) => host.trace(e),
      securityLog: hooks.securityLog,
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
    this.tunnels = new TunnelManager({
      host,
      onData: (peer, data) => this.wan.onTunnelData(peer, data),
      ...config.tunnel,
    });
    this.gpf = new Gpf({
      host,
      isGsme: (e) => this.deviceLog.get(e)?.deviceType === 'GSME',
      onGsmeReply: (gsme, clusterId, frame) => this.wan.onGsmeReply(gsme, clusterId, frame),
    });
    this.wan = new WanSide({
      host,
      deviceLog: this.deviceLog,
      tunnels: this.tunnels,
      gpf: this.gpf,
      onDeviceRemoved: (eui64) => this.deviceRemoved(eui64),
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

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cbke.stop();
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
      // ASSUMPTION: Inter-PAN (the HHT's window, issue 6) is not served by this layer yet.
      traceDrop(this.host, msg, 'inter-pan-not-served');
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
    if (entry?.commissioned && TUNNEL_SERVER_TYPES.has(entry.deviceType) && msg.security === 'aps-link') {
      this.tunnels.noteMessage(peer);
    }
    if (this.tunnels.handle(msg)) return;
    if (this.gpf.handle(msg)) return;
    if (msg.security !== 'aps-link') {
      traceDrop(this.host, msg, 'not-aps-secured');
      return;
    }
    const r = this.clusters.serve(msg.clusterId, msg.zcl, peer);
    if (r.refused) traceDrop(this.host, msg, r.refused);
    if (r.reply)
      void sendTraced(
        this.host,
        msg.from,
        { clusterId: msg.clusterId, zcl: r.reply, security: 'aps-link' },
        'zcl-reply',
      );
  }

  private deviceRemoved(eui64: string): void {
    this.tunnels.forget(eui64);
    this.host.removeLinkKey(eui64);
    this.hooks.removeChild?.(eui64);
  }
}
