/**
 * The GB-HGRP tunnel server of an ESME (Tunneling 0x0704, SE 1.4 07-5356 D.6; GBCS 10.2.2):
 * the CHF is the tunnel client and asks for a tunnel with RequestTunnel (protocol 6,
 * manufacturer 0xFFFF, no flow control, 1500 octets); this side answers with a tunnel id and
 * then exchanges TransferData both ways. Only the CHF may open a tunnel and every tunnel
 * frame must be APS-secured with the link key CBKE produced. Used by the ESME and the PPMID
 * (the CHF asks both for a tunnel).
 */

import type { ApplicationHost, IncomingZcl, SendStatus } from '@gbhan/stack';
import {
  encodeZclCommand,
  GB_HGRP_MANUFACTURER_CODE,
  GB_HGRP_MAX_INCOMING_TRANSFER_SIZE,
  GB_HGRP_PROTOCOL_ID,
  TransferDataStatus,
  TUNNELING_CLUSTER,
  TunnelStatus,
} from '@gbhan/zigbee';
import { traceApp } from './trace-events.js';
import { decodeZclOrDrop, sendDefaultResponse, sendTraced, traceDrop, ZclStatus } from './zcl-helpers.js';

export interface TunnelServerOptions {
  host: ApplicationHost;
  /** Who may open a tunnel (the CHF: the trust centre this device joined). */
  acceptClient: (eui64: string) => boolean;
  /** Data the client sent through the tunnel; the result (if any) goes back through it. */
  onData: (client: string, data: Uint8Array) => Uint8Array | null;
  /**
   * A tunnel to `client` opened: its RequestTunnelResponse was acknowledged, so the client
   * holds the tunnel id and data sent now reaches it (e.g. queued alerts).
   */
  onOpened?: (client: string) => void;
  /**
   * The client could not take a TransferData sent on `tunnelId` (TransferDataError, e.g. no
   * such tunnel after its power cycle): what was sent on it did not arrive.
   */
  onDataError?: (client: string, tunnelId: number, status: number) => void;
  /**
   * The tunnel `tunnelId` to `client` closed (the client's CloseTunnel, or the client's
   * TransferDataError saying it knows no such tunnel): nothing comes back through it any more.
   * Not called when a new RequestTunnel replaces it: the client answers through the new one.
   */
  onClosed?: (client: string, tunnelId: number) => void;
  // ASSUMPTION: one GB-HGRP tunnel per client and at most 2 clients (the CHF, spare);
  // a new RequestTunnel from a client that has one replaces it (after a CHF power cycle).
  maxTunnels?: number;
}

interface Tunnel {
  id: number;
  client: string;
}

export class TunnelServer {
  private readonly tunnels = new Map<number, Tunnel>();
  private nextId = 1;
  private tsn = 0;

  constructor(private readonly o: TunnelServerOptions) {}

  /** The tunnel id the client holds, if any. */
  tunnelOf(client: string): number | undefined {
    for (const t of this.tunnels.values()) if (t.client === client) return t.id;
    return undefined;
  }

  get openTunnels(): number {
    return this.tunnels.size;
  }

  /** Power off: tunnels are RAM. */
  stop(): void {
    this.tunnels.clear();
  }

  /** Feed a ZCL frame; false when it is not for the Tunneling cluster server. */
  handle(msg: IncomingZcl): boolean {
    if (msg.clusterId !== TUNNELING_CLUSTER) return false;
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
    if (h.direction !== 'clientToServer') {
      traceDrop(host, msg, 'tunnel-response-to-server', frame.commandName);
      return true;
    }
    // GBCS: tunnel traffic is APS-secured with the CBKE link key.
    if (msg.security !== 'aps-link') {
      traceDrop(host, msg, 'tunnel-without-aps-security', frame.commandName);
      sendDefaultResponse(host, msg, h, ZclStatus.NOT_AUTHORIZED);
      return true;
    }
    const client = msg.from.eui64;
    const p = frame.payload as Record<string, unknown>;
    switch (frame.commandName) {
      case 'requestTunnel':
        this.requestTunnel(msg, h.transactionSequenceNumber, p);
        return true;
      case 'transferData':
        this.transferData(msg, p.tunnelId as number, p.data as Uint8Array);
        return true;
      case 'transferDataError': {
        // D.6.2.4.4: the client dropped our TransferData. A tunnel it does not know is of no
        // more use: closed here, and the client asks for a new one (it does on the frame it
        // dropped, GBCS 10.2.2).
        const tunnelId = p.tunnelId as number;
        const status = p.status as number;
        traceApp(host, { type: 'tunnel-data-error', client, tunnelId, status });
        // Told before the tunnel closes: the error, not the closure, is why the data is lost.
        this.o.onDataError?.(client, tunnelId, status);
        const t = this.tunnels.get(tunnelId);
        if (t !== undefined && t.client === client && status === TransferDataStatus.NoSuchTunnel)
          this.close(t, 'no-such-tunnel');
        sendDefaultResponse(host, msg, h, ZclStatus.SUCCESS);
        return true;
      }
      case 'closeTunnel': {
        const t = this.tunnels.get(p.tunnelId as number);
        if (t !== undefined && t.client === client) {
          this.close(t, 'client');
          sendDefaultResponse(host, msg, h, ZclStatus.SUCCESS);
        } else {
          traceDrop(host, msg, 'close-unknown-tunnel', String(p.tunnelId));
          sendDefaultResponse(host, msg, h, ZclStatus.INVALID_VALUE);
        }
        return true;
      }
      default:
        traceDrop(host, msg, 'unsupported-tunnel-command', frame.commandName);
        sendDefaultResponse(host, msg, h, ZclStatus.UNSUP_CLUSTER_COMMAND);
        return true;
    }
  }

