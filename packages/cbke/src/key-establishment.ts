/**
 * ZigBee SE Key Establishment (cluster 0x0800, ZSE Annex C.3 / C.4) as two explicit,
 * transport-independent state machines. They consume and produce the typed messages of
 * @gbhan/zigbee (`KeyEstablishmentMessage`); whoever owns the transport maps them to ZCL
 * frames and back, and tells us the peer's EUI64.
 *
 *   initiator (client, U)                         responder (server, V)
 *   Initiate KE Request (suite, times, cert) --->  check suite, certificate
 *                                            <---  Initiate KE Response (suite, times, cert)
 *   check certificate, make QEU
 *   Ephemeral Data Request (QEU)            --->  make QEV, Z, keys
 *                                            <---  Ephemeral Data Response (QEV)
 *   Z, keys, MACU
 *   Confirm Key Data Request (MACU)         --->  check MACU
 *                                            <---  Confirm Key Data Response (MACV)
 *   check MACV: link key = keyData                 link key = keyData
 *
 * Either side may end the exchange with Terminate Key Establishment (status, wait time).
 * All timing goes through the injected Clock: a side waits for the peer's next message for
 * the generate time the peer advertised plus a margin, and sends its own Ephemeral Data and
 * Confirm Key messages either after its own advertised generate time ('advertised') or at
 * once ('as-fast-as-computed'). The computation itself takes no virtual time.
 *
 * This file is what the two roles share: the options and results, message validation, the
 * exchange's crypto (certificate checks, ephemeral keys, ECMQV + KDF), and the one way an
 * exchange ends: an abort (with its Terminate), a timeout, a Terminate from the peer, or the
 * key. The initiator (key-establishment-initiator.ts) and the responder
 * (key-establishment-responder.ts) differ only in which messages they expect in which state,
 * so each is a thin file and the failure handling cannot drift apart between them.
 */
import type { Clock, Timer } from '@gbhan/clock';
import type { KeyEstablishmentMessage } from '@gbhan/zigbee';
import { TerminateStatus } from '@gbhan/zigbee';
import type { AffinePoint } from './abstract/koblitz.js';
import { bytesToHex, equalBytes } from './bytes.js';
import {
  decodeCertificate,
  hasKeyAgreementUsage,
  type ImplicitCertificate,
  isCertificateValidAt,
} from './certificate.js';
import { ecmqvSharedSecret } from './ecmqv.js';
import { reconstructPublicKey } from './ecqv.js';
import { CbkeError } from './errors.js';
import { deriveKeys } from './hash.js';
import { type CryptoSuite, SUITES, type SuiteInfo, suiteBitmap } from './suites.js';
import { defaultRandom, type RandomSource, type TrustedCa } from './test-ca.js';

export const SECOND = 1_000_000;

export type TimingMode = 'advertised' | 'as-fast-as-computed';

export interface Credentials {
  certificate: Uint8Array;
  privateKey: bigint;
}

export interface KeyEstablishmentTimeouts {
  /** Initiator: how long to wait for the Initiate KE Response (default 10 s). */
  initiateResponseUs: number;
  /** Added to the peer's advertised generate time when waiting for its next message (default 1 s). */
  marginUs: number;
}

/** Reported through the key-export hook for every key established, so captures can be decrypted. */
export interface EstablishedKey {
  suite: CryptoSuite;
  role: 'initiator' | 'responder';
  localEui64: Uint8Array;
  peerEui64: Uint8Array;
  initiatorEui64: Uint8Array;
  responderEui64: Uint8Array;
  /** The new APS link key (keyData). */
  linkKey: Uint8Array;
  /** Virtual time (us) at which the key was established. */
  timeUs: number;
}

export type KeyEstablishmentFailureReason =
  | 'CBKE_TIMEOUT'
  | 'CBKE_TERMINATED_BY_PEER'
  | 'CBKE_UNKNOWN_ISSUER'
  | 'CBKE_INVALID_CERTIFICATE'
  | 'CBKE_BAD_MESSAGE'
  | 'CBKE_BAD_KEY_CONFIRM'
  | 'CBKE_UNSUPPORTED_SUITE'
  | 'CBKE_NO_COMMON_SUITE'
  | 'CBKE_BACKOFF'
  | 'CBKE_ABORTED';

