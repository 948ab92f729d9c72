/**
 * The GSME's end of its GB-HGRP tunnel with the GPF (Tunneling 0x0704, SE 1.4 07-5356 D.6;
 * GBCS 10.2.2): the GSME sleeps, so it is the tunnel CLIENT and fetches what the GPF holds
 * for it - GET (`01`), the GPF's GET-RESPONSE (`02` + remaining count + one GBCS message),
 * the GSME's GBCS response as PUT (`03` + message).
 *
 * ASSUMPTION: the GSME asks the GPF (the CH's node) for its tunnel after CBKE with the CH and
 * at every join of a power cycle (power-on, rejoin), and again at a wake-up when it has none
 * (no RequestTunnelResponse within 10 s, or the GPF said it knows no such tunnel) - not after
 * 0xFFFF s as the CHF retries: a battery device that wakes anyway asks when it is awake.
 */
import type { Timer } from '@gbhan/clock';
import {
  decodeZclOrDrop,
  refuseUnknownTunnel,
  sendDefaultResponse,
  sendTraced,
  traceDrop,
  ZclStatus,
} from '@gbhan/runtime';
import type { ApplicationHost, IncomingZcl } from '@gbhan/stack';
import { encodeGbHgrpRequestTunnel, encodeZclCommand, TUNNELING_CLUSTER, TunnelStatus } from '@gbhan/zigbee';
import { traceMeter } from './trace-events.js';

// ASSUMPTION: as the CHF, no RequestTunnelResponse within 10 s is a failed request.
export const GSME_TUNNEL_RESPONSE_TIMEOUT_US = 10_000_000;

export type GsmeTunnelState = 'none' | 'requesting' | 'open';

export interface GsmeTunnelOptions {
  host: ApplicationHost;
  /** The GPF (the CH's EUI64). */
  server: () => string;
  /** The tunnel opened: the GSME asks for what waits for it. */
  onOpen: () => void;
  /** TransferData from the GPF through the tunnel. */
  onData: (data: Uint8Array) => void;
  responseTimeoutUs?: number;
}

export class GsmeTunnelClient {
  private s: GsmeTunnelState = 'none';
  private tunnelId: number | undefined;
  private tsn = 0;
  private requestTsn = -1;
  private timer: Timer | undefined;
  private stopped = false;

  constructor(private readonly o: GsmeTunnelOptions) {}

  get state(): GsmeTunnelState {
    return this.s;
  }

  get id(): number | undefined {
    return this.s === 'open' ? this.tunnelId : undefined;
  }

  /** RequestTunnel to the GPF now (protocol 6, manufacturer 0xFFFF, no flow control). */
  request(why: string): void {
    if (this.stopped) return;
    this.timer?.cancel();
    const tsn = this.nextTsn();
    this.s = 'requesting';
    this.requestTsn = tsn;
    this.tunnelId = undefined;
    const timeoutUs = this.o.responseTimeoutUs ?? GSME_TUNNEL_RESPONSE_TIMEOUT_US;
    this.timer = this.o.host.clock.setTimer(timeoutUs, () => this.failed('no-response'));
    traceMeter(this.o.host, { type: 'gsme-tunnel', state: 'requested', why });
    void sendTraced(
      this.o.host,
      { eui64: this.o.server() },
      {
        clusterId: TUNNELING_CLUSTER,
        zcl: encodeGbHgrpRequestTunnel(tsn),
        security: 'aps-link',
        // Sleepy: poll fast until the GPF's answer arrives (as for CBKE).
        awaitReplyUs: timeoutUs,
      },
      'request-tunnel',
    ).then((status) => {
      if (status !== 'sent' && this.s === 'requesting' && this.requestTsn === tsn)
        this.failed(`send-${status}`);
    });
  }

