/**
 * The CHF as GB-HGRP tunnel client (Tunneling 0x0704, SE 1.4 07-5356 D.6; GBCS 10.2.2 as
 * quoted in protocol-notes §2). After CBKE with an ESME, HCALCS or PPMID the CHF sends
 * RequestTunnel (protocol 6, manufacturer 0xFFFF, no flow control, 1500 octets) with APS
 * security. If that fails it tries again after 0xFFFF s, or earlier when a message arrives
 * from the device while there is no tunnel, or at power-on; a Busy answer is retried after
 * 3 minutes. Data then flows as TransferData in both directions.
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
import {
  encodeGbHgrpRequestTunnel,
  encodeZclCommand,
  GB_HGRP_MAX_INCOMING_TRANSFER_SIZE,
  TUNNELING_CLUSTER,
  TunnelStatus,
} from '@gbhan/zigbee';
import { traceHub } from './trace-events.js';

const SECOND = 1_000_000;
/** GBCS 10.2.2: retry a failed RequestTunnel after 0xFFFF seconds. */
export const TUNNEL_RETRY_US = 0xffff * SECOND;
/** GBCS 10.2.2: retry after 3 minutes when the server answered Busy. */
export const TUNNEL_BUSY_RETRY_US = 180 * SECOND;
// ASSUMPTION: no RequestTunnelResponse within 10 s counts as a failed request.
export const TUNNEL_RESPONSE_TIMEOUT_US = 10 * SECOND;

export type TunnelState = 'none' | 'requesting' | 'open' | 'waiting-retry';

export class TunnelError extends Error {
  constructor(
    readonly code: 'TUNNEL_NOT_OPEN' | 'TUNNEL_DATA_TOO_LARGE',
    message: string,
  ) {
    super(message);
    this.name = 'TunnelError';
  }
}

interface Peer {
  state: TunnelState;
  tunnelId?: number;
  tsn?: number;
  timer?: Timer;
}

export interface TunnelManagerOptions {
  host: ApplicationHost;
  /** TransferData from a server (a response or an unsolicited message). */
  onData: (peer: string, data: Uint8Array) => void;
  responseTimeoutUs?: number;
  retryUs?: number;
  busyRetryUs?: number;
}

export class TunnelManager {
  private readonly peers = new Map<string, Peer>();
  private tsn = 0;
  private stopped = false;

  constructor(private readonly o: TunnelManagerOptions) {}

  state(peer: string): TunnelState {
    return this.peers.get(peer)?.state ?? 'none';
  }

  tunnelId(peer: string): number | undefined {
    const p = this.peers.get(peer);
    return p?.state === 'open' ? p.tunnelId : undefined;
  }

  /** Send RequestTunnel to `peer` now (after CBKE, at power-on, on a message with no tunnel). */
  request(peer: string, why: string): void {
    if (this.stopped) return;
    const p = this.peer(peer);
    p.timer?.cancel();
    this.tsn = (this.tsn + 1) & 0xff;
    const tsn = this.tsn;
    p.state = 'requesting';
    p.tsn = tsn;
    delete p.tunnelId;
    p.timer = this.o.host.clock.setTimer(this.o.responseTimeoutUs ?? TUNNEL_RESPONSE_TIMEOUT_US, () =>
      this.failed(peer, 'no-response'),
    );
    traceHub(this.o.host, { type: 'tunnel-request-sent', peer, why });
    void sendTraced(
      this.o.host,
      { eui64: peer },
      { clusterId: TUNNELING_CLUSTER, zcl: encodeGbHgrpRequestTunnel(tsn), security: 'aps-link' },
      'request-tunnel',
    ).then((status) => {
      if (status !== 'sent' && p.state === 'requesting' && p.tsn === tsn) this.failed(peer, `send-${status}`);
    });
  }

  /** A message arrived from `peer`: with no tunnel (and none being asked for) ask now. */
  noteMessage(peer: string): void {
    const s = this.state(peer);
    if (s === 'none' || s === 'waiting-retry') this.request(peer, 'message-without-tunnel');
  }

  /** Forget a device (removed from the Device Log). */
  forget(peer: string): void {
    this.peers.get(peer)?.timer?.cancel();
    this.peers.delete(peer);
  }

  /** Power off: tunnels and timers are RAM. */
  stop(): void {
    this.stopped = true;
    for (const p of this.peers.values()) p.timer?.cancel();
    this.peers.clear();
  }

