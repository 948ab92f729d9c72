/**
 * The CH's WAN side: the DCC's end of the hub. In a run the DCC is played by the scenario
 * (in-process) or by a local JSON endpoint (process mode); both come here as `DccCommand`s.
 * "Update HAN Device Log" adds or removes Device Log entries; commands for a meter go through
 * the GB-HGRP tunnel (ESME) or are answered from the GPF mirror / queued for the sleepy GSME.
 * With the WAN down every DCC command fails with a typed error, traced.
 *
 * Responses are traced as `wan-response` events with the request id the command got.
 */

import { decodeTunnelledZcl, encodeTunnelledZcl } from '@gbhan/runtime';
import type { ApplicationHost } from '@gbhan/stack';
import {
  type DecodedZclFrame,
  decodeZclFrame,
  encodeReadAttributes,
  encodeZclCommand,
  isEui64,
  toHex,
} from '@gbhan/zigbee';
import type { DeviceLog } from './device-log.js';

import type { Gpf } from './gpf.js';
import { traceHub } from './trace-events.js';
import { TunnelError, type TunnelManager } from './tunnel-manager.js';

export type DccCommand =
  | { kind: 'update-device-log'; op: 'add'; eui64: string; deviceType: string; installCode: string }
  | { kind: 'update-device-log'; op: 'remove'; eui64: string }
  /** Metering register (+ demand) of an ESME through the tunnel, or the GPF mirror of a GSME. */
  | { kind: 'read-meter'; target: string; live?: boolean }
  /** Prepayment credit of an ESME. */
  | { kind: 'read-credit'; target: string }
  /** A top-up sent by the DCC (originating device: ESI). */
  | { kind: 'top-up'; target: string; code: string };

export type WanErrorCode =
  | 'WAN_DOWN'
  | 'WAN_BAD_COMMAND'
  | 'WAN_UNKNOWN_DEVICE'
  | 'WAN_WRONG_DEVICE_TYPE'
  | 'WAN_NO_TUNNEL'
  | 'WAN_DEVICE_LOG';

export class WanError extends Error {
  constructor(
    readonly code: WanErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WanError';
  }
}

export interface WanSideOptions {
  host: ApplicationHost;
  deviceLog: DeviceLog;
  tunnels: TunnelManager;
  gpf: Gpf;
  /** After a Device Log removal: drop keys, tunnel, ask the device to leave. */
  onDeviceRemoved: (eui64: string) => void;
  /** After a Device Log add. */
  onDeviceAdded?: (eui64: string) => void;
}

const METERING = 0x0702;
const PREPAYMENT = 0x0705;

/** Values as they can go into a JSON trace (bytes as hex, bigints as strings). */
export function jsonSafe(v: unknown): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

export class WanSide {
  private wanUp = true;
  private seq = 0;
  private tsn = 0;
  /** Requests waiting for an answer: `${peer}/${clusterId}/${tsn}` -> request id. */
  private readonly pending = new Map<string, string>();

  constructor(private readonly o: WanSideOptions) {}

  get up(): boolean {
    return this.wanUp;
  }

  setUp(up: boolean): void {
    if (this.wanUp === up) return;
    this.wanUp = up;
    traceHub(this.o.host, { type: up ? 'wan-up' : 'wan-down' });
  }

  /** Run a DCC command; returns its request id. Throws WanError (traced) when it cannot. */
  execute(cmd: DccCommand): string {
    const requestId = `dcc-${++this.seq}`;
    try {
      this.run(cmd, requestId);
      // run() accepted it: an object
      traceHub(this.o.host, {
        type: 'wan-command',
        requestId,
        command: jsonSafe(cmd) as Record<string, unknown>,
      });
      return requestId;
    } catch (e) {
      const err = e instanceof WanError ? e : new WanError('WAN_BAD_COMMAND', (e as Error).message);
      traceHub(this.o.host, {
        type: 'wan-command-failed',
        requestId,
        code: err.code,
        message: err.message,
        command: jsonSafe(cmd),
      });
      throw err;
    }
  }

  /** TransferData from a tunnel server: the answer to a command sent through it. */
  onTunnelData(peer: string, data: Uint8Array): void {
    let inner: ReturnType<typeof decodeTunnelledZcl>;
    let frame: DecodedZclFrame;
    try {
      inner = decodeTunnelledZcl(data);
      frame = decodeZclFrame(inner.zcl, { cluster: inner.clusterId });
    } catch (e) {
      traceHub(this.o.host, {
        type: 'app-drop',
        from: peer,
        reason: 'bad-tunnel-payload',
        detail: (e as Error).message,
      });
      return;
    }
    this.response(peer, inner.clusterId, frame, 'tunnel');
  }

  /** A GSME's answer to a frame the GPF delivered. */
  onGsmeReply(gsme: string, clusterId: number, frame: DecodedZclFrame): void {
    this.response(gsme, clusterId, frame, 'gpf');
  }

