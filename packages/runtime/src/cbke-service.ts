/**
 * Certificate-Based Key Establishment (SE 1.4 07-5356 Annex C) over an `ApplicationHost`: the
 * transport around @gbhan/cbke's transport-independent state machines. Frames of cluster
 * 0x0800 from `onZcl` are decoded and fed to a `KeyEstablishmentResponder` (one per peer, so
 * several joiners can run CBKE with the CH at once) or to the `KeyEstablishmentInitiator`
 * (one per peer this device starts an exchange with). Key Establishment travels with NWK
 * security only (C.3.1: the APS link key is what it produces); the key it yields is
 * installed with `host.setLinkKey(peer, keyData, 'cbke')` and exported to the trace so
 * captures can be decrypted.
 *
 * Shared by every GB device application (CHF responder, meters and PPMID initiators).
 */
import {
  type Credentials,
  type CryptoSuite,
  DEFAULT_CONFIRM_KEY_GENERATE_TIME,
  type EstablishedKey,
  KeyEstablishmentInitiator,
  type KeyEstablishmentOptions,
  KeyEstablishmentResponder,
  type KeyEstablishmentResult,
  type KeyEstablishmentTimeouts,
  type RandomSource,
  type TimingMode,
  type TrustedCa,
} from '@gbhan/cbke';
import type { Timer } from '@gbhan/clock';
import type { ApplicationHost, IncomingZcl } from '@gbhan/stack';
import {
  decodeKeyEstablishment,
  decodeZclFrame,
  decodeZclHeader,
  encodeKeyEstablishment,
  encodeReadAttributesResponse,
  fromHex,
  KEY_ESTABLISHMENT_CLUSTER,
  type KeyEstablishmentMessage,
  TerminateStatus,
  toHex,
  ZigbeeDecodeError,
} from '@gbhan/zigbee';
import { traceApp } from './trace-events.js';
import {
  describeDecodeError,
  sendDefaultResponse,
  sendInterPanTraced,
  sendTraced,
  traceDrop,
  ZclStatus,
} from './zcl-helpers.js';

export interface CbkeConfig {
  /** Certificate + static private key per crypto suite (GB: suite 2). */
  credentials: Partial<Record<CryptoSuite, Credentials>>;
  trustedCAs: readonly TrustedCa[];
  /** Seeded randomness for ephemeral keys (never Math.random). */
  random: RandomSource;
  timing?: TimingMode;
  ephemeralDataGenerateTime?: number;
  confirmKeyGenerateTime?: number;
  /** Waiting times (a sleepy device needs a margin of at least its poll period). */
  timeouts?: Partial<KeyEstablishmentTimeouts>;
}

export interface CbkeServiceOptions {
  host: ApplicationHost;
  config: CbkeConfig;
  /**
   * Responder policy: return null to run CBKE with `peer`, or the reason to refuse (the
   * CHF refuses devices not in its Device Log). Without it this side never responds.
   */
  acceptInitiator?: (peer: string) => string | null;
  /** Extra waiting per peer, e.g. a longer margin for a sleepy peer that answers only when it polls. */
  peerTimeouts?: (peer: string) => Partial<KeyEstablishmentTimeouts> | undefined;
  /** Initiator retry after a failure (default 60 s; never before a Terminate's wait time). */
  retryDelayUs?: number;
  /** Key established with `peer` (already installed as the link key). */
  onEstablished?: (peer: string, role: 'initiator' | 'responder', suite: CryptoSuite) => void;
  /** Any outcome. */
  onResult?: (peer: string, role: 'initiator' | 'responder', result: KeyEstablishmentResult) => void;
  /**
   * Key Establishment over Inter-PAN (GB HHT pairing, protocol-notes §4): unsecured frames
   * from outside the network are accepted and answered by Inter-PAN to the sender's PAN.
   * As responder one Inter-PAN exchange runs at a time (another initiator meanwhile gets
   * Terminate NoResources with the wait time). Default false: such frames are dropped.
   */
  interPan?: boolean;
  /** A Terminate Key Establishment this side sent (status, wait time in seconds). */
  onTerminateSent?: (peer: string, statusCode: number, waitTime: number) => void;
  /** Responder policy for Inter-PAN initiators (default: everyone; the certificate decides). */
  acceptInterPanInitiator?: (peer: string) => string | null;
}