  /** Send data through the tunnel to `peer`. Throws TunnelError without an open tunnel. */
  send(peer: string, data: Uint8Array): void {
    const id = this.tunnelId(peer);
    if (id === undefined) throw new TunnelError('TUNNEL_NOT_OPEN', `no GB-HGRP tunnel with ${peer}`);
    if (data.length > GB_HGRP_MAX_INCOMING_TRANSFER_SIZE)
      throw new TunnelError(
        'TUNNEL_DATA_TOO_LARGE',
        `${data.length} octets > ${GB_HGRP_MAX_INCOMING_TRANSFER_SIZE}`,
      );
    this.tsn = (this.tsn + 1) & 0xff;
    const zcl = encodeZclCommand({
      cluster: TUNNELING_CLUSTER,
      command: 'transferData',
      direction: 'clientToServer',
      payload: { tunnelId: id, data },
      tsn: this.tsn,
    });
    traceHub(this.o.host, { type: 'tunnel-data-out', peer, tunnelId: id, length: data.length });
    void sendTraced(
      this.o.host,
      { eui64: peer },
      { clusterId: TUNNELING_CLUSTER, zcl, security: 'aps-link' },
      'transfer-data',
    );
  }

  /** Tunneling frames from servers; false when not Tunneling. */
  handle(msg: IncomingZcl): boolean {
    if (msg.clusterId !== TUNNELING_CLUSTER) return false;
    if (this.stopped) return true;
    const host = this.o.host;
    const peer = msg.from.eui64;
    const frame = decodeZclOrDrop(host, msg, TUNNELING_CLUSTER);
    if (frame === null) return true;
    const h = frame.header;
    if (h.frameType === 'global') {
      if (frame.commandName === 'defaultRsp') {
        traceHub(host, {
          type: 'zcl-default-response',
          from: peer,
          clusterId: TUNNELING_CLUSTER,
          payload: frame.payload,
        });
      } else {
        traceDrop(host, msg, 'unsupported-global-command', frame.commandName);
        sendDefaultResponse(host, msg, h, ZclStatus.UNSUP_GENERAL_COMMAND);
      }
      return true;
    }
    if (msg.security !== 'aps-link') {
      traceDrop(host, msg, 'tunnel-without-aps-security', frame.commandName);
      sendDefaultResponse(host, msg, h, ZclStatus.NOT_AUTHORIZED);
      return true;
    }
    if (h.direction !== 'serverToClient') {
      // The CHF is client only: devices do not open tunnels towards it.
      traceDrop(host, msg, 'chf-is-tunnel-client', frame.commandName);
      sendDefaultResponse(host, msg, h, ZclStatus.UNSUP_CLUSTER_COMMAND);
      return true;
    }
    const p = frame.payload as Record<string, unknown>;
    const peerState = this.peers.get(peer);
    switch (frame.commandName) {
      case 'requestTunnelRsp': {
        if (peerState?.state !== 'requesting' || peerState.tsn !== h.transactionSequenceNumber) {
          traceDrop(host, msg, 'unexpected-request-tunnel-response');
          return true;
        }
        const status = p.status as number;
        if (status === TunnelStatus.Success) {
          peerState.timer?.cancel();
          delete peerState.timer;
          peerState.state = 'open';
          peerState.tunnelId = p.tunnelId as number;
          traceHub(host, { type: 'tunnel-established', peer, tunnelId: peerState.tunnelId });
        } else if (status === TunnelStatus.Busy) {
          this.scheduleRetry(peer, this.o.busyRetryUs ?? TUNNEL_BUSY_RETRY_US, 'busy');
        } else {
          this.failed(peer, `status-${status}`);
        }
        return true;
      }
      case 'transferData': {
        if (peerState?.state !== 'open' || peerState.tunnelId !== p.tunnelId) {
          refuseUnknownTunnel(host, msg, p.tunnelId as number, h.transactionSequenceNumber);
          this.noteMessage(peer);
          return true;
        }
        traceHub(host, {
          type: 'tunnel-data-in',
          peer,
          tunnelId: peerState.tunnelId!, // open: set, and equal to the frame's
          length: (p.data as Uint8Array).length,
        });
        this.o.onData(peer, p.data as Uint8Array);
        return true;
      }
      case 'transferDataError':
      case 'closureNotification': {
        traceHub(host, {
          type: 'tunnel-lost',
          peer,
          why: frame.commandName,
          ...(p.status !== undefined ? { status: p.status } : {}),
        });
        if (peerState?.state === 'open' && peerState.tunnelId === p.tunnelId)
          this.request(peer, frame.commandName);
        return true;
      }
      default:
        traceDrop(host, msg, 'unsupported-tunnel-command', frame.commandName);
        return true;
    }
  }

  private peer(peer: string): Peer {
    let p = this.peers.get(peer);
    if (!p) {
      p = { state: 'none' };
      this.peers.set(peer, p);
    }
    return p;
  }

  private failed(peer: string, why: string): void {
    this.scheduleRetry(peer, this.o.retryUs ?? TUNNEL_RETRY_US, why);
  }

  private scheduleRetry(peer: string, delayUs: number, why: string): void {
    if (this.stopped) return;
    const p = this.peer(peer);
    p.timer?.cancel();
    p.state = 'waiting-retry';
    p.timer = this.o.host.clock.setTimer(delayUs, () => this.request(peer, `retry-after-${why}`));
    traceHub(this.o.host, { type: 'tunnel-request-failed', peer, why, retryInUs: delayUs });
  }
}
