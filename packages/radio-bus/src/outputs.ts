/**
 * What a bus run leaves behind: pcap captures (TAP and/or with-FCS), the JSONL trace, and
 * live ZEP for a Wireshark watching in real time. One `close()` flushes them all, which is
 * what the CLI's SIGINT/SIGTERM handler calls.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RadioBus } from './bus.js';
import {
  type CapturedFrame,
  LINKTYPE_IEEE802_15_4_TAP,
  LINKTYPE_IEEE802_15_4_WITHFCS,
  ZEP_UDP_PORT,
  zepV2Datagram,
} from './capture.js';
import { JsonlWriter, PcapWriter } from './sinks.js';

/** Default virtual epoch for capture timestamps: 2026-01-01T00:00:00Z. */
export const DEFAULT_EPOCH_US = Date.UTC(2026, 0, 1) * 1000;

export interface BusOutputOptions {
  /** pcap with LINKTYPE_IEEE802_15_4_TAP (283): channel and page per frame. */
  pcapTap?: string;
  /** pcap with LINKTYPE_IEEE802_15_4_WITHFCS (195). */
  pcapFcs?: string;
  trace?: string;
  /** Live ZEP v2 datagrams (use with real time). */
  zep?: { host?: string; port?: number };
  epochUs?: number;
}

/** Sends every frame as a ZEP v2 datagram to a live Wireshark (udp port 17754). */
export class ZepSender {
  private readonly socket: Socket;
  private seq = 0;
  constructor(
    private readonly host = '127.0.0.1',
    private readonly port = ZEP_UDP_PORT,
    private readonly epochUs = DEFAULT_EPOCH_US,
  ) {
    this.socket = createSocket('udp4');
    // A missing listener is normal (nobody watching): ICMP errors must not end the run.
    this.socket.on('error', () => {});
  }

  send(frame: CapturedFrame): void {
    const deviceId = frame.source ? Number.parseInt(frame.source.slice(-4), 16) : 0;
    this.socket.send(zepV2Datagram(frame, this.seq++, deviceId, this.epochUs), this.port, this.host);
  }

  close(): void {
    this.socket.close();
  }
}

export interface BusOutputs {
  close(): void;
  flush(): void;
}

export function attachOutputs(bus: RadioBus, options: BusOutputOptions): BusOutputs {
  const epoch = options.epochUs ?? DEFAULT_EPOCH_US;
  const ensureDir = (p: string) => mkdirSync(dirname(p), { recursive: true });
  const closers: { flush(): void; close(): void }[] = [];
  for (const [path, linkType] of [
    [options.pcapTap, LINKTYPE_IEEE802_15_4_TAP],
    [options.pcapFcs, LINKTYPE_IEEE802_15_4_WITHFCS],
  ] as const) {
    if (path === undefined) continue;
    ensureDir(path);
    const w = new PcapWriter(path, linkType, epoch);
    bus.onFrame((f) => w.write(f));
    closers.push(w);
  }
  if (options.trace !== undefined) {
    ensureDir(options.trace);
    const w = new JsonlWriter(options.trace);
    bus.onTrace((e) => w.write(e));
    closers.push(w);
  }
  if (options.zep !== undefined) {
    const z = new ZepSender(options.zep.host, options.zep.port, epoch);
    bus.onFrame((f) => z.send(f));
    closers.push({ flush: () => {}, close: () => z.close() });
  }
  let closed = false;
  return {
    flush: () => {
      for (const c of closers) c.flush();
    },
    close: () => {
      if (closed) return;
      closed = true;
      for (const c of closers) c.close();
    },
  };
}
