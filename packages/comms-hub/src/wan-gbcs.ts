/**
 * The DCC's GBCS path through the CH: a DCC request becomes a Remote Party command built,
 * signed (as the Supplier, when critical) and MAC'd (as the ACB) by the `Dcc` of
 * `@gbhan/gbcs`, carried to the meter in a GB-HGRP PUT through the tunnel; the meter's
 * response comes back the same way and is checked (MAC or signature) before it is traced for
 * the DCC. The CH itself checks nothing of the command: the meter does.
 *
 * A GSME sleeps and talks only to the GPF: its commands wait in the GPF's queue
 * (`gpf.enqueueGbcs`) until its GET, and its response comes back as a PUT to the GPF; both
 * are checked here the same way (`fromDevice`).
 *
 * For tests of the meter's checks a request may carry a `forge` (wrong signer, chosen
 * counter, one bit flipped, wrong MAC key), raw bytes (`gbcs`), or replay the last command
 * sent to a meter (`gbcs-replay`): a compromised WAN or head-end, in the field's terms.
 */
import {
  type BuiltCommand,
  type Dcc,
  type DccRequest,
  type DlmsData,
  decodeAccessResponse,
  decodeDlmsData,
  decodeGbcsMessage,
  decodeGbz,
  decodeTunnelCommand,
  encodeTunnelCommand,
  type Forgery,
  fromHex,
  GbcsError,
  Reader,
  SEALED_SECURITY_CONTROL,
  toHex,
  useCaseByCode,
} from '@gbhan/gbcs';
import type { ApplicationHost } from '@gbhan/stack';
import { traceHub } from './trace-events.js';
import { TunnelError, type TunnelManager } from './tunnel-manager.js';
import { jsonSafe, WanError } from './wan-errors.js';

export interface ForgeSpec {
  signAs?: 'supplier' | 'supplier2' | 'acb' | 'network-operator';
  macAs?: 'supplier' | 'supplier2' | 'acb' | 'network-operator';
  counter?: number | string;
  flipBit?: number;
}

export interface WanGbcsOptions {
  host: ApplicationHost;
  dcc: Dcc;
  tunnels: TunnelManager;
  /** Virtual time as Unix milliseconds (the DCC's counters follow it). */
  nowUnixMs: () => number;
  wanUp: () => boolean;
  /** True for a GSME: its commands go to the GPF's queue, not a tunnel of the CHF. */
  isGsme?: (eui64: string) => boolean;
  /** The GPF's queue of GBCS commands for its GSMEs. */
  gpf?: { enqueueGbcs(gsme: string, entry: { message: Uint8Array; tag: string }): void };
  /**
   * SECMP0038: route GBCS commands an enhanced PPMID passes onto the HAN as WAN ones. Off
   * (today's GB rule) such commands are refused. Without it the CH takes none from the HAN.
   */
  hanCommands?: HanCommandRoute;
}

/** What the CH needs to take a command from the HAN side (SECMP0038). */
export interface HanCommandRoute {
  secmp0038: boolean;
  /** The device's type in the Device Log, if it is there. */
  deviceType: (eui64: string) => string | undefined;
  /** The CH's Security Log (a refusal is recorded and alerted). */
  alertLog: {
    record(event: string, detail?: Record<string, string | number | boolean>, alertCode?: number): void;
  };
}

/**
 * Alert for a refused HAN-side command. ASSUMPTION: 0x8F30 "Source does not have Authority for
 * Command" - without SECMP0038 no HAN device may originate Remote Party traffic.
 */
export const HAN_COMMAND_REFUSED_ALERT = 0x8f30;

export class WanGbcs {
  /** The last command sent to each meter (for `gbcs-replay`). */
  private readonly last = new Map<string, Uint8Array>();
  /** `${meter}/${counter}` -> request id, until the response comes. */
  private readonly pending = new Map<string, string>();
  /** `${meter}/${counter}` -> the PPMID that passed the command on (its answer goes back there). */
  private readonly viaPpmid = new Map<string, string>();
  private hanSeq = 0;

  constructor(private readonly o: WanGbcsOptions) {}

  /** Build a command for `target` and send it through the tunnel. */
  request(
    target: string,
    req: DccRequest,
    requestId: string,
    opts: { as?: 'supplier' | 'supplier2'; forge?: ForgeSpec },
  ): void {
    this.send(target, this.built(target, req, opts), requestId, opts.forge !== undefined);
  }

  /** SECMP0038: build a command for `target` without sending it (the head-end carries it via a PPMID). */
  build(
    target: string,
    req: DccRequest,
    requestId: string,
    opts: { as?: 'supplier' | 'supplier2'; forge?: ForgeSpec },
  ): Uint8Array {
    const bytes = this.built(target, req, opts);
    const g = decodeGbcsMessage(bytes).signing;
    traceHub(this.o.host, {
      type: 'gbcs-command-built',
      requestId,
      target,
      useCase: useCaseByCode(g.messageCode)?.name ?? `0x${g.messageCode.toString(16)}`,
      counter: g.originatorCounter.toString(),
      octets: bytes.length,
    });
    return bytes;
  }

