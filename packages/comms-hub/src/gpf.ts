/**
 * The Gas Proxy Function (protocol-notes §1, §2 step 6): the GSME sleeps on batteries, so the
 * GPF on the CH keeps a mirror of its register for everyone who wants a gas reading (the
 * DCC over the WAN, the PPMID on the HAN), and holds what must go to the GSME until the GSME
 * next wakes and checks in.
 *
 * GBCS commands for the GSME (CS01b, GCS28) wait in a second queue per GSME and go out
 * through GB-HGRP: the GPF is tunnel SERVER of the GSME (a `TunnelServer` accepting the
 * commissioned GSMEs of the Device Log); the GSME wakes and sends GET (`01`), the GPF answers
 * GET-RESPONSE (`02` + messages still waiting + the oldest message), the GSME's answer comes
 * back as PUT (`03` + its GBCS response) and goes to the DCC's check (`onGbcsResponse`).
 *
 * ASSUMPTION: a check-in is a Metering Report Attributes from the GSME (see the meter
 * package); the ZCL queue (the DCC's live reads) is delivered in order at the check-in. Both
 * queues are RAM (lost on a CH power cycle), at most 16 entries each per GSME, the oldest
 * dropped and traced. A GET with nothing waiting is not answered (no empty GET-RESPONSE).
 * ASSUMPTION: the GPF shares the CH's node (one radio, one EUI64).
 */
import { decodeTunnelCommand, encodeTunnelCommand } from '@gbhan/gbcs';
import { describeDecodeError, sendTraced, TunnelServer, traceDrop, ZclStatus } from '@gbhan/runtime';
import type { ApplicationHost, IncomingZcl } from '@gbhan/stack';
import { decodeZclFrame, type ReadAttributeRecord } from '@gbhan/zigbee';
import { traceHub } from './trace-events.js';

export const METERING_CLUSTER = 0x0702;
const ATTR_SUMMATION = 0x0000;

export type GasMirror = {
  /** CurrentSummationDelivered, litres. */
  summation: number;
  /** Virtual time of the GSME's last report. */
  updatedAtUs: number;
};

export interface QueuedFrame {
  clusterId: number;
  zcl: Uint8Array;
  /** Who asked (for the trace), e.g. a WAN request id. */
  tag?: string;
}

export interface GpfOptions {
  host: ApplicationHost;
  isGsme: (eui64: string) => boolean;
  /** A GSME's answer to a frame the GPF delivered (e.g. a Read Attributes Response). */
  onGsmeReply?: (gsme: string, clusterId: number, frame: ReturnType<typeof decodeZclFrame>) => void;
  // ASSUMPTION: at most 16 frames (and 16 GBCS messages) wait per GSME; older ones are dropped (traced).
  queueLimit?: number;
  /** Who may open a GB-HGRP tunnel with the GPF (the commissioned GSMEs). */
  acceptTunnel?: (eui64: string) => boolean;
  /** A GSME's PUT: its GBCS response, for the DCC's check. */
  onGbcsResponse?: (gsme: string, message: Uint8Array) => void;
}

export interface QueuedGbcs {
  message: Uint8Array;
  /** The DCC request it belongs to. */
  tag: string;
}

const NV_MIRROR = 'gpf.mirror';

export class Gpf {
  private readonly queues = new Map<string, QueuedFrame[]>();
  private readonly gbcsQueues = new Map<string, QueuedGbcs[]>();
  /** GB-HGRP tunnel server for the GSMEs (they are its clients). */
  readonly tunnel: TunnelServer;

  constructor(private readonly o: GpfOptions) {
    this.tunnel = new TunnelServer({
      host: o.host,
      acceptClient: (c) => o.isGsme(c) && (o.acceptTunnel?.(c) ?? true),
      onData: (client, data) => this.tunnelData(client, data),
      // One tunnel per GSME.
      maxTunnels: 16,
    });
  }

