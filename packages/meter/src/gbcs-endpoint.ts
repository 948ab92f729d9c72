/**
 * A meter's end of GBCS: every Remote Party command is checked by the meter itself, whatever
 * carried it (the CH's tunnel today, a PPMID tomorrow): the ACB's MAC, the Supplier's
 * signature on critical use cases, the recipient, and an originator counter strictly greater
 * than the last one accepted from that remote party. The counter is persisted before the
 * command runs, so a power cut cannot make a command run twice. A refusal is traced with its
 * reason, written to the Security Log and alerted; the command never runs.
 *
 * The remote parties' public keys are trust anchors "installed at manufacture": written to
 * NVM at the first power-on and read from NVM ever after.
 */
import {
  buildResponse,
  deviceGbcsKeys,
  fromHex,
  type GbcsParty,
  type RefusalReason,
  type RemotePartyRole,
  remoteParties,
  seal,
  type TrustAnchor,
  type TrustAnchors,
  toHex,
  trustAnchorsOf,
  type VerifiedCommand,
  verifyCommand,
} from '@gbhan/gbcs';
import type { ApplicationHost, NvValue } from '@gbhan/stack';
import { traceMeter } from './trace-events.js';

export interface GbcsDeviceConfig {
  /** The device's own Digital Signing and Key Agreement keys. */
  keys: GbcsParty;
  /** The remote parties this device trusts at manufacture (Supplier, ACB, Network Operator). */
  anchors: TrustAnchors;
}

/**
 * A device's GBCS credentials in a run, from the run seed alone (like its CBKE certificate):
 * its own keys, and as trust anchors the Supplier it is installed for, the ACB and the
 * Network Operator. ASSUMPTION: no certificates; anchors carry the public keys.
 */
export function runGbcsDeviceConfig(
  seed: string | number,
  eui64: string,
  supplier: 'supplier' | 'supplier2' = 'supplier',
): GbcsDeviceConfig {
  const parties = remoteParties(String(seed));
  return {
    keys: deviceGbcsKeys(String(seed), eui64),
    anchors: trustAnchorsOf([parties[supplier], parties.acb, parties['network-operator']]),
  };
}

/** What the Security Log needs (the stack's `securityLog`). */
export interface GbcsSecurityLog {
  record(event: string, detail?: Record<string, string | number | boolean>, alertCode?: number): void;
}

/**
 * GB alert codes per refusal reason (GBCS alert code table as gbcs-parser lists it).
 * ASSUMPTION: format and MAC failures are 0x8F1E "Integrity check of content or format of
 * command failed"; an unknown originator 0x8F30 "Source does not have Authority for Command";
 * signature failures 0x8F3D "Trusted Source Authentication Failure"; a stale counter (replay)
 * 0x8F53 "Failed Authentication or Authorisation not covered by other codes".
 */
export const GBCS_REFUSAL_ALERT: Record<RefusalReason | 'not-gbcs', number> = {
  malformed: 0x8f1e,
  'not-a-command': 0x8f1e,
  'wrong-recipient': 0x8f1e,
  'unknown-use-case': 0x8f1e,
  'bad-mac': 0x8f1e,
  'not-gbcs': 0x8f1e,
  'unknown-originator': 0x8f30,
  'unsigned-critical': 0x8f3d,
  'bad-signature': 0x8f3d,
  'stale-counter': 0x8f53,
};

/** What running a verified command gave: the response content (DLMS / GBZ), and a summary. */
export interface GbcsOutcome {
  payload: Uint8Array;
  /** Short result for the trace, e.g. `accepted`, `rejected-duplicate`. */
  result: string;
}

const NV_ANCHORS = 'gbcs.trustAnchors';
const NV_COUNTERS = 'gbcs.originatorCounters';

type StoredAnchor = { role: RemotePartyRole; ds: string; ka: string };

export class GbcsEndpoint {
  private readonly anchors: TrustAnchors;