  private built(
    target: string,
    req: DccRequest,
    opts: { as?: 'supplier' | 'supplier2'; forge?: ForgeSpec },
  ): Uint8Array {
    let built: BuiltCommand;
    try {
      built = this.o.dcc.command(target, req, {
        nowUnixMs: this.o.nowUnixMs(),
        ...(opts.as ? { as: opts.as } : {}),
        ...(opts.forge ? { forge: forgery(opts.forge) } : {}),
      });
    } catch (e) {
      if (e instanceof GbcsError) throw new WanError('WAN_BAD_COMMAND', e.message);
      throw e;
    }
    return built.bytes;
  }

  /** Raw GBCS bytes (hex), to the recipient the message names. */
  raw(hex: string, requestId: string, isTarget: (eui64: string) => void): void {
    if (typeof hex !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(hex))
      throw new WanError('WAN_BAD_COMMAND', 'gbcs: hex digits expected');
    const bytes = fromHex(hex);
    let target: string;
    try {
      target = toHex(decodeGbcsMessage(bytes).signing.recipient);
    } catch (e) {
      throw new WanError('WAN_BAD_COMMAND', `gbcs: ${(e as Error).message}`);
    }
    isTarget(target);
    this.send(target, bytes, requestId, false);
  }

  /** The last command sent to `target`, again, byte for byte. */
  replay(target: string, requestId: string): void {
    const bytes = this.last.get(target);
    if (!bytes) throw new WanError('WAN_BAD_COMMAND', `no GBCS command was sent to ${target} yet`);
    this.send(target, bytes, requestId, true);
  }

  private send(target: string, bytes: Uint8Array, requestId: string, forged: boolean): void {
    const g = decodeGbcsMessage(bytes).signing;
    if (this.o.isGsme?.(target)) {
      if (!this.o.gpf) throw new WanError('WAN_BAD_COMMAND', 'this hub has no GPF queue for GBCS');
      this.o.gpf.enqueueGbcs(target, { message: bytes, tag: requestId });
    } else {
      try {
        this.o.tunnels.send(target, encodeTunnelCommand({ command: 'PUT', message: bytes }));
      } catch (e) {
        if (e instanceof TunnelError) throw new WanError('WAN_NO_TUNNEL', e.message);
        throw e;
      }
    }
    if (!forged) this.last.set(target, bytes);
    this.pending.set(`${target}/${g.originatorCounter}`, requestId);
    traceHub(this.o.host, {
      type: 'gbcs-command-sent',
      requestId,
      target,
      useCase: useCaseByCode(g.messageCode)?.name ?? `0x${g.messageCode.toString(16)}`,
      originator: toHex(g.originator),
      counter: g.originatorCounter.toString(),
      octets: bytes.length,
      forged,
    });
  }

  /** A GB-HGRP frame from a meter's tunnel: its response (or alert), checked for the DCC. */
  fromTunnel(peer: string, frame: Uint8Array): void {
    let message: Uint8Array;
    try {
      const t = decodeTunnelCommand(frame);
      if (t.command === 'GET') return;
      message = t.message;
    } catch (e) {
      traceHub(this.o.host, {
        type: 'app-drop',
        from: peer,
        reason: 'bad-gbcs-tunnel',
        detail: (e as Error).message,
      });
      return;
    }
    // A command (CRA 01) coming up a tunnel: an enhanced PPMID passing one on (SECMP0038).
    if (isCommand(message)) {
      this.fromHan(peer, message);
      return;
    }
    this.fromDevice(peer, message);
  }

  /** SECMP0038: a command from the HAN side, routed as a WAN one or refused. The CH checks nothing else: the meter does. */
  private fromHan(peer: string, message: Uint8Array): null {
    let target: string;
    let useCase: string;
    let counter: string;
    try {
      const g = decodeGbcsMessage(message).signing;
      target = toHex(g.recipient);
      useCase = useCaseByCode(g.messageCode)?.name ?? `0x${g.messageCode.toString(16)}`;
      counter = g.originatorCounter.toString();
    } catch (e) {
      traceHub(this.o.host, {
        type: 'app-drop',
        from: peer,
        reason: 'bad-gbcs-tunnel',
        detail: (e as Error).message,
      });
      return null;
    }
    const route = this.o.hanCommands;
    const refuse = (reason: 'secmp0038-off' | 'not-a-ppmid' | 'unknown-target' | 'no-route'): null => {
      traceHub(this.o.host, {
        type: 'gbcs-han-command',
        from: peer,
        target,
        useCase,
        counter,
        routed: false,
        reason,
      });
      route?.alertLog.record(
        'gbcs-han-command-refused',
        { from: peer, target, reason },
        HAN_COMMAND_REFUSED_ALERT,
      );
      return null;
    };
    if (!route?.secmp0038) {
      return refuse('secmp0038-off');
    }
    if (route.deviceType(peer) !== 'PPMID') {
      return refuse('not-a-ppmid');
    }
    const type = route.deviceType(target);
    if (type !== 'ESME' && type !== 'GSME') {
      return refuse('unknown-target');
    }
    const requestId = `han-${++this.hanSeq}`;
    try {
      this.send(target, message, requestId, false);
    } catch (e) {
      if (!(e instanceof WanError)) throw e;
      return refuse('no-route');
    }
    this.viaPpmid.set(`${target}/${counter}`, peer);
    traceHub(this.o.host, {
      type: 'gbcs-han-command',
      from: peer,
      target,
      useCase,
      counter,
      routed: true,
      requestId,
    });
    return null;
  }