/** KeyEstablishmentSuite attribute (C.3.1.2.2.1), data type bitmap16. */
const ATTR_KEY_ESTABLISHMENT_SUITE = 0x0000;
const DATA_TYPE_BITMAP16 = 0x19;
/**
 * How long a side may wait for the peer's next Key Establishment message, for the stack's
 * fast poll (`awaitReplyUs`): the longest default generate time (Confirm Key, 15 s) or the
 * Initiate response wait, plus the margin. ASSUMPTION: the peer advertises no longer times.
 */
function replyWindowUs(t: Partial<KeyEstablishmentTimeouts> | undefined): number {
  return (
    Math.max(t?.initiateResponseUs ?? 10_000_000, DEFAULT_CONFIRM_KEY_GENERATE_TIME * 1_000_000) +
    (t?.marginUs ?? 1_000_000)
  );
}

// ASSUMPTION: a failed exchange started by this side is retried after 60 s (or after the
// Terminate wait time, if longer); GB leaves the retry interval to the manufacturer.
const DEFAULT_RETRY_US = 60_000_000;
const MAX_INTERPAN_PEERS = 64;

export class CbkeService {
  private readonly host: ApplicationHost;
  private readonly responders = new Map<string, KeyEstablishmentResponder>();
  private readonly initiators = new Map<string, KeyEstablishmentInitiator>();
  private readonly retryTimers = new Map<string, Timer>();
  /** TSN of the last request from each peer: responses echo it. */
  private readonly peerTsn = new Map<string, number>();
  private tsn = 0;
  private running = true;
  /** Peers reached by Inter-PAN: EUI64 -> their PAN id. */
  private readonly interPanRoutes = new Map<string, number>();
  /** The one Inter-PAN responder (one exchange at a time, others NoResources). */
  private interPanResponder: KeyEstablishmentResponder | null = null;
  /** Every key established, for key export. */
  readonly established: EstablishedKey[] = [];

  constructor(private readonly o: CbkeServiceOptions) {
    this.host = o.host;
  }

  /** The KeyEstablishmentSuite bitmap this device offers. */
  get suiteBitmap(): number {
    return (this.o.config.credentials[1] ? 1 : 0) | (this.o.config.credentials[2] ? 2 : 0);
  }

  /** State of the exchange with `peer` (for traces and tests). */
  state(peer: string): string {
    return this.initiators.get(peer)?.state ?? this.responders.get(peer)?.state ?? 'idle';
  }

  /** Start (or restart) CBKE as initiator with `peer` (e.g. the trust centre after joining). */
  start(peer: string): void {
    this.interPanRoutes.delete(peer);
    this.begin(peer);
  }

  private begin(peer: string): void {
    if (!this.running) return;
    this.retryTimers.get(peer)?.cancel();
    this.retryTimers.delete(peer);
    let ini = this.initiators.get(peer);
    if (ini === undefined) {
      ini = new KeyEstablishmentInitiator(this.machineOptions(peer, 'initiator'));
      this.initiators.set(peer, ini);
    }
    if (ini.state !== 'idle') ini.abort();
    traceApp(this.host, {
      type: 'cbke-start',
      role: 'initiator',
      peer,
      ...(this.interPanRoutes.has(peer) ? { interPan: true } : {}),
    });
    // ASSUMPTION: the peer's KeyEstablishmentSuite attribute is not read first; the
    // initiator offers its best suite and a peer without it answers Terminate UnsupportedSuite.
    ini.start(fromHex(peer));
  }

  /**
   * Start CBKE as initiator with `peer` over Inter-PAN (an HHT with the CH it chose by
   * scanning), answers expected from PAN `panId`. Needs `interPan: true`. The initiator is
   * not retried on failure (the caller decides).
   */
  startInterPan(peer: string, panId: number): void {
    if (!this.o.interPan) throw new Error('CbkeService: Inter-PAN not enabled');
    this.interPanRoutes.set(peer, panId);
    this.begin(peer);
  }

