/**
 * A test certificate authority: issues ECQV implicit certificates in either layout from a
 * device's request (SEC 4 §2.4), for emulated devices and tests. Real GB devices hold
 * certificates from the SMKI Device CA; nothing here is meant to protect anything.
 */
import { randomBytes } from 'node:crypto';
import type { AffinePoint } from './abstract/koblitz.js';
import {
  CERT_TYPE_IMPLICIT,
  CURVE_ID_SECT283K1,
  encodeCertificate,
  HASH_ID_AES_MMO,
  KEY_USAGE_KEY_AGREEMENT,
  VALID_FOREVER,
} from './certificate.js';
import { completePrivateKey, createCertificateRequest, issueImplicitCertificate } from './ecqv.js';
import { CbkeError } from './errors.js';
import { type CryptoSuite, SUITES } from './suites.js';

export type RandomSource = (length: number) => Uint8Array;

export const defaultRandom: RandomSource = (length) => new Uint8Array(randomBytes(length));

/** A CA the key-establishment code trusts: its issuer id, suite and public key. */
export interface TrustedCa {
  readonly suite: CryptoSuite;
  readonly issuer: Uint8Array;
  /** Compressed CA public key. */
  readonly publicKey: Uint8Array;
}

export interface CertificateFields {
  /** Subject EUI64, big-endian, 8 bytes. */
  subject: Uint8Array;
  /** Suite 2: serial (8 bytes, default random). */
  serial?: Uint8Array;
  /** Suite 2: Unix seconds (default 0). */
  validFrom?: number;
  /** Suite 2: seconds after validFrom (default VALID_FOREVER). */
  validTo?: number;
  /** Suite 2: key usage bits (default key agreement 0x08). */
  keyUsage?: number;
  /** Suite 1: 10 bytes (default the Annex C example's 01 09 00 06 00..). */
  profileAttributeData?: Uint8Array;
}

export interface IssuedCredentials {
  suite: CryptoSuite;
  certificate: Uint8Array;
  privateKey: bigint;
  publicKey: AffinePoint;
}

export class TestCa {
  readonly suite: CryptoSuite;
  readonly issuer: Uint8Array;
  readonly privateKey: bigint;
  readonly publicKey: AffinePoint;
  private readonly random: RandomSource;

  constructor(options: {
    suite: CryptoSuite;
    issuer: Uint8Array;
    privateKey?: bigint;
    /**
     * The public key of `privateKey`, when the caller has it: saves a scalar multiplication
     * per CA object. A wrong one fails every `issueDevice` (completePrivateKey's check).
     */
    publicKey?: AffinePoint;
    random?: RandomSource;
  }) {
    if (options.issuer.length !== 8) throw new CbkeError('CBKE_CERT_FIELD', 'issuer must be 8 bytes');
    const curve = SUITES[options.suite].curve;
    this.suite = options.suite;
    this.issuer = options.issuer.slice();
    this.random = options.random ?? defaultRandom;
    this.privateKey = options.privateKey ?? curve.randomScalar(this.random);
    if (this.privateKey <= 0n || this.privateKey >= curve.n) {
      throw new CbkeError('CBKE_SCALAR_INVALID', 'CA private key out of range');
    }
    this.publicKey =
      options.publicKey !== undefined && options.privateKey !== undefined
        ? options.publicKey
        : curve.multiplyBase(this.privateKey)!;
  }

  /** The entry for a device's trusted-CA list. */
  get trusted(): TrustedCa {
    return {
      suite: this.suite,
      issuer: this.issuer,
      publicKey: SUITES[this.suite].curve.compress(this.publicKey),
    };
  }

  /**
   * CA side of SEC 4 §2.4: from the device's request point R_U, the certificate and the
   * private-key reconstruction data r.
   */
  issue(requestPoint: AffinePoint, fields: CertificateFields): { certificate: Uint8Array; r: bigint } {
    const curve = SUITES[this.suite].curve;
    return issueImplicitCertificate(
      curve,
      this.privateKey,
      requestPoint,
      (point) => this.encode(point, fields),
      this.random,
    );
  }

  /** Request, issue and complete in one step: a device's certificate and static key pair. */
  issueDevice(fields: CertificateFields): IssuedCredentials {
    const curve = SUITES[this.suite].curve;
    const { kU, RU } = createCertificateRequest(curve, this.random);
    const { certificate, r } = this.issue(RU, fields);
    const point = this.suite === 1 ? certificate.subarray(0, 22) : certificate.subarray(37, 74);
    const { privateKey, publicKey } = completePrivateKey(curve, kU, r, certificate, point, this.publicKey);
    return { suite: this.suite, certificate, privateKey, publicKey };
  }

  private encode(point: Uint8Array, f: CertificateFields): Uint8Array {
    if (this.suite === 1) {
      return encodeCertificate({
        suite: 1,
        reconstructionPoint: point,
        subject: f.subject,
        issuer: this.issuer,
        profileAttributeData: f.profileAttributeData ?? Uint8Array.of(1, 9, 0, 6, 0, 0, 0, 0, 0, 0),
      });
    }
    return encodeCertificate({
      suite: 2,
      type: CERT_TYPE_IMPLICIT,
      serial: f.serial ?? this.random(8),
      curve: CURVE_ID_SECT283K1,
      hash: HASH_ID_AES_MMO,
      issuer: this.issuer,
      validFrom: f.validFrom ?? 0,
      validTo: f.validTo ?? VALID_FOREVER,
      subject: f.subject,
      keyUsage: f.keyUsage ?? KEY_USAGE_KEY_AGREEMENT,
      reconstructionPoint: point,
    });
  }
}