  private response(peer: string, clusterId: number, frame: DecodedZclFrame, via: 'tunnel' | 'gpf'): void {
    const key = `${peer}/${clusterId}/${frame.header.transactionSequenceNumber}`;
    const requestId = this.pending.get(key);
    if (requestId !== undefined) this.pending.delete(key);
    traceHub(this.o.host, {
      type: 'wan-response',
      requestId: requestId ?? null,
      from: peer,
      via,
      clusterId,
      command: frame.commandName,
      payload: jsonSafe(frame.payload),
      // ASSUMPTION: with the WAN down an answer is traced but not delivered (no store and forward).
      delivered: this.wanUp,
    });
  }

  private run(cmd: DccCommand, requestId: string): void {
    if (!this.wanUp) throw new WanError('WAN_DOWN', 'the WAN is down');
    if (cmd === null || typeof cmd !== 'object') throw new WanError('WAN_BAD_COMMAND', 'not a command');
    switch (cmd.kind) {
      case 'update-device-log':
        try {
          if (cmd.op === 'add') {
            this.o.deviceLog.add(cmd);
            this.o.onDeviceAdded?.(cmd.eui64.toLowerCase());
          } else if (cmd.op === 'remove') {
            this.o.deviceLog.remove(cmd.eui64);
            this.o.onDeviceRemoved(cmd.eui64.toLowerCase());
          } else throw new WanError('WAN_BAD_COMMAND', `unknown op ${String((cmd as { op: unknown }).op)}`);
        } catch (e) {
          if (e instanceof WanError) throw e;
          throw new WanError('WAN_DEVICE_LOG', (e as Error).message);
        }
        return;
      case 'read-meter': {
        const entry = this.target(cmd.target, ['ESME', 'GSME']);
        if (entry.deviceType === 'GSME') {
          if (cmd.live) {
            const tsn = this.nextTsn();
            this.pending.set(`${entry.eui64}/${METERING}/${tsn}`, requestId);
            this.o.gpf.enqueue(entry.eui64, {
              clusterId: METERING,
              zcl: encodeReadAttributes({ attributeIds: [0], tsn }),
              tag: requestId,
            });
            return;
          }
          const m = this.o.gpf.mirror(entry.eui64);
          traceHub(this.o.host, {
            type: 'wan-response',
            requestId,
            from: entry.eui64,
            via: 'gpf-mirror',
            clusterId: METERING,
            command: 'mirror',
            payload: m ? { summation: m.summation, updatedAtUs: m.updatedAtUs } : null,
            delivered: true,
          });
          return;
        }
        this.throughTunnel(
          entry.eui64,
          METERING,
          (tsn) => encodeReadAttributes({ attributeIds: [0, 0x0400], tsn }),
          requestId,
        );
        return;
      }
      case 'read-credit': {
        const entry = this.target(cmd.target, ['ESME']);
        this.throughTunnel(
          entry.eui64,
          PREPAYMENT,
          (tsn) => encodeReadAttributes({ attributeIds: [1, 2, 3], tsn }),
          requestId,
        );
        return;
      }
      case 'top-up': {
        const entry = this.target(cmd.target, ['ESME']);
        if (typeof cmd.code !== 'string') throw new WanError('WAN_BAD_COMMAND', 'top-up needs a code');
        const code = new TextEncoder().encode(cmd.code);
        if (code.length > 26) throw new WanError('WAN_BAD_COMMAND', 'top-up code longer than 26 octets');
        this.throughTunnel(
          entry.eui64,
          PREPAYMENT,
          (tsn) =>
            encodeZclCommand({
              cluster: PREPAYMENT,
              command: 'consumerTopUp',
              direction: 'clientToServer',
              // D.7.2.3.4 OriginatingDevice 0: Energy Service Interface (the CH, for the DCC).
              payload: { originatingDevice: 0, topUpCode: code },
              tsn,
            }),
          requestId,
        );
        return;
      }
      default:
        throw new WanError(
          'WAN_BAD_COMMAND',
          `unknown DCC command ${JSON.stringify((cmd as { kind?: unknown }).kind)}`,
        );
    }
  }

  private target(eui64: unknown, types: readonly string[]) {
    if (typeof eui64 !== 'string' || !isEui64(eui64.toLowerCase()))
      throw new WanError('WAN_BAD_COMMAND', `target ${String(eui64)} is not an EUI64`);
    const entry = this.o.deviceLog.get(eui64.toLowerCase());
    // GBCS: the CHF does not send to devices that are not in its Device Log.
    if (!entry) throw new WanError('WAN_UNKNOWN_DEVICE', `${eui64} is not in the Device Log`);
    if (!types.includes(entry.deviceType))
      throw new WanError(
        'WAN_WRONG_DEVICE_TYPE',
        `${eui64} is a ${entry.deviceType}, not ${types.join('/')}`,
      );
    return entry;
  }

  private throughTunnel(
    peer: string,
    clusterId: number,
    build: (tsn: number) => Uint8Array,
    requestId: string,
  ): void {
    const tsn = this.nextTsn();
    try {
      this.o.tunnels.send(peer, encodeTunnelledZcl({ clusterId, zcl: build(tsn) }));
    } catch (e) {
      if (e instanceof TunnelError) throw new WanError('WAN_NO_TUNNEL', e.message);
      throw e;
    }
    this.pending.set(`${peer}/${clusterId}/${tsn}`, requestId);
  }

  private nextTsn(): number {
    this.tsn = (this.tsn + 1) & 0xff;
    return this.tsn;
  }
}
