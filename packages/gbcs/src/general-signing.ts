/**
 * General-Signing APDU (tag 0xDF), the GBCS grouping header + content + signature:
 *   DF 09 <CRA flag> <originator counter, 8>  08 <originator system title>
 *   08 <recipient system title>  <date-time: 00 | 0C + 12>  <len> <other-information>
 *   <len> <content>  <signature: 00 | 40 + r||s>
 * Other-information = message code (2) [+ supplementary remote party id (8)
 * [+ its counter (8) [+ supplementary originator counter (8) | + a KA certificate]]]
 * (gbcs-parser src/parser.ts; Wireshark's gbcs_message dissector reads the same layout).
 */
import { checkBytes, checkU64, checkUint, concat, Reader, u16be, u64be } from './bytes.js';
import { GbcsError } from './errors.js';
import { decodeLength, encodeLength } from './length.js';

export const GENERAL_SIGNING_TAG = 0xdf;
export const DLMS_DATE_TIME_LENGTH = 12;
export const SIGNATURE_LENGTH = 64;

export type CraFlag = 'command' | 'response' | 'alert';
const CRA_CODES: Record<CraFlag, number> = { command: 1, response: 2, alert: 3 };

export interface Supplementary {
  remotePartyId: Uint8Array;
  remotePartyCounter?: bigint;
  /** Present only with remotePartyCounter; excludes keyAgreementCertificate. */
  originatorCounter?: bigint;
  keyAgreementCertificate?: Uint8Array;
}

export interface GeneralSigning {
  cra: CraFlag;
  originatorCounter: bigint;
  originator: Uint8Array;
  recipient: Uint8Array;
  /** The 12-byte DLMS date-time, or null when absent. */
  dateTime: Uint8Array | null;
  messageCode: number;
  supplementary?: Supplementary;
  content: Uint8Array;
  /** 64-byte r||s, or null (signature length 00: not signed, or a pre-command). */
  signature: Uint8Array | null;
  /**
   * RTDS 4.5.0 pre-commands end after the content, without the 00 signature length (gbcs-parser
   * notes DCC Boxed < 1.4.1 did so); true keeps that form through a round trip.
   */
  signatureLengthOmitted?: boolean;
}

export interface DecodedGeneralSigning extends GeneralSigning {
  /** The bytes the signature covers: after the DF tag up to the end of the content. */
  signedBytes: Uint8Array;
}

function encodeOtherInfo(g: GeneralSigning): Uint8Array {
  checkUint('GENERAL_SIGNING', 'messageCode', g.messageCode, 16);
  const parts = [u16be(g.messageCode)];
  const s = g.supplementary;
  if (s !== undefined) {
    checkBytes('GENERAL_SIGNING', 'supplementary.remotePartyId', s.remotePartyId, 8);
    parts.push(s.remotePartyId);
    if (s.remotePartyCounter !== undefined) {
      checkU64('GENERAL_SIGNING', 'supplementary.remotePartyCounter', s.remotePartyCounter);
      parts.push(u64be(s.remotePartyCounter));
      if (s.originatorCounter !== undefined && s.keyAgreementCertificate !== undefined)
        throw new GbcsError(
          'GENERAL_SIGNING',
          'OUT_OF_RANGE',
          'supplementary',
          'counter or certificate, not both',
        );
      if (s.originatorCounter !== undefined) {
        checkU64('GENERAL_SIGNING', 'supplementary.originatorCounter', s.originatorCounter);
        parts.push(u64be(s.originatorCounter));
      } else if (s.keyAgreementCertificate !== undefined) {
        if (s.keyAgreementCertificate.length <= 8)
          throw new GbcsError(
            'GENERAL_SIGNING',
            'OUT_OF_RANGE',
            'supplementary.keyAgreementCertificate',
            'a certificate is longer than 8 bytes',
          );
        parts.push(s.keyAgreementCertificate);
      }
    } else if (s.originatorCounter !== undefined || s.keyAgreementCertificate !== undefined) {
      throw new GbcsError(
        'GENERAL_SIGNING',
        'OUT_OF_RANGE',
        'supplementary.remotePartyCounter',
        'required before an originator counter or certificate',
      );
    }
  }
  return concat(...parts);
}

/** Everything after the DF tag up to the end of the content: what the signature covers. */
export function generalSigningSignedBytes(g: GeneralSigning): Uint8Array {
  checkU64('GENERAL_SIGNING', 'originatorCounter', g.originatorCounter);
  checkBytes('GENERAL_SIGNING', 'originator', g.originator, 8);
  checkBytes('GENERAL_SIGNING', 'recipient', g.recipient, 8);
  if (g.dateTime !== null) checkBytes('GENERAL_SIGNING', 'dateTime', g.dateTime, DLMS_DATE_TIME_LENGTH);
  const other = encodeOtherInfo(g);
  return concat(
    Uint8Array.of(9, CRA_CODES[g.cra]),
    u64be(g.originatorCounter),
    Uint8Array.of(8),
    g.originator,
    Uint8Array.of(8),
    g.recipient,
    g.dateTime === null ? Uint8Array.of(0) : concat(Uint8Array.of(DLMS_DATE_TIME_LENGTH), g.dateTime),
    encodeLength(other.length),
    other,
    encodeLength(g.content.length),
    g.content,
  );
}

