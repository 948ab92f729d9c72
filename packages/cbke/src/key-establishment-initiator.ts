/**
 * The Key Establishment initiator (ZCL client, U): proposes a suite with its certificate,
 * sends QEU and MACU, and checks the responder's certificate and MACV. Only the order of its
 * messages is here; ending an exchange, timeouts and the crypto are the shared core's (key-establishment.ts).
 */
import type { KeyEstablishmentMessage } from '@gbhan/zigbee';
import { TerminateStatus } from '@gbhan/zigbee';
import { equalBytes } from './bytes.js';
import { CbkeError } from './errors.js';
import { macU, macV } from './hash.js';
import {
  Abort,
  badMessage,
  checkArgument,
  type Exchange,
  isEui64,
  isU16,
  KeyEstablishmentParty,
  messageProblem,
  SECOND,
} from './key-establishment.js';
import { SUITES } from './suites.js';

export type InitiatorState =
  | 'idle'
  | 'awaitInitiateResponse'
  | 'generatingEphemeralData'
  | 'awaitEphemeralDataResponse'
  | 'generatingConfirmKey'
  | 'awaitConfirmKeyResponse';

/** The client side (U): starts an exchange with `start`, feeds received messages to `receive`. */
export class KeyEstablishmentInitiator extends KeyEstablishmentParty<InitiatorState> {
  protected readonly direction = 'request';
  private backoffUntilUs = 0;

  /** Virtual time before which `start` refuses (after a received Terminate's wait time). */
  get retryNotBeforeUs(): number {
    return this.backoffUntilUs;
  }

  /**
   * Starts an exchange with `peerEui64`, whose KeyEstablishmentSuite attribute is
   * `peerSuites` (default: assume it supports ours). Picks the highest common suite.
   */
  start(peerEui64: Uint8Array, peerSuites?: number): void {
    if (this.state !== 'idle') throw new CbkeError('CBKE_STATE', `initiator busy (${this.state})`);
    checkArgument(isEui64(peerEui64), `peer must be an 8-byte EUI64, got ${String(peerEui64)}`);
    checkArgument(
      peerSuites === undefined || isU16(peerSuites),
      `peer suites must be a 16-bit bitmap, got ${peerSuites}`,
    );
    const peer = peerEui64.slice();
    const now = this.clock.now();
    if (now < this.backoffUntilUs) {
      const waitTime = Math.ceil((this.backoffUntilUs - now) / SECOND);
      this.fail('CBKE_BACKOFF', `peer asked to wait ${waitTime} s more`, peer, { waitTime });
      return;
    }
    const suite = this.supportedSuites.find(
      (s) => peerSuites === undefined || (peerSuites & SUITES[s].value) !== 0,
    );
    if (suite === undefined) {
      this.fail('CBKE_NO_COMMON_SUITE', `no common suite (peer bitmap ${peerSuites})`, peer);
      return;
    }
    const ex: Exchange = {
      peer,
      info: SUITES[suite],
      own: this.credentials[suite]!,
      peerEphemeralDataGenerateTime: 0,
      peerConfirmKeyGenerateTime: 0,
    };
    this.ex = ex;
    this.sendAndAwait(
      'awaitInitiateResponse',
      this.timeouts.initiateResponseUs,
      this.initiateMessage(ex),
      peer,
    );
  }

  /** Abandons the current exchange without a message. */
  abort(): void {
    if (this.state === 'idle') return;
    this.endQuietly('CBKE_ABORTED', 'aborted locally');
  }

  /**
   * A Key Establishment message from `fromEui64`. A bad message ends the exchange with
   * Terminate BadMessage; only a sender that is not an EUI64 throws (CbkeError CBKE_BAD_ARGUMENT).
   */
  receive(msg: KeyEstablishmentMessage, fromEui64: Uint8Array): void {
    const from = this.checkSender(fromEui64);
    const ex = this.ex;
    if (this.state === 'idle' || ex === undefined || !equalBytes(from, ex.peer)) return; // not ours
    try {
      const problem = messageProblem(msg);
      if (problem !== undefined) throw badMessage(problem);
      if (msg.command === 'TerminateKeyEstablishment') {
        this.backoffUntilUs = this.clock.now() + msg.waitTime * SECOND;
        this.terminatedByPeer(ex.peer, msg);
        return;
      }
      if (msg.direction !== 'response') throw badMessage('request sent to the initiator');
      switch (this.state) {
        case 'awaitInitiateResponse':
          this.onInitiateResponse(ex, msg);
          return;
        case 'awaitEphemeralDataResponse':
          this.onEphemeralDataResponse(ex, msg);
          return;
        case 'awaitConfirmKeyResponse':
          this.onConfirmKeyResponse(ex, msg);
          return;
        case 'generatingEphemeralData':
        case 'generatingConfirmKey':
          throw this.unexpected(msg);
      }
    } catch (err) {
      this.abortExchange(err, ex.peer, ex.info.value);
    }
  }

  private onInitiateResponse(ex: Exchange, msg: KeyEstablishmentMessage): void {
    this.expectCommand(msg, 'InitiateKeyEstablishment', 'Initiate KE');
    if (msg.suite !== ex.info.value) {
      throw new Abort(
        'CBKE_UNSUPPORTED_SUITE',
        `responder chose suite ${msg.suite}, asked ${ex.info.value}`,
        TerminateStatus.UnsupportedSuite,
      );
    }
    ex.peerStatic = this.checkPeerCertificate(ex.info, msg.identity, ex.peer);
    ex.peerEphemeralDataGenerateTime = msg.ephemeralDataGenerateTime;
    ex.peerConfirmKeyGenerateTime = msg.confirmKeyGenerateTime;
    ex.qeu = this.makeEphemeral(ex);
    this.generateThen('generatingEphemeralData', this.ephemeralDataGenerateTime, () =>
      this.sendAndAwait(
        'awaitEphemeralDataResponse',
        this.waitUs(ex.peerEphemeralDataGenerateTime),
        { command: 'EphemeralData', direction: 'request', ephemeralData: ex.qeu! },
        ex.peer,
      ),
    );
  }

  private onEphemeralDataResponse(ex: Exchange, msg: KeyEstablishmentMessage): void {
    this.expectCommand(msg, 'EphemeralData', 'Ephemeral Data');
    const qev = this.checkEphemeral(ex.info, msg.ephemeralData);
    ex.qev = msg.ephemeralData.slice();
    this.deriveKeys(ex, qev);
    const mac = macU(ex.macKey!, this.ownEui64, ex.peer, ex.qeu!, ex.qev);
    this.generateThen('generatingConfirmKey', this.confirmKeyGenerateTime, () =>
      this.sendAndAwait(
        'awaitConfirmKeyResponse',
        this.waitUs(ex.peerConfirmKeyGenerateTime),
        { command: 'ConfirmKeyData', direction: 'request', secureMessageAuthenticationCode: mac },
        ex.peer,
      ),
    );
  }

  private onConfirmKeyResponse(ex: Exchange, msg: KeyEstablishmentMessage): void {
    this.expectCommand(msg, 'ConfirmKeyData', 'Confirm Key Data');
    const expected = macV(ex.macKey!, this.ownEui64, ex.peer, ex.qeu!, ex.qev!);
    this.checkMac(msg.secureMessageAuthenticationCode, expected, 'MACV');
    this.state = 'idle';
    this.establish(ex, 'initiator');
  }
}