export type KeyEstablishmentResult =
  | { ok: true; linkKey: Uint8Array; peerEui64: Uint8Array; suite: CryptoSuite }
  | {
      ok: false;
      reason: KeyEstablishmentFailureReason;
      message: string;
      peerEui64?: Uint8Array;
      /** Status of the Terminate sent or received, when there was one. */
      terminateStatus?: TerminateStatus;
      /** Who sent the Terminate. */
      terminatedBy?: 'local' | 'peer';
      /** Wait time (s) of that Terminate; for CBKE_BACKOFF the seconds still to wait. */
      waitTime?: number;
    };

export interface KeyEstablishmentOptions {
  clock: Clock;
  /** Own EUI64, big-endian (as in certificates). */
  ownEui64: Uint8Array;
  /** Certificate and static private key per suite this device has. */
  credentials?: Partial<Record<CryptoSuite, Credentials>>;
  /** Shorthand for a single suite: the suite follows from the length (48 -> 1, 74 -> 2). */
  certificate?: Uint8Array;
  privateKey?: bigint;
  /** Suites offered (default: every suite with credentials). */
  supportedSuites?: readonly CryptoSuite[];
  trustedCAs: readonly TrustedCa[];
  /** 'advertised' (default) or 'as-fast-as-computed'. */
  timing?: TimingMode;
  /** Advertised Ephemeral Data Generate Time, seconds (default 10). */
  ephemeralDataGenerateTime?: number;
  /** Advertised Confirm Key Generate Time, seconds (default 15). */
  confirmKeyGenerateTime?: number;
  timeouts?: Partial<KeyEstablishmentTimeouts>;
  /** Wait time (s) put in the Terminate messages this side sends (default 30). */
  terminateWaitTime?: number;
  /** Unix time (s) at virtual time 0, for certificate validity (default 2026-01-01T00:00:00Z). */
  unixEpochSeconds?: number;
  random?: RandomSource;
  /** Key-export hook. */
  onKeyEstablished?: (key: EstablishedKey) => void;
  /** Called once per exchange with its outcome. */
  onResult?: (result: KeyEstablishmentResult) => void;
  /** Transport: deliver `message` to `peerEui64`. */
  send: (message: KeyEstablishmentMessage, peerEui64: Uint8Array) => void;
}

export const DEFAULT_EPHEMERAL_DATA_GENERATE_TIME = 10;
export const DEFAULT_CONFIRM_KEY_GENERATE_TIME = 15;
export const DEFAULT_TERMINATE_WAIT_TIME = 30;
export const DEFAULT_UNIX_EPOCH_SECONDS = 1_767_225_600;

/** A failure that ends the exchange, with the Terminate status to send (if any). */
export class Abort extends Error {
  constructor(
    readonly reason: KeyEstablishmentFailureReason,
    message: string,
    readonly status?: TerminateStatus,
  ) {
    super(message);
  }
}

/** The failure for a malformed or misplaced message: Terminate BadMessage. */
export function badMessage(message: string): Abort {
  return new Abort('CBKE_BAD_MESSAGE', message, TerminateStatus.BadMessage);
}