  /** GBCS messages waiting for the GSME's GET. */
  queuedGbcs(gsme: string): number {
    return this.gbcsQueues.get(gsme)?.length ?? 0;
  }

  /** Hold a GBCS command for the GSME until it asks with GET. */
  enqueueGbcs(gsme: string, entry: QueuedGbcs): void {
    const q = this.gbcsQueues.get(gsme) ?? [];
    q.push(entry);
    const limit = this.o.queueLimit ?? 16;
    while (q.length > limit) {
      const dropped = q.shift()!;
      traceHub(this.o.host, { type: 'gpf-gbcs-overflow', gsme, tag: dropped.tag });
    }
    this.gbcsQueues.set(gsme, q);
    traceHub(this.o.host, { type: 'gpf-gbcs-queued', gsme, depth: q.length, tag: entry.tag });
  }

  mirror(gsme: string): GasMirror | undefined {
    return this.o.host.nvm.read<Record<string, GasMirror>>(NV_MIRROR)?.[gsme];
  }

  /** Mirrors of every GSME reported so far. */
  mirrors(): Record<string, GasMirror> {
    return this.o.host.nvm.read<Record<string, GasMirror>>(NV_MIRROR) ?? {};
  }

  queued(gsme: string): number {
    return this.queues.get(gsme)?.length ?? 0;
  }

  /** Hold a frame for the GSME until it next checks in. */
  enqueue(gsme: string, frame: QueuedFrame): void {
    const q = this.queues.get(gsme) ?? [];
    q.push(frame);
    const limit = this.o.queueLimit ?? 16;
    while (q.length > limit) {
      const dropped = q.shift()!;
      traceHub(this.o.host, {
        type: 'gpf-queue-overflow',
        gsme,
        clusterId: dropped.clusterId,
        ...(dropped.tag ? { tag: dropped.tag } : {}),
      });
    }
    this.queues.set(gsme, q);
    traceHub(this.o.host, {
      type: 'gpf-queued',
      gsme,
      clusterId: frame.clusterId,
      depth: q.length,
      ...(frame.tag ? { tag: frame.tag } : {}),
    });
  }

  /** Power off: the queue is RAM; the mirror is in NVM. */
  stop(): void {
    this.queues.clear();
    this.gbcsQueues.clear();
    this.tunnel.stop();
  }

  /** Forget a GSME removed from the Device Log. */
  forget(gsme: string): void {
    this.queues.delete(gsme);
    this.gbcsQueues.delete(gsme);
  }

  /** TransferData from a GSME's tunnel: GET (answered with the next message) or PUT (its response). */
  private tunnelData(gsme: string, data: Uint8Array): Uint8Array | null {
    const host = this.o.host;
    let t: ReturnType<typeof decodeTunnelCommand>;
    try {
      t = decodeTunnelCommand(data);
    } catch (e) {
      traceHub(host, {
        type: 'app-drop',
        from: gsme,
        reason: 'bad-gbcs-tunnel',
        detail: (e as Error).message,
      });
      return null;
    }
    if (t.command === 'PUT') {
      if (this.o.onGbcsResponse) this.o.onGbcsResponse(gsme, t.message);
      else traceHub(host, { type: 'app-drop', from: gsme, reason: 'no-gbcs-path' });
      return null;
    }
    if (t.command !== 'GET') {
      traceHub(host, {
        type: 'app-drop',
        from: gsme,
        reason: 'bad-gbcs-tunnel',
        detail: `${t.command} from a GSME`,
      });
      return null;
    }
    const q = this.gbcsQueues.get(gsme);
    const next = q?.shift();
    traceHub(host, { type: 'gpf-get', gsme, queued: next ? q!.length + 1 : 0 });
    if (!next) return null;
    const remaining = q!.length;
    if (remaining === 0) this.gbcsQueues.delete(gsme);
    traceHub(host, { type: 'gpf-get-response', gsme, remaining, tag: next.tag });
    return encodeTunnelCommand({
      command: 'GET-RESPONSE',
      remaining: Math.min(remaining, 0xff),
      message: next.message,
    });
  }

