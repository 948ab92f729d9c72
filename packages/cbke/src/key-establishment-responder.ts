/**
 * The Key Establishment responder (ZCL server, V): answers an Initiate KE Request, sends QEV
 * and MACV, and checks the initiator's certificate and MACU. One exchange at a time; what it
 * tells a device other than its peer (NoResources, BadMessage) leaves the running exchange
 * alone. Ending an exchange, timeouts and the crypto are the shared core's (key-establishment.ts).
 */
import type { KeyEstablishmentMessage } from '@gbhan/zigbee';
import { TerminateStatus } from '@gbhan/zigbee';
import { equalBytes } from './bytes.js';
import { macU, macV } from './hash.js';
import {
  Abort,
  badMessage,
  type Exchange,
  isU16,
  KeyEstablishmentParty,
  messageProblem,
} from './key-establishment.js';
import { suiteFromValue } from './suites.js';

export type ResponderState =
  | 'idle'
  | 'awaitEphemeralDataRequest'
  | 'generatingEphemeralData'
  | 'awaitConfirmKeyRequest'
  | 'generatingConfirmKey';

/**
 * The server side (V): answers Initiate KE Requests. One exchange at a time; an Initiate
 * from another device meanwhile gets Terminate NoResources.
 */
export class KeyEstablishmentResponder extends KeyEstablishmentParty<ResponderState> {
  protected readonly direction = 'response';

  /**
   * A Key Establishment message from `fromEui64`. A bad message gets Terminate BadMessage
   * (ending the exchange if it came from the peer); only a sender that is not an EUI64 throws
   * (CbkeError CBKE_BAD_ARGUMENT).
   */
  receive(msg: KeyEstablishmentMessage, fromEui64: Uint8Array): void {
    const from = this.checkSender(fromEui64);
    const ex = this.ex;
    const fromPeer = ex !== undefined && equalBytes(from, ex.peer);
    try {
      const problem = messageProblem(msg);
      if (problem !== undefined) {
        if (ex !== undefined && !fromPeer) {
          // A stranger's garbage must not disturb the running exchange.
          this.terminate(TerminateStatus.BadMessage, from, this.terminateSuite(msg), 'response');
          return;
        }
        throw badMessage(problem);
      }
      if (msg.command === 'TerminateKeyEstablishment') {
        if (fromPeer) this.terminatedByPeer(ex.peer, msg);
        return;
      }
      if (msg.command === 'InitiateKeyEstablishment' && msg.direction === 'request') {
        if (ex !== undefined && !fromPeer) {
          // Busy with another device: refuse without disturbing the running exchange.
          this.terminate(TerminateStatus.NoResources, from, this.terminateSuite(msg), 'response');
          return;
        }
        // A new Initiate from the current peer restarts the exchange.
        this.cancelTimer();
        this.ex = undefined;
        this.state = 'idle';
        this.onInitiateRequest(msg, from);
        return;
      }
      if (!fromPeer) {
        this.terminate(TerminateStatus.BadMessage, from, this.terminateSuite(msg), 'response');
        return;
      }
      if (msg.direction !== 'request') throw badMessage('response sent to the responder');
      switch (this.state) {
        case 'awaitEphemeralDataRequest':
          this.onEphemeralDataRequest(ex, msg);
          return;
        case 'awaitConfirmKeyRequest':
          this.onConfirmKeyRequest(ex, msg);
          return;
        case 'idle':
        case 'generatingEphemeralData':
        case 'generatingConfirmKey':
          throw this.unexpected(msg);
      }
    } catch (err) {
      this.abortExchange(err, from, this.terminateSuite(msg));
    }
  }

  /**
   * The suite a Terminate names: the one an Initiate requested (if it is a suite), else the one
   * in use, else our highest; never 0x0000 or another value that names no suite.
   */
  private terminateSuite(msg: unknown): number {
    const m = msg as { command?: unknown; suite?: unknown } | null;
    const requested =
      m?.command === 'InitiateKeyEstablishment' && isU16(m.suite) ? suiteFromValue(m.suite) : undefined;
    return requested?.value ?? this.ex?.info.value ?? this.bestSuiteValue;
  }

  private onInitiateRequest(
    msg: KeyEstablishmentMessage & { command: 'InitiateKeyEstablishment' },
    from: Uint8Array,
  ) {
    const info = suiteFromValue(msg.suite);
    if (info === undefined || !this.supportedSuites.includes(info.suite)) {
      throw new Abort(
        'CBKE_UNSUPPORTED_SUITE',
        `suite ${msg.suite} not supported`,
        TerminateStatus.UnsupportedSuite,
      );
    }
    const ex: Exchange = {
      peer: from,
      info,
      own: this.credentials[info.suite]!,
      peerEphemeralDataGenerateTime: msg.ephemeralDataGenerateTime,
      peerConfirmKeyGenerateTime: msg.confirmKeyGenerateTime,
    };
    this.ex = ex;
    ex.peerStatic = this.checkPeerCertificate(info, msg.identity, from);
    this.sendAndAwait(
      'awaitEphemeralDataRequest',
      this.waitUs(ex.peerEphemeralDataGenerateTime),
      this.initiateMessage(ex),
      from,
    );
  }

  private onEphemeralDataRequest(ex: Exchange, msg: KeyEstablishmentMessage): void {
    this.expectCommand(msg, 'EphemeralData', 'Ephemeral Data');
    const qeu = this.checkEphemeral(ex.info, msg.ephemeralData);
    ex.qeu = msg.ephemeralData.slice();
    ex.qev = this.makeEphemeral(ex);
    this.deriveKeys(ex, qeu);
    this.generateThen('generatingEphemeralData', this.ephemeralDataGenerateTime, () =>
      this.sendAndAwait(
        'awaitConfirmKeyRequest',
        this.waitUs(ex.peerConfirmKeyGenerateTime),
        { command: 'EphemeralData', direction: 'response', ephemeralData: ex.qev! },
        ex.peer,
      ),
    );
  }

  private onConfirmKeyRequest(ex: Exchange, msg: KeyEstablishmentMessage): void {
    this.expectCommand(msg, 'ConfirmKeyData', 'Confirm Key Data');
    const expected = macU(ex.macKey!, ex.peer, this.ownEui64, ex.qeu!, ex.qev!);
    this.checkMac(msg.secureMessageAuthenticationCode, expected, 'MACU');
    const mac = macV(ex.macKey!, ex.peer, this.ownEui64, ex.qeu!, ex.qev!);
    this.generateThen('generatingConfirmKey', this.confirmKeyGenerateTime, () => {
      this.send(
        { command: 'ConfirmKeyData', direction: 'response', secureMessageAuthenticationCode: mac },
        ex.peer,
      );
      this.state = 'idle';
      this.establish(ex, 'responder');
    });
  }
}
