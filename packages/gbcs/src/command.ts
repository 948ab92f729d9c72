/**
 * The high-level API: remote parties build commands, devices verify them and build responses
 * and alerts. Flow (DCC Boxed docs): the DCC transforms a request into a pre-command (General
 * Signing, signature length 00); the Supplier signs it when the use case is critical; the DCC's
 * Access Control Broker (ACB) wraps it in General Ciphering with the MAC.
 */
import { concat, equalBytes, toHex } from './bytes.js';
import { deriveKey, ecdsaSign, ecdsaVerify, gbcsMac, gbcsMacValid, type KdfType } from './crypto.js';
import { GbcsError } from './errors.js';
import { encodeGeneralCiphering } from './general-ciphering.js';
import {
  type DecodedGeneralSigning,
  decodeGeneralSigning,
  encodeGeneralSigning,
  GENERAL_SIGNING_TAG,
  type GeneralSigning,
  SIGNATURE_LENGTH,
  type Supplementary,
} from './general-signing.js';
import { decodeGbcsMessage } from './message.js';
import type { TrustAnchor, TrustAnchors } from './pki.js';
import { type UseCase, type UseCaseName, useCase, useCaseByCode } from './use-cases.js';

export interface PreCommandOptions {
  useCase: UseCaseName | number;
  /** The business originator: the Supplier's system title. */
  originator: Uint8Array;
  /** The device's system title (its EUI-64). */
  recipient: Uint8Array;
  counter: bigint;
  payload: Uint8Array;
  dateTime?: Uint8Array | null;
  supplementary?: Supplementary;
}

export interface BuildCommandOptions extends PreCommandOptions {
  /** The originator's DS private key; required for critical use cases. */
  signer?: Uint8Array;
  acbKaPrivate: Uint8Array;
  deviceKaPublic: Uint8Array;
}

/** The grouping header and content of a message (no signature yet). */
export function signingOf(o: PreCommandOptions, cra: GeneralSigning['cra']): GeneralSigning {
  const u = useCase(o.useCase);
  const g: GeneralSigning = {
    cra,
    originatorCounter: o.counter,
    originator: o.originator,
    recipient: o.recipient,
    dateTime: o.dateTime ?? null,
    messageCode: u.code,
    content: o.payload,
    signature: null,
  };
  if (o.supplementary !== undefined) g.supplementary = o.supplementary;
  return g;
}

/** The pre-command: General Signing with signature length 00. */
export function buildPreCommand(o: PreCommandOptions): Uint8Array {
  return encodeGeneralSigning(signingOf(o, 'command'));
}

/** Signs a pre-command (or any unsigned General-Signing APDU) with a DS private key. */
export function signGeneralSigning(apdu: Uint8Array, dsPrivate: Uint8Array): Uint8Array {
  const g = decodeGeneralSigning(apdu);
  if (g.signature !== null)
    throw new GbcsError('GENERAL_SIGNING', 'INVALID_FIELD', 'signature', 'already signed');
  const signature = ecdsaSign(g.signedBytes, dsPrivate);
  return concat(
    Uint8Array.of(GENERAL_SIGNING_TAG),
    g.signedBytes,
    Uint8Array.of(SIGNATURE_LENGTH),
    signature,
  );
}

/** MAC key for one message: ECDH(private, public) and the grouping header (GBCS KDF). */
export function macKey(g: GeneralSigning, privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const type: KdfType = g.cra;
  return deriveKey(privateKey, publicKey, {
    originator: g.originator,
    type,
    counter: g.originatorCounter,
    recipient: g.recipient,
  });
}

/** Wraps a General-Signing APDU in General Ciphering with the MAC (key from the two KA keys). */
export function macGeneralSigning(
  apdu: Uint8Array,
  kaPrivate: Uint8Array,
  peerKaPublic: Uint8Array,
): Uint8Array {
  const g = decodeGeneralSigning(apdu);
  const mac = gbcsMac(macKey(g, kaPrivate, peerKaPublic), g.originator, apdu);
  return encodeGeneralCiphering({ generalSigning: apdu, mac });
}

/** The ACB's step: MAC a (signed) pre-command with ACB KA x device KA. */
export function wrapCommand(
  apdu: Uint8Array,
  o: { acbKaPrivate: Uint8Array; deviceKaPublic: Uint8Array },
): Uint8Array {
  return macGeneralSigning(apdu, o.acbKaPrivate, o.deviceKaPublic);
}

/** Pre-command, signature when the use case is critical (or a signer is given), MAC. */
export function buildCommand(o: BuildCommandOptions): Uint8Array {
  const u = useCase(o.useCase);
  if (u.critical && o.signer === undefined)
    throw new GbcsError('COMMAND', 'OUT_OF_RANGE', 'signer', `${u.name} is critical: a signer is required`);
  let apdu = buildPreCommand(o);
  if (o.signer !== undefined) apdu = signGeneralSigning(apdu, o.signer);
  return wrapCommand(apdu, o);
}