  /** Frames from GSMEs; false for anything else (other devices reading the mirror go to `readMirror`). */
  handle(msg: IncomingZcl): boolean {
    const gsme = msg.from.eui64;
    if (!this.o.isGsme(gsme)) return false;
    const host = this.o.host;
    if (msg.security !== 'aps-link') {
      traceDrop(host, msg, 'gsme-not-aps-secured');
      return true;
    }
    let frame: ReturnType<typeof decodeZclFrame>;
    try {
      frame = decodeZclFrame(msg.zcl, { cluster: msg.clusterId });
    } catch (e) {
      traceDrop(host, msg, 'malformed-zcl', describeDecodeError(e));
      return true;
    }
    if (msg.clusterId === METERING_CLUSTER && frame.commandName === 'report') {
      const rec = (frame.payload as { attrId: number; attrData: unknown }[]).find(
        (r) => r.attrId === ATTR_SUMMATION,
      );
      if (rec && typeof rec.attrData === 'number') this.update(gsme, rec.attrData);
      else traceDrop(host, msg, 'report-without-summation');
      this.flush(gsme);
      return true;
    }
    if (msg.clusterId === METERING_CLUSTER && frame.commandName === 'readRsp') {
      const rec = (frame.payload as ReadAttributeRecord[]).find(
        (r) => r.attrId === ATTR_SUMMATION && r.status === 0,
      );
      if (rec && typeof rec.attrData === 'number') this.update(gsme, rec.attrData);
    }
    if (this.o.onGsmeReply) this.o.onGsmeReply(gsme, msg.clusterId, frame);
    else
      traceHub(host, { type: 'gpf-gsme-reply', gsme, clusterId: msg.clusterId, command: frame.commandName });
    return true;
  }

  /** Read Attributes records of the Metering mirror of `gsme`, for HAN readers. */
  readMirror(gsme: string | undefined, ids: readonly number[]): ReadAttributeRecord[] {
    const m = gsme ? this.mirror(gsme) : undefined;
    return ids.map((attrId): ReadAttributeRecord => {
      if (!m) return { attrId, status: ZclStatus.UNSUPPORTED_ATTRIBUTE };
      switch (attrId) {
        case ATTR_SUMMATION:
          return { attrId, status: 0, dataType: 0x25, attrData: m.summation };
        case 0x0300: // UnitOfMeasure: m3
          return { attrId, status: 0, dataType: 0x30, attrData: 0x01 };
        case 0x0302: // Divisor: litres -> m3
          return { attrId, status: 0, dataType: 0x22, attrData: 1000 };
        case 0x0306: // MeteringDeviceType: 0x80 + 2 = mirrored gas metering (D.3.2.2.4.7)
          return { attrId, status: 0, dataType: 0x18, attrData: 0x82 };
        default:
          return { attrId, status: ZclStatus.UNSUPPORTED_ATTRIBUTE };
      }
    });
  }

  private update(gsme: string, summation: number): void {
    const all = this.mirrors();
    all[gsme] = { summation, updatedAtUs: this.o.host.clock.now() };
    this.o.host.nvm.commit({ [NV_MIRROR]: all });
    traceHub(this.o.host, { type: 'gpf-mirror-update', gsme, summation });
  }

  private flush(gsme: string): void {
    const q = this.queues.get(gsme);
    if (!q || q.length === 0) return;
    this.queues.delete(gsme);
    for (const f of q) {
      traceHub(this.o.host, {
        type: 'gpf-deliver',
        gsme,
        clusterId: f.clusterId,
        ...(f.tag ? { tag: f.tag } : {}),
      });
      void sendTraced(
        this.o.host,
        { eui64: gsme },
        { clusterId: f.clusterId, zcl: f.zcl, security: 'aps-link' },
        'gpf-deliver',
      );
    }
  }
}