  /** Power off: every exchange and retry timer is RAM. */
  stop(): void {
    this.running = false;
    for (const i of this.initiators.values()) i.abort();
    for (const t of this.retryTimers.values()) t.cancel();
    this.initiators.clear();
    this.responders.clear();
    this.retryTimers.clear();
    this.interPanResponder = null;
    this.interPanRoutes.clear();
  }

  /** Feed a ZCL frame; returns false when it is not Key Establishment. */
  handle(msg: IncomingZcl): boolean {
    if (msg.clusterId !== KEY_ESTABLISHMENT_CLUSTER) return false;
    if (!this.running) return true;
    const peer = msg.from.eui64;
    if (msg.interPan) {
      if (!this.o.interPan) {
        traceDrop(this.host, msg, 'inter-pan-cbke-unsupported');
        return true;
      }
      // ASSUMPTION: Inter-PAN Key Establishment travels unsecured (SE 1.4 B.4 whitelist).
      // ASSUMPTION: at most 64 Inter-PAN peers are remembered (a flood from made-up sources
      // must not grow memory); the oldest is forgotten first.
      if (!this.interPanRoutes.has(peer) && this.interPanRoutes.size >= MAX_INTERPAN_PEERS) {
        const oldest = this.interPanRoutes.keys().next().value as string;
        this.interPanRoutes.delete(oldest);
        this.peerTsn.delete(oldest);
      }
      this.interPanRoutes.set(peer, msg.sourcePanId ?? 0xffff);
    } else {
      this.interPanRoutes.delete(peer);
      if (msg.security === 'none') {
        // C.3.1: Key Establishment on the network is NWK-secured; an unsecured one is refused.
        traceDrop(this.host, msg, 'unsecured-key-establishment');
        return true;
      }
    }
    let header: ReturnType<typeof decodeZclHeader>['header'];
    try {
      header = decodeZclHeader(msg.zcl).header;
    } catch (e) {
      traceDrop(this.host, msg, 'malformed-zcl', describeDecodeError(e));
      return true;
    }
    if (header.frameType === 'global') {
      if (msg.interPan) {
        // ASSUMPTION: no attribute reads or default responses over Inter-PAN (the HHT
        // offers its best suite; the CH answers UnsupportedSuite otherwise).
        traceDrop(this.host, msg, 'inter-pan-global-command');
        return true;
      }
      this.handleGlobal(msg, header);
      return true;
    }
    const toResponder = header.direction === 'clientToServer';
    if (toResponder) {
      const refusal = msg.interPan
        ? (this.o.acceptInterPanInitiator?.(peer) ?? null)
        : this.o.acceptInitiator
          ? this.o.acceptInitiator(peer)
          : 'not-a-responder';
      if (refusal !== null) {
        traceDrop(this.host, msg, refusal);
        return true;
      }
    } else if (!this.initiators.has(peer)) {
      traceDrop(this.host, msg, 'no-exchange-with-peer');
      return true;
    }
    let decoded: { transactionSequenceNumber: number; message: KeyEstablishmentMessage };
    try {
      decoded = decodeKeyEstablishment(msg.zcl);
    } catch (e) {
      traceDrop(this.host, msg, 'malformed-key-establishment', describeDecodeError(e));
      if (
        toResponder &&
        e instanceof ZigbeeDecodeError &&
        e.code === 'UNSUPPORTED' &&
        e.field === 'keyEstablishmentSuite'
      ) {
        this.peerTsn.set(peer, header.transactionSequenceNumber);
        this.send(peer, {
          command: 'TerminateKeyEstablishment',
          direction: 'response',
          statusCode: TerminateStatus.UnsupportedSuite,
          waitTime: 30,
          // One suite value (never the bitmap): the requested one is not ours, so our best.
          suite: this.o.config.credentials[2] ? 2 : 1,
        });
      } else if (!msg.interPan) {
        sendDefaultResponse(this.host, msg, header, ZclStatus.MALFORMED_COMMAND);
      }
      return true;
    }
    this.peerTsn.set(peer, decoded.transactionSequenceNumber);
    if (toResponder && msg.interPan) {
      if (this.interPanResponder === null) {
        const o = this.machineOptions(peer, 'responder');
        this.interPanResponder = new KeyEstablishmentResponder({
          ...o,
          send: (m, to) => this.send(toHex(to), m),
          onResult: (r) => this.result(r.peerEui64 ? toHex(r.peerEui64) : peer, 'responder', r),
        });
      }
      if (this.interPanResponder.state === 'idle')
        traceApp(this.host, { type: 'cbke-start', role: 'responder', peer, interPan: true });
      this.interPanResponder.receive(decoded.message, fromHex(peer));
    } else if (toResponder) {
      let r = this.responders.get(peer);
      if (r === undefined) {
        r = new KeyEstablishmentResponder(this.machineOptions(peer, 'responder'));
        this.responders.set(peer, r);
        traceApp(this.host, { type: 'cbke-start', role: 'responder', peer });
      }
      r.receive(decoded.message, fromHex(peer));
    } else {
      this.initiators.get(peer)!.receive(decoded.message, fromHex(peer));
    }
    return true;
  }