export type RefusalReason =
  | 'malformed'
  | 'not-a-command'
  | 'wrong-recipient'
  | 'unknown-originator'
  | 'unknown-use-case'
  | 'bad-mac'
  | 'unsigned-critical'
  | 'bad-signature'
  | 'stale-counter';

export interface Refusal {
  ok: false;
  reason: RefusalReason;
  /** For malformed: the field (layer.field) that failed to decode. */
  field?: string;
  detail: string;
}

export interface VerifiedCommand {
  ok: true;
  useCase: UseCase;
  originator: Uint8Array;
  originatorRole: TrustAnchor['role'];
  counter: bigint;
  signed: boolean;
  signing: DecodedGeneralSigning;
  payload: Uint8Array;
}

export interface VerifyCommandOptions {
  deviceKaPrivate: Uint8Array;
  /** The device's own system title; commands to anyone else are refused. */
  deviceSystemTitle: Uint8Array;
  trustAnchors: TrustAnchors;
  /** Highest counter accepted so far from this originator (hex system title), if any. */
  lastAcceptedCounter: (originator: string) => bigint | undefined;
}

function refuse(reason: RefusalReason, detail: string, field?: string): Refusal {
  return field === undefined ? { ok: false, reason, detail } : { ok: false, reason, field, detail };
}

/**
 * A device's checks of a command, in order: decodes (malformed), is a command, is for this
 * device, the originator is known, the MAC (ACB KA x device KA), the use case is known, a
 * critical one is signed, the signature (originator's DS key), the counter is newer than the last
 * accepted from that originator. Never throws for any input bytes: every failure is a Refusal.
 * The caller records `counter` as accepted once it acts on the command.
 */
export function verifyCommand(bytes: Uint8Array, o: VerifyCommandOptions): VerifiedCommand | Refusal {
  let m: ReturnType<typeof decodeGbcsMessage>;
  try {
    m = decodeGbcsMessage(bytes);
  } catch (e) {
    if (e instanceof GbcsError) return refuse('malformed', e.message, `${e.layer}.${e.field}`);
    return refuse('malformed', String(e), 'unknown');
  }
  const g = m.signing;
  if (g.cra !== 'command') return refuse('not-a-command', `CRA flag is ${g.cra}`);
  if (m.mac === null)
    return refuse('malformed', "a command must be MAC'd (General Ciphering)", 'GENERAL_CIPHERING.tag');
  if (g.signatureLengthOmitted === true)
    return refuse(
      'malformed',
      'no signature length (a pre-command form)',
      'GENERAL_SIGNING.signature.length',
    );
  if (!equalBytes(g.recipient, o.deviceSystemTitle))
    return refuse('wrong-recipient', `addressed to ${toHex(g.recipient)}`);
  const originatorHex = toHex(g.originator);
  const anchor = o.trustAnchors.get(originatorHex);
  if (anchor === undefined) return refuse('unknown-originator', `no trust anchor for ${originatorHex}`);
  // ASSUMPTION: one ACB among the anchors; the device holds its KA key from the ACB certificate.
  const acb = [...o.trustAnchors.values()].find((a) => a.role === 'acb');
  if (acb === undefined) return refuse('unknown-originator', 'no ACB trust anchor', 'acb');
  let macOk: boolean;
  try {
    const key = macKey(g, o.deviceKaPrivate, acb.kaPublic);
    macOk = gbcsMacValid(key, g.originator, m.generalSigningBytes, m.mac);
  } catch (e) {
    return refuse('bad-mac', e instanceof Error ? e.message : String(e));
  }
  if (!macOk) return refuse('bad-mac', 'MAC does not verify with the ACB KA key');
  const u = useCaseByCode(g.messageCode);
  if (u === undefined) return refuse('unknown-use-case', `message code 0x${g.messageCode.toString(16)}`);
  if (u.critical && g.signature === null) return refuse('unsigned-critical', `${u.name} is critical`);
  if (g.signature !== null && !ecdsaVerify(g.signature, g.signedBytes, anchor.dsPublic))
    return refuse('bad-signature', `signature does not verify with ${originatorHex}'s DS key`);
  const last = o.lastAcceptedCounter(originatorHex);
  if (last !== undefined && g.originatorCounter <= last)
    return refuse('stale-counter', `counter ${g.originatorCounter} <= last accepted ${last}`);
  return {
    ok: true,
    useCase: u,
    originator: g.originator,
    originatorRole: anchor.role,
    counter: g.originatorCounter,
    signed: g.signature !== null,
    signing: g,
    payload: g.content,
  };
}