  /**
   * Send data to the client through its tunnel (e.g. an alert): true once the first hop
   * acknowledged it; false without a tunnel or when the send failed.
   */
  async sendToClient(client: string, data: Uint8Array): Promise<boolean> {
    const id = this.tunnelOf(client);
    if (id === undefined) return false;
    return (await this.sendTransferData(client, id, data)) === 'sent';
  }

  private close(t: Tunnel, by: 'client' | 'no-such-tunnel'): void {
    this.tunnels.delete(t.id);
    traceApp(this.o.host, { type: 'tunnel-closed', client: t.client, tunnelId: t.id, by });
    this.o.onClosed?.(t.client, t.id);
  }

  private requestTunnel(msg: IncomingZcl, tsn: number, p: Record<string, unknown>): void {
    const host = this.o.host;
    const client = msg.from.eui64;
    const reply = (tunnelId: number, status: number) => {
      const zcl = encodeZclCommand({
        cluster: TUNNELING_CLUSTER,
        command: 'requestTunnelRsp',
        direction: 'serverToClient',
        payload: { tunnelId, status, maxIncomingTransferSize: GB_HGRP_MAX_INCOMING_TRANSFER_SIZE },
        tsn,
      });
      traceApp(host, { type: 'tunnel-request', client, status, tunnelId });
      return sendTraced(
        host,
        msg.from,
        { clusterId: TUNNELING_CLUSTER, zcl, security: 'aps-link' },
        'request-tunnel-rsp',
      );
    };
    if (!this.o.acceptClient(client)) {
      traceDrop(host, msg, 'tunnel-client-not-allowed');
      void reply(0xffff, TunnelStatus.Busy);
      return;
    }
    if (p.protocolId !== GB_HGRP_PROTOCOL_ID || p.manufacturerCode !== GB_HGRP_MANUFACTURER_CODE) {
      void reply(0xffff, TunnelStatus.ProtocolNotSupported);
      return;
    }
    if (p.flowControl) {
      void reply(0xffff, TunnelStatus.FlowControlNotSupported);
      return;
    }
    const old = this.tunnelOf(client);
    if (old !== undefined) this.tunnels.delete(old);
    if (this.tunnels.size >= (this.o.maxTunnels ?? 2)) {
      void reply(0xffff, TunnelStatus.NoMoreTunnelIds);
      return;
    }
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffe ? 1 : this.nextId + 1;
    const tunnel = { id, client };
    this.tunnels.set(id, tunnel);
    void reply(id, TunnelStatus.Success).then((status) => {
      // Only a response the client got opens the tunnel for it (and only if not replaced since).
      if (status === 'sent' && this.tunnels.get(id) === tunnel) this.o.onOpened?.(client);
    });
  }

  private transferData(msg: IncomingZcl, tunnelId: number, data: Uint8Array): void {
    const host = this.o.host;
    const client = msg.from.eui64;
    const t = this.tunnels.get(tunnelId);
    const error = (status: number, reason: string) => {
      traceDrop(host, msg, reason, `tunnel ${tunnelId}`);
      const zcl = encodeZclCommand({
        cluster: TUNNELING_CLUSTER,
        command: 'transferDataError',
        direction: 'serverToClient',
        payload: { tunnelId, status },
        tsn: this.nextTsn(),
      });
      void sendTraced(
        host,
        msg.from,
        { clusterId: TUNNELING_CLUSTER, zcl, security: 'aps-link' },
        'transfer-data-error',
      );
    };
    if (t === undefined) {
      error(TransferDataStatus.NoSuchTunnel, 'no-such-tunnel');
      return;
    }
    if (t.client !== client) {
      error(TransferDataStatus.WrongDevice, 'tunnel-wrong-device');
      return;
    }
    if (data.length > GB_HGRP_MAX_INCOMING_TRANSFER_SIZE) {
      error(TransferDataStatus.DataOverflow, 'tunnel-data-overflow');
      return;
    }
    traceApp(host, { type: 'tunnel-data-in', client, tunnelId, length: data.length });
    const response = this.o.onData(client, data);
    if (response !== null) void this.sendTransferData(client, tunnelId, response);
  }

  private sendTransferData(client: string, tunnelId: number, data: Uint8Array): Promise<SendStatus> {
    const zcl = encodeZclCommand({
      cluster: TUNNELING_CLUSTER,
      command: 'transferData',
      direction: 'serverToClient',
      payload: { tunnelId, data },
      tsn: this.nextTsn(),
    });
    traceApp(this.o.host, { type: 'tunnel-data-out', client, tunnelId, length: data.length });
    return sendTraced(
      this.o.host,
      { eui64: client },
      { clusterId: TUNNELING_CLUSTER, zcl, security: 'aps-link' },
      'transfer-data',
    );
  }

  private nextTsn(): number {
    this.tsn = (this.tsn + 1) & 0xff;
    return this.tsn;
  }
}

/**
 * A tunnel client's answer to Transfer Data on a tunnel it does not hold (the CHF's, the
 * GSME's): traced, and a TransferDataError NoSuchTunnel back the way it came.
 */
export function refuseUnknownTunnel(
  host: ApplicationHost,
  msg: IncomingZcl,
  tunnelId: number,
  tsn: number,
): void {
  traceDrop(host, msg, 'transfer-data-unknown-tunnel', String(tunnelId));
  const zcl = encodeZclCommand({
    cluster: TUNNELING_CLUSTER,
    command: 'transferDataError',
    direction: 'clientToServer',
    payload: { tunnelId, status: TransferDataStatus.NoSuchTunnel },
    tsn,
  });
  void sendTraced(
    host,
    msg.from,
    { clusterId: TUNNELING_CLUSTER, zcl, security: 'aps-link' },
    'transfer-data-error',
  );
}