export function encodeGeneralSigning(g: GeneralSigning): Uint8Array {
  if (g.signature !== null) checkBytes('GENERAL_SIGNING', 'signature', g.signature, SIGNATURE_LENGTH);
  if (g.signatureLengthOmitted === true) {
    if (g.signature !== null)
      throw new GbcsError('GENERAL_SIGNING', 'OUT_OF_RANGE', 'signatureLengthOmitted', 'only when unsigned');
    return concat(Uint8Array.of(GENERAL_SIGNING_TAG), generalSigningSignedBytes(g));
  }
  return concat(
    Uint8Array.of(GENERAL_SIGNING_TAG),
    generalSigningSignedBytes(g),
    g.signature === null ? Uint8Array.of(0) : concat(Uint8Array.of(SIGNATURE_LENGTH), g.signature),
  );
}

function decodeOtherInfo(r: Reader, len: number): { messageCode: number; supplementary?: Supplementary } {
  if (len < 2 || (len > 2 && len < 10) || (len > 10 && len < 18))
    throw new GbcsError('GENERAL_SIGNING', 'INVALID_FIELD', 'otherInformation', `length ${len} not allowed`);
  const messageCode = r.u16('otherInformation.messageCode');
  if (len === 2) return { messageCode };
  const supplementary: Supplementary = { remotePartyId: r.take(8, 'otherInformation.remotePartyId') };
  if (len >= 18) supplementary.remotePartyCounter = r.u64('otherInformation.remotePartyCounter');
  if (len === 26) supplementary.originatorCounter = r.u64('otherInformation.originatorCounter');
  else if (len > 26) supplementary.keyAgreementCertificate = r.take(len - 18, 'otherInformation.certificate');
  else if (len > 18)
    throw new GbcsError('GENERAL_SIGNING', 'INVALID_FIELD', 'otherInformation', `length ${len} not allowed`);
  return { messageCode, supplementary };
}

/** Decodes one General-Signing APDU filling `bytes` exactly. */
export function decodeGeneralSigning(bytes: Uint8Array): DecodedGeneralSigning {
  const r = new Reader(bytes, 'GENERAL_SIGNING');
  r.expect(GENERAL_SIGNING_TAG, 'tag');
  const start = r.pos;
  r.expect(9, 'transactionId.length');
  const craCode = r.u8('craFlag');
  const cra = (['command', 'response', 'alert'] as const)[craCode - 1];
  if (cra === undefined)
    throw new GbcsError(
      'GENERAL_SIGNING',
      'INVALID_FIELD',
      'craFlag',
      `0x${craCode.toString(16)} is not 1-3`,
    );
  const originatorCounter = r.u64('originatorCounter');
  r.expect(8, 'originator.length');
  const originator = r.take(8, 'originator');
  r.expect(8, 'recipient.length');
  const recipient = r.take(8, 'recipient');
  const dtLen = r.u8('dateTime.length');
  if (dtLen !== 0 && dtLen !== DLMS_DATE_TIME_LENGTH)
    throw new GbcsError('GENERAL_SIGNING', 'INVALID_FIELD', 'dateTime.length', `${dtLen} is not 0 or 12`);
  const dateTime = dtLen === 0 ? null : r.take(dtLen, 'dateTime');
  const otherLen = decodeLength(r, 'otherInformation.length');
  const other = new Reader(r.take(otherLen, 'otherInformation'), 'GENERAL_SIGNING');
  const info = decodeOtherInfo(other, otherLen);
  const contentLen = decodeLength(r, 'content.length');
  const content = r.take(contentLen, 'content');
  const signedBytes = bytes.subarray(start, r.pos);
  const omitted = r.remaining === 0;
  const sigLen = omitted ? 0 : r.u8('signature.length');
  if (sigLen !== 0 && sigLen !== SIGNATURE_LENGTH)
    throw new GbcsError('GENERAL_SIGNING', 'INVALID_FIELD', 'signature.length', `${sigLen} is not 0 or 64`);
  const signature = sigLen === 0 ? null : r.take(sigLen, 'signature');
  r.end('signature');
  const out: DecodedGeneralSigning = {
    cra,
    originatorCounter,
    originator,
    recipient,
    dateTime,
    messageCode: info.messageCode,
    content,
    signature,
    signedBytes,
  };
  if (omitted) out.signatureLengthOmitted = true;
  if (info.supplementary !== undefined) out.supplementary = info.supplementary;
  return out;
}