  /** TransferData to the GPF; false without an open tunnel. */
  send(data: Uint8Array): boolean {
    const id = this.id;
    if (id === undefined || this.stopped) return false;
    const zcl = encodeZclCommand({
      cluster: TUNNELING_CLUSTER,
      command: 'transferData',
      direction: 'clientToServer',
      payload: { tunnelId: id, data },
      tsn: this.nextTsn(),
    });
    traceMeter(this.o.host, {
      type: 'tunnel-data-out',
      peer: this.o.server(),
      tunnelId: id,
      length: data.length,
    });
    void sendTraced(
      this.o.host,
      { eui64: this.o.server() },
      { clusterId: TUNNELING_CLUSTER, zcl, security: 'aps-link' },
      'transfer-data',
    );
    return true;
  }

  /** Power off: the tunnel is RAM. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.s = 'none';
    this.tunnelId = undefined;
  }

  /** Tunneling frames from the GPF (already checked: APS-secured, from the CH); false otherwise. */
  handle(msg: IncomingZcl): boolean {
    if (msg.clusterId !== TUNNELING_CLUSTER) return false;
    if (this.stopped) return true;
    const host = this.o.host;
    const frame = decodeZclOrDrop(host, msg, TUNNELING_CLUSTER);
    if (frame === null) return true;
    const h = frame.header;
    if (h.frameType === 'global') {
      if (frame.commandName !== 'defaultRsp') {
        traceDrop(host, msg, 'unsupported-global-command', frame.commandName);
        sendDefaultResponse(host, msg, h, ZclStatus.UNSUP_GENERAL_COMMAND);
      }
      return true;
    }
    if (h.direction !== 'serverToClient') {
      // The GSME is tunnel client only: the GPF does not open tunnels towards it.
      traceDrop(host, msg, 'gsme-is-tunnel-client', frame.commandName);
      sendDefaultResponse(host, msg, h, ZclStatus.UNSUP_CLUSTER_COMMAND);
      return true;
    }
    const p = frame.payload as Record<string, unknown>;
    switch (frame.commandName) {
      case 'requestTunnelRsp': {
        if (this.s !== 'requesting' || this.requestTsn !== h.transactionSequenceNumber) {
          traceDrop(host, msg, 'unexpected-request-tunnel-response');
          return true;
        }
        const status = p.status as number;
        if (status !== TunnelStatus.Success) {
          this.failed(`status-${status}`);
          return true;
        }
        this.timer?.cancel();
        this.timer = undefined;
        this.s = 'open';
        this.tunnelId = p.tunnelId as number;
        traceMeter(host, { type: 'gsme-tunnel', state: 'open', tunnelId: this.tunnelId });
        this.o.onOpen();
        return true;
      }
      case 'transferData': {
        if (this.s !== 'open' || this.tunnelId !== p.tunnelId) {
          refuseUnknownTunnel(host, msg, p.tunnelId as number, h.transactionSequenceNumber);
          return true;
        }
        const data = p.data as Uint8Array;
        const tunnelId = p.tunnelId as number;
        traceMeter(host, { type: 'tunnel-data-in', peer: msg.from.eui64, tunnelId, length: data.length });
        this.o.onData(data);
        return true;
      }
      case 'transferDataError':
      case 'closureNotification': {
        // The GPF lost our tunnel (e.g. the CH power-cycled): ask for a new one now.
        if (this.s === 'open' && this.tunnelId === p.tunnelId) {
          traceMeter(host, { type: 'gsme-tunnel', state: 'lost', why: frame.commandName });
          this.request(frame.commandName);
        } else traceDrop(host, msg, 'tunnel-notice-unknown-tunnel', String(p.tunnelId));
        return true;
      }
      default:
        traceDrop(host, msg, 'unsupported-tunnel-command', frame.commandName);
        return true;
    }
  }

  private failed(why: string): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.s = 'none';
    this.tunnelId = undefined;
    // Asked again at the next wake-up.
    traceMeter(this.o.host, { type: 'gsme-tunnel', state: 'failed', why });
  }

  private nextTsn(): number {
    this.tsn = (this.tsn + 1) & 0xff;
    return this.tsn;
  }
}
