/**
 * ZigBee SE implicit (ECQV) certificates in both layouts (ZSE Annex C.4.2.2.3; byte offsets
 * as in protocol-notes §5). EUI64s are big-endian inside certificates.
 *
 *   suite 1 (48): [0..21] reconstruction point | [22..29] subject | [30..37] issuer |
 *                 [38..47] profile attribute data
 *   suite 2 (74): [0] type 00 | [1..8] serial | [9] curve 0D | [10] hash 08 | [11..18] issuer |
 *                 [19..23] validFrom (40-bit Unix s) | [24..27] validTo (s after validFrom,
 *                 FFFFFFFF = never) | [28..35] subject | [36] keyUsage | [37..73] point
 *
 * Suite-1 certificates carry no validity period and no key usage: they are treated as always
 * valid and usable for key agreement.
 */
import { CbkeError } from './errors.js';
import { SUITES } from './suites.js';

export const KEY_USAGE_KEY_AGREEMENT = 0x08;
export const KEY_USAGE_DIGITAL_SIGNATURE = 0x80;
export const CERT_TYPE_IMPLICIT = 0x00;
export const CURVE_ID_SECT283K1 = 0x0d;
export const HASH_ID_AES_MMO = 0x08;
export const VALID_FOREVER = 0xffffffff;

export interface Suite1Certificate {
  readonly suite: 1;
  /** Compressed public-key reconstruction point P (22 bytes). */
  readonly reconstructionPoint: Uint8Array;
  readonly subject: Uint8Array;
  readonly issuer: Uint8Array;
  /** 10 bytes of profile attribute data (opaque). */
  readonly profileAttributeData: Uint8Array;
}

export interface Suite2Certificate {
  readonly suite: 2;
  readonly type: number;
  readonly serial: Uint8Array;
  readonly curve: number;
  readonly hash: number;
  readonly issuer: Uint8Array;
  /** Start of validity, Unix seconds (40 bits). */
  readonly validFrom: number;
  /** Seconds after validFrom the certificate stays valid; VALID_FOREVER = never expires. */
  readonly validTo: number;
  readonly subject: Uint8Array;
  readonly keyUsage: number;
  /** Compressed public-key reconstruction point P (37 bytes). */
  readonly reconstructionPoint: Uint8Array;
}

export type ImplicitCertificate = Suite1Certificate | Suite2Certificate;

function need(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length !== length) throw new CbkeError('CBKE_CERT_FIELD', `${what} must be ${length} bytes`);
}

export function encodeCertificate(cert: ImplicitCertificate): Uint8Array {
  if (cert.suite === 1) {
    need(cert.reconstructionPoint, 22, 'reconstruction point');
    need(cert.subject, 8, 'subject');
    need(cert.issuer, 8, 'issuer');
    need(cert.profileAttributeData, 10, 'profile attribute data');
    const out = new Uint8Array(48);
    out.set(cert.reconstructionPoint, 0);
    out.set(cert.subject, 22);
    out.set(cert.issuer, 30);
    out.set(cert.profileAttributeData, 38);
    return out;
  }
  need(cert.serial, 8, 'serial');
  need(cert.issuer, 8, 'issuer');
  need(cert.subject, 8, 'subject');
  need(cert.reconstructionPoint, 37, 'reconstruction point');
  if (!Number.isInteger(cert.validFrom) || cert.validFrom < 0 || cert.validFrom >= 2 ** 40) {
    throw new CbkeError('CBKE_CERT_FIELD', 'validFrom must be a 40-bit integer');
  }
  if (!Number.isInteger(cert.validTo) || cert.validTo < 0 || cert.validTo > VALID_FOREVER) {
    throw new CbkeError('CBKE_CERT_FIELD', 'validTo must be a 32-bit integer');
  }
  const out = new Uint8Array(74);
  const view = new DataView(out.buffer);
  out[0] = cert.type;
  out.set(cert.serial, 1);
  out[9] = cert.curve;
  out[10] = cert.hash;
  out.set(cert.issuer, 11);
  out[19] = Math.floor(cert.validFrom / 2 ** 32);
  view.setUint32(20, cert.validFrom % 2 ** 32);
  view.setUint32(24, cert.validTo);
  out.set(cert.subject, 28);
  out[36] = cert.keyUsage;
  out.set(cert.reconstructionPoint, 37);
  return out;
}

/**
 * Decodes a certificate of the given suite. Checks the length and, for suite 2, the type,
 * curve and hash identifiers (CBKE_CERT_LENGTH / CBKE_CERT_FIELD). The point is not
 * decompressed here (see ecqv.ts).
 */
export function decodeCertificate(suite: 1 | 2, bytes: Uint8Array): ImplicitCertificate {
  const expected = SUITES[suite].certificateLength;
  if (bytes.length !== expected) {
    throw new CbkeError(
      'CBKE_CERT_LENGTH',
      `suite ${suite} certificate must be ${expected} bytes, got ${bytes.length}`,
    );
  }
  const b = bytes.slice();
  if (suite === 1) {
    return {
      suite: 1,
      reconstructionPoint: b.subarray(0, 22),
      subject: b.subarray(22, 30),
      issuer: b.subarray(30, 38),
      profileAttributeData: b.subarray(38, 48),
    };
  }
  const view = new DataView(b.buffer);
  const cert: Suite2Certificate = {
    suite: 2,
    type: b[0]!,
    serial: b.subarray(1, 9),
    curve: b[9]!,
    hash: b[10]!,
    issuer: b.subarray(11, 19),
    validFrom: b[19]! * 2 ** 32 + view.getUint32(20),
    validTo: view.getUint32(24),
    subject: b.subarray(28, 36),
    keyUsage: b[36]!,
    reconstructionPoint: b.subarray(37, 74),
  };
  if (cert.type !== CERT_TYPE_IMPLICIT)
    throw new CbkeError('CBKE_CERT_FIELD', `certificate type ${cert.type}`);
  if (cert.curve !== CURVE_ID_SECT283K1) throw new CbkeError('CBKE_CERT_FIELD', `curve id ${cert.curve}`);
  if (cert.hash !== HASH_ID_AES_MMO) throw new CbkeError('CBKE_CERT_FIELD', `hash id ${cert.hash}`);
  return cert;
}

/** Validity at Unix time `unixSeconds` (suite 1: always). */
export function isCertificateValidAt(cert: ImplicitCertificate, unixSeconds: number): boolean {
  if (cert.suite === 1) return true;
  if (unixSeconds < cert.validFrom) return false;
  return cert.validTo === VALID_FOREVER || unixSeconds <= cert.validFrom + cert.validTo;
}

/** Key-agreement usage (suite 1: implied). */
export function hasKeyAgreementUsage(cert: ImplicitCertificate): boolean {
  return cert.suite === 1 || (cert.keyUsage & KEY_USAGE_KEY_AGREEMENT) !== 0;
}