  constructor(
    private readonly host: ApplicationHost,
    private readonly config: GbcsDeviceConfig,
    private readonly securityLog: GbcsSecurityLog,
    private readonly execute: (
      cmd: VerifiedCommand,
      from: string,
      seal: (plaintext: Uint8Array) => Uint8Array,
    ) => GbcsOutcome,
  ) {
    let stored = host.nvm.read<Record<string, StoredAnchor>>(NV_ANCHORS);
    if (!stored) {
      stored = {};
      for (const [id, a] of config.anchors)
        stored[id] = { role: a.role, ds: toHex(a.dsPublic), ka: toHex(a.kaPublic) };
      host.nvm.commit({ [NV_ANCHORS]: stored as unknown as NvValue });
    }
    this.anchors = new Map(
      Object.entries(stored).map(([id, a]): [string, TrustAnchor] => [
        id,
        { role: a.role, dsPublic: fromHex(a.ds), kaPublic: fromHex(a.ka) },
      ]),
    );
  }

  /** The last counter accepted from each originator (hex system title). */
  counters(): Record<string, string> {
    return this.host.nvm.read<Record<string, string>>(NV_COUNTERS) ?? {};
  }

  /** A GBCS command from `from` (the tunnel client): the response to send back, or null. */
  receive(from: string, bytes: Uint8Array, via: 'tunnel' | 'han'): Uint8Array | null {
    const v = verifyCommand(bytes, {
      deviceKaPrivate: this.config.keys.ka.privateKey,
      deviceSystemTitle: this.config.keys.systemTitle,
      trustAnchors: this.anchors,
      lastAcceptedCounter: (o) => {
        const c = this.counters()[o];
        return c === undefined ? undefined : BigInt(c);
      },
    });
    if (!v.ok) {
      this.refuse(from, via, v.reason, v.detail, v.field);
      return null;
    }
    const originator = toHex(v.originator);
    // Persisted before the command runs: a replay after a power cut is still stale.
    this.host.nvm.commit({
      [NV_COUNTERS]: { ...this.counters(), [originator]: v.counter.toString() } as unknown as NvValue,
    });
    const recipientKa = this.anchors.get(originator)!.kaPublic;
    // Sensitive content is sealed for the originator alone (sealed.ts of @gbhan/gbcs).
    const sealFor = (plaintext: Uint8Array) =>
      seal(plaintext, this.config.keys.ka.privateKey, recipientKa, {
        originator: this.config.keys.systemTitle,
        recipient: v.originator,
        counter: v.counter,
      });
    const out = this.execute(v, from, sealFor);
    traceMeter(this.host, {
      type: 'gbcs-command-executed',
      from,
      via,
      useCase: v.useCase.name,
      originator,
      counter: v.counter.toString(),
      result: out.result,
    });
    const recipient = this.anchors.get(originator)!;
    return buildResponse({
      useCase: v.useCase.code,
      originator: this.config.keys.systemTitle,
      recipient: v.originator,
      counter: v.counter,
      payload: out.payload,
      deviceDsPrivate: this.config.keys.ds.privateKey,
      deviceKaPrivate: this.config.keys.ka.privateKey,
      recipientKaPublic: recipient.kaPublic,
    });
  }

  /** Traced, Security Log entry and alert: the one way a command is turned away. */
  refuse(
    from: string,
    via: 'tunnel' | 'han',
    reason: RefusalReason | 'not-gbcs',
    detail: string,
    field?: string,
  ): void {
    const alertCode = GBCS_REFUSAL_ALERT[reason];
    traceMeter(this.host, {
      type: 'gbcs-command-refused',
      from,
      via,
      reason,
      detail,
      ...(field !== undefined ? { field } : {}),
      alertCode,
    });
    this.securityLog.record('gbcs-command-refused', { from, reason, ...(field ? { field } : {}) }, alertCode);
  }
}