const isU8 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xff;
export const isU16 = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff;
export const isEui64 = (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.length === 8;

/**
 * What is wrong with `msg` as a Key Establishment message (undefined: nothing). The decoder
 * only ever hands over well-formed messages; this guards the API, where a NaN generate time
 * would otherwise reach a timer and leave the machine waiting forever.
 */
export function messageProblem(msg: unknown): string | undefined {
  if (msg === null || typeof msg !== 'object') return 'not a Key Establishment message';
  const m = msg as Record<string, unknown>;
  if (m.direction !== 'request' && m.direction !== 'response') return `bad direction ${String(m.direction)}`;
  const bytes = (field: string) => (m[field] instanceof Uint8Array ? undefined : `${field} is not bytes`);
  const u8 = (field: string) => (isU8(m[field]) ? undefined : `${field} ${String(m[field])} is not 0..255`);
  const u16 = (field: string) =>
    isU16(m[field]) ? undefined : `${field} ${String(m[field])} is not 0..65535`;
  switch (m.command) {
    case 'InitiateKeyEstablishment':
      return (
        u16('suite') ?? u8('ephemeralDataGenerateTime') ?? u8('confirmKeyGenerateTime') ?? bytes('identity')
      );
    case 'EphemeralData':
      return bytes('ephemeralData');
    case 'ConfirmKeyData':
      return bytes('secureMessageAuthenticationCode');
    case 'TerminateKeyEstablishment':
      return u8('statusCode') ?? u8('waitTime') ?? u16('suite');
    default:
      return `unknown command ${String(m.command)}`;
  }
}

export function checkArgument(ok: boolean, message: string): void {
  if (!ok) throw new CbkeError('CBKE_BAD_ARGUMENT', message);
}

/** The crypto of one exchange, filled in as it goes. */
export interface Exchange {
  peer: Uint8Array;
  info: SuiteInfo;
  own: Credentials;
  peerEphemeralDataGenerateTime: number;
  peerConfirmKeyGenerateTime: number;
  peerStatic?: AffinePoint;
  ephemeralPrivate?: bigint;
  ephemeralPublic?: AffinePoint;
  qeu?: Uint8Array;
  qev?: Uint8Array;
  macKey?: Uint8Array;
  keyData?: Uint8Array;
}

export abstract class KeyEstablishmentParty<S extends string> {
  /** Where the exchange is; 'idle' when there is none. */
  state = 'idle' as S;
  /** Direction of the messages this side sends (the initiator is the ZCL client). */
  protected abstract readonly direction: 'request' | 'response';
  protected readonly clock: Clock;
  protected readonly ownEui64: Uint8Array;
  protected readonly credentials: Partial<Record<CryptoSuite, Credentials>>;
  readonly supportedSuites: readonly CryptoSuite[];
  protected readonly trustedCAs: readonly TrustedCa[];
  protected readonly timing: TimingMode;
  readonly ephemeralDataGenerateTime: number;
  readonly confirmKeyGenerateTime: number;
  protected readonly timeouts: KeyEstablishmentTimeouts;
  protected readonly terminateWaitTime: number;
  protected readonly unixEpochSeconds: number;
  protected readonly random: RandomSource;
  private readonly onKeyEstablished: ((key: EstablishedKey) => void) | undefined;
  private readonly onResult: ((result: KeyEstablishmentResult) => void) | undefined;
  private readonly sendFn: (message: KeyEstablishmentMessage, peerEui64: Uint8Array) => void;
  protected ex: Exchange | undefined;
  private timer: Timer | undefined;
  /** Outcome of the last finished exchange. */
  lastResult: KeyEstablishmentResult | undefined;

  constructor(o: KeyEstablishmentOptions) {
    if (!isEui64(o?.ownEui64)) throw new CbkeError('CBKE_BAD_LENGTH', 'ownEui64 must be 8 bytes');
    // Everything that ends up on air as a u8 or in a timer is checked here, not when it fires.
    for (const k of ['ephemeralDataGenerateTime', 'confirmKeyGenerateTime', 'terminateWaitTime'] as const)
      checkArgument(o[k] === undefined || isU8(o[k]), `${k} must be an integer 0..255, got ${o[k]}`);
    for (const [k, v] of Object.entries(o.timeouts ?? {}))
      checkArgument(
        v === undefined || (Number.isFinite(v) && v >= 0),
        `timeouts.${k} must be a finite number >= 0, got ${v}`,
      );
    this.clock = o.clock;
    this.ownEui64 = o.ownEui64.slice();
    const credentials: Partial<Record<CryptoSuite, Credentials>> = { ...o.credentials };
    if (o.certificate !== undefined && o.privateKey !== undefined) {
      const suite = ([1, 2] as const).find((s) => SUITES[s].certificateLength === o.certificate!.length);
      if (suite === undefined)
        throw new CbkeError('CBKE_CERT_LENGTH', `no suite has ${o.certificate.length}-byte certificates`);
      credentials[suite] = { certificate: o.certificate, privateKey: o.privateKey };
    }
    this.credentials = credentials;
    // highest suite first: the initiator proposes the best common one
    this.supportedSuites = ([2, 1] as const).filter(
      (s) =>
        credentials[s] !== undefined && (o.supportedSuites === undefined || o.supportedSuites.includes(s)),
    );
    this.trustedCAs = o.trustedCAs;
    this.timing = o.timing ?? 'advertised';
    this.ephemeralDataGenerateTime = o.ephemeralDataGenerateTime ?? DEFAULT_EPHEMERAL_DATA_GENERATE_TIME;
    this.confirmKeyGenerateTime = o.confirmKeyGenerateTime ?? DEFAULT_CONFIRM_KEY_GENERATE_TIME;
    this.timeouts = { initiateResponseUs: 10 * SECOND, marginUs: 1 * SECOND, ...o.timeouts };
    this.terminateWaitTime = o.terminateWaitTime ?? DEFAULT_TERMINATE_WAIT_TIME;
    this.unixEpochSeconds = o.unixEpochSeconds ?? DEFAULT_UNIX_EPOCH_SECONDS;
    this.random = o.random ?? defaultRandom;
    this.onKeyEstablished = o.onKeyEstablished;
    this.onResult = o.onResult;
    this.sendFn = o.send;
  }

  /** Value of the KeyEstablishmentSuite attribute (0x0000) for this device. */
  get keyEstablishmentSuite(): number {
    return suiteBitmap(this.supportedSuites);
  }

  protected send(message: KeyEstablishmentMessage, peer: Uint8Array): void {
    this.sendFn(message, peer);
  }

  protected startTimer(delayUs: number, fn: () => void): void {
    this.cancelTimer();
    this.timer = this.clock.setTimer(Math.max(0, delayUs), () => {
      this.timer = undefined;
      fn();
    });
  }

  protected cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Delay before sending our own Ephemeral Data / Confirm Key message. */
  protected generateDelayUs(seconds: number): number {
    return this.timing === 'advertised' ? seconds * SECOND : 0;
  }

  protected waitUs(peerSeconds: number): number {
    return peerSeconds * SECOND + this.timeouts.marginUs;
  }

  protected terminate(
    status: TerminateStatus,
    peer: Uint8Array,
    suite: number,
    direction: 'request' | 'response',
  ) {
    this.send(
      {
        command: 'TerminateKeyEstablishment',
        direction,
        statusCode: status,
        waitTime: this.terminateWaitTime,
        suite,
      },
      peer,
    );
  }

  /** Our highest suite (GB's suite 2 without credentials): what a stray message's Terminate names. */
  protected get bestSuiteValue(): number {
    return SUITES[this.supportedSuites[0] ?? 2].value;
  }

  /** The sender of a received message; not an EUI64 is the caller's mistake (nowhere to answer). */
  protected checkSender(fromEui64: unknown): Uint8Array {
    checkArgument(isEui64(fromEui64), `sender must be an 8-byte EUI64, got ${String(fromEui64)}`);
    return (fromEui64 as Uint8Array).slice();
  }

  /**
   * Ends the exchange with `peer` on `err`: an Abort's Terminate (naming `suite`), or
   * BadMessage for anything else that was thrown. Shared by both sides.
   */
  protected abortExchange(err: unknown, peer: Uint8Array, suite: number): void {
    const a =
      err instanceof Abort ? err : badMessage(`internal error: ${(err as Error)?.message ?? String(err)}`);
    this.state = 'idle' as S;
    try {
      if (a.status !== undefined) this.terminate(a.status, peer, suite, this.direction);
    } finally {
      // even if the transport throws, the exchange is over and a new one can start
      this.fail(a.reason, a.message, peer, {
        ...(a.status !== undefined
          ? { terminateStatus: a.status, terminatedBy: 'local' as const, waitTime: this.terminateWaitTime }
          : {}),
      });
    }
  }

  /** The peer did not answer in time: the exchange ends without a message. */
  protected onTimeout(): void {
    this.endQuietly('CBKE_TIMEOUT', `timed out in ${this.state}`);
  }

  /** Ends the current exchange (if any) with `reason`, sending nothing. */
  protected endQuietly(reason: KeyEstablishmentFailureReason, message: string): void {
    const peer = this.ex?.peer;
    this.state = 'idle' as S;
    this.fail(reason, message, peer);
  }

  /** The peer sent Terminate Key Establishment: the exchange with it is over. */
  protected terminatedByPeer(
    peer: Uint8Array,
    msg: KeyEstablishmentMessage & { command: 'TerminateKeyEstablishment' },
  ): void {
    this.state = 'idle' as S;
    this.fail('CBKE_TERMINATED_BY_PEER', `peer terminated with status ${msg.statusCode}`, peer, {
      terminateStatus: msg.statusCode,
      terminatedBy: 'peer',
      waitTime: msg.waitTime,
    });
  }

  /** Moves to `state`, starts waiting `timeoutUs` for the peer's answer, and sends `message`. */
  protected sendAndAwait(
    state: S,
    timeoutUs: number,
    message: KeyEstablishmentMessage,
    peer: Uint8Array,
  ): void {
    this.state = state;
    this.startTimer(timeoutUs, () => this.onTimeout());
    this.send(message, peer);
  }

  /** Moves to `state` and runs `then` once our own generate time of `seconds` has passed (or at once). */
  protected generateThen(state: S, seconds: number, then: () => void): void {
    this.state = state;
    this.startTimer(this.generateDelayUs(seconds), then);
  }

  /** Our Initiate Key Establishment message (request or response) for `ex`'s suite. */
  protected initiateMessage(ex: Exchange): KeyEstablishmentMessage {
    return {
      command: 'InitiateKeyEstablishment',
      direction: this.direction,
      suite: ex.info.value,
      ephemeralDataGenerateTime: this.ephemeralDataGenerateTime,
      confirmKeyGenerateTime: this.confirmKeyGenerateTime,
      identity: ex.own.certificate,
    };
  }

  /**
   * The peer's message must be `command` (`what` names it in the error, e.g. 'Ephemeral
   * Data'); anything else ends the exchange with BadMessage.
   */
  protected expectCommand<C extends KeyEstablishmentMessage['command']>(
    msg: KeyEstablishmentMessage,
    command: C,
    what: string,
  ): asserts msg is KeyEstablishmentMessage & { command: C } {
    if (msg.command !== command) {
      const kind = this.direction === 'request' ? 'Response' : 'Request';
      throw badMessage(`expected ${what} ${kind}, got ${msg.command}`);
    }
  }

  /** A message the current state does not take: BadMessage. */
  protected unexpected(msg: KeyEstablishmentMessage): Abort {
    return badMessage(`unexpected ${msg.command} in ${this.state}`);
  }

  /** The peer's key confirmation `mac` must be 16 bytes and equal `expected` (`name`: MACU or MACV). */
  protected checkMac(mac: Uint8Array, expected: Uint8Array, name: 'MACU' | 'MACV'): void {
    if (mac.length !== 16) throw badMessage(`${name} must be 16 bytes`);
    if (!equalBytes(expected, mac)) {
      throw new Abort('CBKE_BAD_KEY_CONFIRM', `${name} does not match`, TerminateStatus.BadKeyConfirm);
    }
  }

  protected finish(result: KeyEstablishmentResult): void {
    this.cancelTimer();
    this.ex = undefined;
    this.lastResult = result;
    this.onResult?.(result);
  }

  protected establish(ex: Exchange, role: 'initiator' | 'responder'): void {
    const linkKey = ex.keyData!;
    const initiator = role === 'initiator' ? this.ownEui64 : ex.peer;
    const responder = role === 'initiator' ? ex.peer : this.ownEui64;
    this.onKeyEstablished?.({
      suite: ex.info.suite,
      role,
      localEui64: this.ownEui64,
      peerEui64: ex.peer,
      initiatorEui64: initiator,
      responderEui64: responder,
      linkKey,
      timeUs: this.clock.now(),
    });
    this.finish({ ok: true, linkKey, peerEui64: ex.peer, suite: ex.info.suite });
  }

  /**
   * The certificate checks of ZSE C.4.2.2.3 (and the SE 1.2 status rules): length, issuer
   * trusted (UnknownIssuer), subject = peer EUI64, valid now, key-agreement usage and a
   * valid reconstruction point (InvalidCertificate). Returns the reconstructed public key.
   */
  protected checkPeerCertificate(info: SuiteInfo, identity: Uint8Array, peer: Uint8Array): AffinePoint {
    if (identity.length !== info.certificateLength) {
      throw badMessage(`certificate of ${identity.length} bytes`);
    }
    let cert: ImplicitCertificate;
    try {
      cert = decodeCertificate(info.suite, identity);
    } catch (err) {
      throw new Abort('CBKE_INVALID_CERTIFICATE', (err as Error).message, TerminateStatus.InvalidCertificate);
    }
    const ca = this.trustedCAs.find((c) => c.suite === info.suite && equalBytes(c.issuer, cert.issuer));
    if (ca === undefined) {
      throw new Abort(
        'CBKE_UNKNOWN_ISSUER',
        `issuer ${bytesToHex(cert.issuer)} is not trusted`,
        TerminateStatus.UnknownIssuer,
      );
    }
    const invalid = (msg: string) =>
      new Abort('CBKE_INVALID_CERTIFICATE', msg, TerminateStatus.InvalidCertificate);
    if (!equalBytes(cert.subject, peer)) {
      throw invalid(`certificate subject ${bytesToHex(cert.subject)} is not the peer ${bytesToHex(peer)}`);
    }
    const unixNow = this.unixEpochSeconds + Math.floor(this.clock.now() / SECOND);
    if (!isCertificateValidAt(cert, unixNow)) throw invalid(`certificate not valid at Unix time ${unixNow}`);
    if (!hasKeyAgreementUsage(cert)) throw invalid('certificate lacks the key-agreement usage');
    try {
      const caKey = info.curve.decodePublicKey(ca.publicKey);
      return reconstructPublicKey(info.curve, identity, cert.reconstructionPoint, caKey);
    } catch (err) {
      throw invalid(`public key reconstruction failed: ${(err as Error).message}`);
    }
  }

  /** Decodes and validates a peer ephemeral key (SEC 1 §3.2.2); BadMessage when invalid. */
  protected checkEphemeral(info: SuiteInfo, data: Uint8Array): AffinePoint {
    if (data.length !== info.pointLength) {
      throw badMessage(`ephemeral data of ${data.length} bytes`);
    }
    try {
      return info.curve.decodePublicKey(data);
    } catch (err) {
      throw badMessage(`bad ephemeral key: ${(err as Error).message}`);
    }
  }

  protected makeEphemeral(ex: Exchange): Uint8Array {
    const curve = ex.info.curve;
    ex.ephemeralPrivate = curve.randomScalar(this.random);
    ex.ephemeralPublic = curve.multiplyBase(ex.ephemeralPrivate)!;
    return curve.compress(ex.ephemeralPublic);
  }

  /** ECMQV + KDF (ZSE C.4.2.2.5-6). */
  protected deriveKeys(ex: Exchange, peerEphemeral: AffinePoint): void {
    const z = ecmqvSharedSecret(ex.info.curve, {
      staticPrivateKey: ex.own.privateKey,
      ephemeralPrivateKey: ex.ephemeralPrivate!,
      ephemeralPublicKey: ex.ephemeralPublic!,
      peerStaticPublicKey: ex.peerStatic!,
      peerEphemeralPublicKey: peerEphemeral,
    });
    const keys = deriveKeys(z);
    ex.macKey = keys.macKey;
    ex.keyData = keys.keyData;
  }

  protected fail(
    reason: KeyEstablishmentFailureReason,
    message: string,
    peer: Uint8Array | undefined,
    extra: { terminateStatus?: TerminateStatus; terminatedBy?: 'local' | 'peer'; waitTime?: number } = {},
  ): void {
    this.finish({ ok: false, reason, message, ...(peer ? { peerEui64: peer } : {}), ...extra });
  }
}