  private handleGlobal(msg: IncomingZcl, header: ReturnType<typeof decodeZclHeader>['header']): void {
    let frame: ReturnType<typeof decodeZclFrame>;
    try {
      frame = decodeZclFrame(msg.zcl, { cluster: KEY_ESTABLISHMENT_CLUSTER });
    } catch (e) {
      traceDrop(this.host, msg, 'malformed-zcl', describeDecodeError(e));
      sendDefaultResponse(this.host, msg, header, ZclStatus.MALFORMED_COMMAND);
      return;
    }
    if (frame.commandName === 'defaultRsp') {
      traceApp(this.host, {
        type: 'zcl-default-response',
        from: msg.from.eui64,
        clusterId: msg.clusterId,
        payload: frame.payload,
      });
      return;
    }
    if (frame.commandName !== 'read') {
      traceDrop(this.host, msg, 'unsupported-global-command', frame.commandName);
      sendDefaultResponse(this.host, msg, header, ZclStatus.UNSUP_GENERAL_COMMAND);
      return;
    }
    const records = (frame.payload as { attrId: number }[]).map((r) =>
      r.attrId === ATTR_KEY_ESTABLISHMENT_SUITE
        ? { attrId: r.attrId, status: 0, dataType: DATA_TYPE_BITMAP16, attrData: this.suiteBitmap }
        : { attrId: r.attrId, status: ZclStatus.UNSUPPORTED_ATTRIBUTE },
    );
    const zcl = encodeReadAttributesResponse({
      records,
      tsn: header.transactionSequenceNumber,
      direction: header.direction === 'clientToServer' ? 'serverToClient' : 'clientToServer',
    });
    void sendTraced(
      this.host,
      msg.from,
      { clusterId: KEY_ESTABLISHMENT_CLUSTER, zcl, security: 'nwk' },
      'cbke-read-rsp',
    );
  }

  private machineOptions(peer: string, role: 'initiator' | 'responder'): KeyEstablishmentOptions {
    const c = this.o.config;
    return {
      clock: this.host.clock,
      ownEui64: fromHex(this.host.eui64),
      credentials: c.credentials,
      trustedCAs: c.trustedCAs,
      random: c.random,
      ...(c.timing !== undefined ? { timing: c.timing } : {}),
      ...(c.ephemeralDataGenerateTime !== undefined
        ? { ephemeralDataGenerateTime: c.ephemeralDataGenerateTime }
        : {}),
      ...(c.confirmKeyGenerateTime !== undefined ? { confirmKeyGenerateTime: c.confirmKeyGenerateTime } : {}),
      timeouts: { ...c.timeouts, ...this.o.peerTimeouts?.(peer) },
      send: (m) => this.send(peer, m),
      onKeyEstablished: (k) => this.keyEstablished(k),
      onResult: (r) => this.result(peer, role, r),
    };
  }