  /** A data item of a device's answer, a sealed one opened with the DCC's key (or the error). */
  private opened(
    d: DlmsData,
    device: string,
    g: { recipient: Uint8Array; originatorCounter: bigint },
  ): unknown {
    try {
      return openSealed(d, (sealed) =>
        this.o.dcc.unseal(sealed, device, { recipient: g.recipient, counter: g.originatorCounter }),
      );
    } catch (e) {
      return { sealed: null, error: (e as Error).message };
    }
  }

  /** A device's GBCS message (the ESME's PUT in the CHF's tunnel, the GSME's PUT to the GPF), checked for the DCC. */
  fromDevice(peer: string, message: Uint8Array): void {
    const v = this.o.dcc.verifyFromDevice(message, peer);
    if (!v.ok) {
      traceHub(this.o.host, {
        type: 'gbcs-response',
        requestId: null,
        from: peer,
        useCase: null,
        counter: null,
        authenticated: false,
        refusal: v.reason,
        results: [],
        data: null,
        delivered: false,
      });
      return;
    }
    const g = v.message.signing;
    const key = `${peer}/${g.originatorCounter}`;
    const requestId = this.pending.get(key) ?? null;
    this.pending.delete(key);
    const ppmid = this.viaPpmid.get(key);
    if (ppmid !== undefined) {
      this.viaPpmid.delete(key);
      // The answer to a command the PPMID passed on goes back the way it came.
      let back = true;
      try {
        this.o.tunnels.send(ppmid, encodeTunnelCommand({ command: 'PUT', message }));
      } catch (e) {
        if (!(e instanceof TunnelError)) throw e;
        back = false;
      }
      traceHub(this.o.host, {
        type: 'gbcs-response-to-ppmid',
        ppmid,
        from: peer,
        counter: g.originatorCounter.toString(),
        sent: back,
      });
    }
    let results: number[] = [];
    let data: unknown = null;
    try {
      const r = decodeAccessResponse(g.content);
      results = r.results.map((x) => x.result);
      data = jsonSafe(r.data.map((d) => this.opened(d, peer, g)));
    } catch {
      // Not DLMS: a GSME's GBZ, or an empty answer to a use case the meter did not run.
      const gbz = gbzResults(g.content);
      if (gbz) ({ results, data } = gbz);
    }
    traceHub(this.o.host, {
      type: 'gbcs-response',
      requestId,
      from: peer,
      useCase: useCaseByCode(g.messageCode)?.name ?? `0x${g.messageCode.toString(16)}`,
      counter: g.originatorCounter.toString(),
      authenticated: true,
      refusal: null,
      results,
      data,
      // ASSUMPTION: with the WAN down an answer is traced but not delivered (no store and forward).
      delivered: this.o.wanUp(),
    });
  }
}

/** The DLMS data a sealed octet-string (0x31 ...) carries, opened for the DCC; other data as is. */
function openSealed(d: DlmsData, open: (sealed: Uint8Array) => Uint8Array): DlmsData | { sealed: DlmsData } {
  if (d.type !== 'octet-string' || d.value[0] !== SEALED_SECURITY_CONTROL) return d;
  const plain = open(d.value);
  return { sealed: decodeDlmsData(new Reader(plain, 'DLMS')) };
}

/**
 * A GBZ response's outcome per component: a ZCL Default Response's status, else the first
 * payload octet (the Consumer Top Up Response's result type); null when not GBZ.
 */
function gbzResults(content: Uint8Array): { results: number[]; data: unknown } | null {
  try {
    const components = decodeGbz(content);
    return {
      results: components.map(
        (c) => ((c.frameControl & 0x03) === 0 && c.commandId === 0x0b ? c.payload[1] : c.payload[0]) ?? 0xff,
      ),
      data: components.map((c) => ({
        clusterId: c.clusterId,
        commandId: c.commandId,
        payload: toHex(c.payload),
      })),
    };
  } catch {
    return null;
  }
}

/** True for a message whose CRA flag says command (a device never sends one). */
function isCommand(message: Uint8Array): boolean {
  try {
    return decodeGbcsMessage(message).signing.cra === 'command';
  } catch {
    return false;
  }
}

function forgery(f: ForgeSpec): Forgery {
  const out: Forgery = {};
  if (f.signAs) out.signAs = f.signAs;
  if (f.macAs) out.macAs = f.macAs;
  if (f.flipBit !== undefined) out.flipBit = f.flipBit;
  if (f.counter !== undefined) out.counter = BigInt(f.counter);
  return out;
}
