/**
 * The CH's WAN side: the DCC's end of the hub. In a run the DCC is played by the scenario
 * (in-process) or by a local JSON endpoint (process mode); both come here as `DccCommand`s.
 * "Update HAN Device Log" adds or removes Device Log entries; commands for a meter go through
 * the GB-HGRP tunnel (ESME) or are answered from the GPF mirror / queued for the sleepy GSME.
 * With the WAN down every DCC command fails with a typed error, traced.
 *
 * Responses are traced as `wan-response` events with the request id the command got.
 */
import { type DccRequest, isGbcsTunnelData } from '@gbhan/gbcs';
import { decodeTunnelledZcl, encodeTunnelledZcl, UNIX_EPOCH_AT_VIRTUAL_ZERO } from '@gbhan/runtime';
import type { ApplicationHost } from '@gbhan/stack';
import { type DecodedZclFrame, decodeZclFrame, encodeReadAttributes, isEui64 } from '@gbhan/zigbee';
import type { DeviceLog } from './device-log.js';
import { jsonSafe, WanError } from './wan-errors.js';
import type { ForgeSpec, WanGbcs } from './wan-gbcs.js';

export { jsonSafe, WanError, type WanErrorCode } from './wan-errors.js';

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
  /** CS01a (ESME) / CS01b (GSME): a top-up (UTRN) as a GBCS command. */
  | ({ kind: 'top-up'; target: string; code: string } & GbcsOptions)
  /** ECS70 (ESME) / GCS28 (GSME): set the meter clock (default: virtual UTC now). */
  | ({ kind: 'set-clock'; target: string; epochSeconds?: number } & GbcsOptions)
  /** ECS42 / ECS43: close / open the load switch. */
  | ({ kind: 'supply'; target: string; state: 'enable' | 'disable' } & GbcsOptions)
  /** ECS09: activate emergency credit. */
  | ({ kind: 'emergency-credit'; target: string } & GbcsOptions)
  /** Raw GBCS bytes (a General Ciphering message), to the recipient it names. */
  | { kind: 'gbcs'; hex: string }
  /** The last GBCS command sent to `target`, again. */
  | { kind: 'gbcs-replay'; target: string };

/** The DCC commands that are one GBCS use case for a meter (what `build` can build). */
type UseCaseCommand = Extract<
  DccCommand,
  { kind: 'read-credit' | 'top-up' | 'set-clock' | 'supply' | 'emergency-credit' }
>;

/** Options of a GBCS request: which Supplier signs, and a forgery for tests of the meter's checks. */
export interface GbcsOptions {
  as?: 'supplier' | 'supplier2';
  forge?: ForgeSpec;
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
  /** The GBCS path (commands built and MAC'd by the DCC); without it GBCS requests fail. */
  gbcs?: WanGbcs;
}