  private send(peer: string, m: KeyEstablishmentMessage): void {
    // Responses echo the request's TSN (ZCL §2.4.1.3); requests take our own.
    let tsn = this.peerTsn.get(peer) ?? 0;
    if (m.direction === 'request') {
      this.tsn = (this.tsn + 1) & 0xff;
      tsn = this.tsn;
    }
    let zcl: Uint8Array;
    try {
      zcl = encodeKeyEstablishment(m, { transactionSequenceNumber: tsn });
    } catch (e) {
      traceApp(this.host, { type: 'cbke-encode-failed', peer, message: (e as Error).message });
      return;
    }
    traceApp(this.host, { type: 'cbke-send', peer, command: m.command, direction: m.direction });
    if (m.command === 'TerminateKeyEstablishment') this.o.onTerminateSent?.(peer, m.statusCode, m.waitTime);
    const pan = this.interPanRoutes.get(peer);
    if (pan !== undefined) {
      void sendInterPanTraced(
        this.host,
        { eui64: peer, panId: pan },
        { clusterId: KEY_ESTABLISHMENT_CLUSTER, zcl, security: 'none' },
        `cbke-${m.command}`,
      );
      return;
    }
    // Every message but the last (Confirm Key response) and Terminate is answered by the peer.
    const answered =
      m.command !== 'TerminateKeyEstablishment' &&
      !(m.command === 'ConfirmKeyData' && m.direction === 'response');
    void sendTraced(
      this.host,
      { eui64: peer },
      {
        clusterId: KEY_ESTABLISHMENT_CLUSTER,
        zcl,
        security: 'nwk',
        ...(answered
          ? { awaitReplyUs: replyWindowUs({ ...this.o.config.timeouts, ...this.o.peerTimeouts?.(peer) }) }
          : {}),
      },
      `cbke-${m.command}`,
    );
  }

  private keyEstablished(k: EstablishedKey): void {
    this.established.push({ ...k, linkKey: k.linkKey.slice() });
    // Key export (protocol-notes §5): Wireshark cannot derive CBKE keys, so they go to the trace.
    traceApp(this.host, {
      type: 'key-export',
      origin: 'cbke',
      suite: k.suite,
      initiator: toHex(k.initiatorEui64),
      responder: toHex(k.responderEui64),
      linkKey: toHex(k.linkKey),
    });
  }

  private result(peer: string, role: 'initiator' | 'responder', r: KeyEstablishmentResult): void {
    if (role === 'responder') this.responders.delete(peer);
    if (r.ok) {
      this.host.setLinkKey(peer, r.linkKey, 'cbke');
      // Inter-PAN (an HHT's pairing) and HAN (after joining) exchanges lead to different things.
      const via = this.interPanRoutes.has(peer) ? 'interpan' : 'han';
      traceApp(this.host, { type: 'cbke-established', role, peer, suite: r.suite, via });
      this.o.onResult?.(peer, role, r);
      this.o.onEstablished?.(peer, role, r.suite);
      return;
    }
    traceApp(this.host, {
      type: 'cbke-failed',
      role,
      peer,
      reason: r.reason,
      message: r.message,
      ...(r.terminateStatus !== undefined ? { terminateStatus: r.terminateStatus } : {}),
    });
    this.o.onResult?.(peer, role, r);
    if (
      role === 'initiator' &&
      this.running &&
      r.reason !== 'CBKE_ABORTED' &&
      !this.interPanRoutes.has(peer)
    ) {
      const ini = this.initiators.get(peer);
      const notBefore = ini?.retryNotBeforeUs ?? 0;
      const at = Math.max(this.host.clock.now() + (this.o.retryDelayUs ?? DEFAULT_RETRY_US), notBefore);
      this.retryTimers.set(
        peer,
        this.host.clock.setTimerAt(at, () => {
          this.retryTimers.delete(peer);
          this.start(peer);
        }),
      );
    }
  }
}