const METERING = 0x0702;

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
      throw this.failed(cmd, requestId, e);
    }
  }

  /** TransferData from a tunnel server: the answer to a command sent through it. */
  onTunnelData(peer: string, data: Uint8Array): void {
    if (isGbcsTunnelData(data)) {
      if (this.o.gbcs) this.o.gbcs.fromTunnel(peer, data);
      else traceHub(this.o.host, { type: 'app-drop', from: peer, reason: 'no-gbcs-path' });
      return;
    }
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

  /** A GBCS message a GSME PUT to the GPF (its response): checked for the DCC. */
  onGbcsMessage(peer: string, message: Uint8Array): void {
    if (this.o.gbcs) this.o.gbcs.fromDevice(peer, message);
    else traceHub(this.o.host, { type: 'app-drop', from: peer, reason: 'no-gbcs-path' });
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
      case 'read-credit':
      case 'top-up':
      case 'set-clock':
      case 'supply':
      case 'emergency-credit': {
        const u = this.useCase(cmd);
        this.gbcs(cmd.target, u.req, requestId, u.opts, u.gsme);
        return;
      }
      case 'gbcs':
        this.gbcsPath().raw(cmd.hex, requestId, (e) => this.target(e, ['ESME', 'GSME']));
        return;
      case 'gbcs-replay': {
        const entry = this.target(cmd.target, ['ESME', 'GSME']);
        this.gbcsPath().replay(entry.eui64, requestId);
        return;
      }
      default:
        throw new WanError(
          'WAN_BAD_COMMAND',
          `unknown DCC command ${JSON.stringify((cmd as { kind?: unknown }).kind)}`,
        );
    }
  }

  /**
   * SECMP0038: the GBCS command a use-case request would send, fully formed (built, signed,
   * MAC'd by the DCC) but not sent - for the head-end to carry through an enhanced PPMID. Works
   * with the WAN down (the DCC is not behind it); the target must be in the Device Log.
   * Throws WanError (traced as `wan-command-failed`).
   */
  build(cmd: DccCommand): { requestId: string; bytes: Uint8Array } {
    const requestId = `dcc-${++this.seq}`;
    try {
      if (cmd === null || typeof cmd !== 'object') throw new WanError('WAN_BAD_COMMAND', 'not a command');
      const kinds = ['read-credit', 'top-up', 'set-clock', 'supply', 'emergency-credit'];
      if (!kinds.includes(cmd.kind))
        throw new WanError(
          'WAN_BAD_COMMAND',
          `cannot build ${JSON.stringify(cmd.kind)} (only ${kinds.join(', ')})`,
        );
      const u = this.useCase(cmd as UseCaseCommand);
      const entry = this.target((cmd as UseCaseCommand).target, u.gsme ? ['GSME'] : ['ESME']);
      const bytes = this.gbcsPath().build(entry.eui64, u.req, requestId, u.opts);
      return { requestId, bytes };
    } catch (e) {
      throw this.failed(cmd, requestId, e);
    }
  }

  /** A use-case request's GBCS request (ESME or GSME flavour) and options. */
  private useCase(cmd: UseCaseCommand): { req: DccRequest; opts: GbcsOptions; gsme: boolean } {
    const opts: GbcsOptions = cmd.kind === 'read-credit' ? {} : cmd;
    const gsme = this.isGsme(cmd.target);
    switch (cmd.kind) {
      case 'read-credit':
        return { req: { useCase: 'ECS19' }, opts, gsme: false };
      case 'top-up':
        if (typeof cmd.code !== 'string') throw new WanError('WAN_BAD_COMMAND', 'top-up needs a code');
        return { req: { useCase: gsme ? 'CS01b' : 'CS01a', utrn: cmd.code }, opts, gsme };
      case 'set-clock': {
        const epochSeconds = cmd.epochSeconds ?? Math.floor(this.nowUnixMs() / 1000);
        return { req: { useCase: gsme ? 'GCS28' : 'ECS70', epochSeconds }, opts, gsme };
      }
      case 'supply':
        if (cmd.state !== 'enable' && cmd.state !== 'disable')
          throw new WanError('WAN_BAD_COMMAND', 'supply: state is enable or disable');
        return { req: { useCase: cmd.state === 'enable' ? 'ECS42' : 'ECS43' }, opts, gsme: false };
      case 'emergency-credit':
        return { req: { useCase: 'ECS09' }, opts, gsme: false };
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

  /** A command that could not run: traced `wan-command-failed`, returned as a WanError to throw. */
  private failed(cmd: unknown, requestId: string, e: unknown): WanError {
    const err = e instanceof WanError ? e : new WanError('WAN_BAD_COMMAND', (e as Error).message);
    traceHub(this.o.host, {
      type: 'wan-command-failed',
      requestId,
      code: err.code,
      message: err.message,
      command: jsonSafe(cmd),
    });
    return err;
  }

  private gbcsPath(): WanGbcs {
    if (!this.o.gbcs) throw new WanError('WAN_BAD_COMMAND', 'this hub has no GBCS path (no DCC keys)');
    return this.o.gbcs;
  }

  /** True when `target` is a GSME of the Device Log (its GBCS commands wait at the GPF). */
  private isGsme(target: unknown): boolean {
    return typeof target === 'string' && this.o.deviceLog.get(target.toLowerCase())?.deviceType === 'GSME';
  }

  /**
   * A GBCS use case: ESME use cases through the CHF's tunnel; GSME ones (CS01b, GCS28) to the
   * GPF's queue, fetched by the GSME's GET.
   */
  private gbcs(target: string, req: DccRequest, requestId: string, opts: GbcsOptions, gsme = false): void {
    const entry = this.target(target, gsme ? ['GSME'] : ['ESME']);
    this.gbcsPath().request(entry.eui64, req, requestId, {
      ...(opts.as ? { as: opts.as } : {}),
      ...(opts.forge ? { forge: opts.forge } : {}),
    });
  }

  private nowUnixMs(): number {
    return (UNIX_EPOCH_AT_VIRTUAL_ZERO * 1_000_000 + this.o.host.clock.now()) / 1000;
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
