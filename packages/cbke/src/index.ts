/**
 * @gbhan/cbke: ZigBee SE Certificate-Based Key Establishment for the emulator: GF(2^m)
 * arithmetic, the Koblitz curves sect163k1 / sect283k1, ECQV implicit certificates (both
 * layouts), ECMQV with the AES-MMO KDF and MACs, a test CA, and the Key Establishment
 * initiator/responder state machines. Not constant-time anywhere: emulator use only.
 */
export { type Fe, GF2m } from './abstract/gf2m.js';
export { type AffinePoint, KoblitzCurve, type KoblitzParams, type Point } from './abstract/koblitz.js';
export { bigIntToBytes, bytesToBigInt, bytesToHex, concatBytes, equalBytes, hexToBytes } from './bytes.js';
export {
  CERT_TYPE_IMPLICIT,
  CURVE_ID_SECT283K1,
  decodeCertificate,
  encodeCertificate,
  HASH_ID_AES_MMO,
  hasKeyAgreementUsage,
  type ImplicitCertificate,
  isCertificateValidAt,
  KEY_USAGE_DIGITAL_SIGNATURE,
  KEY_USAGE_KEY_AGREEMENT,
  type Suite1Certificate,
  type Suite2Certificate,
  VALID_FOREVER,
} from './certificate.js';
export { associateValue, type EcmqvInput, ecmqvSharedSecret } from './ecmqv.js';
export {
  certificateHashScalar,
  completePrivateKey,
  createCertificateRequest,
  issueImplicitCertificate,
  reconstructPublicKey,
} from './ecqv.js';
export { CbkeError, type CbkeErrorCode } from './errors.js';
export { type DerivedKeys, deriveKeys, hashH, hmacMmo, macU, macV } from './hash.js';
export {
  type Credentials,
  DEFAULT_CONFIRM_KEY_GENERATE_TIME,
  DEFAULT_EPHEMERAL_DATA_GENERATE_TIME,
  DEFAULT_TERMINATE_WAIT_TIME,
  DEFAULT_UNIX_EPOCH_SECONDS,
  type EstablishedKey,
  type KeyEstablishmentFailureReason,
  type KeyEstablishmentOptions,
  type KeyEstablishmentResult,
  type KeyEstablishmentTimeouts,
  type TimingMode,
} from './key-establishment.js';
export { type InitiatorState, KeyEstablishmentInitiator } from './key-establishment-initiator.js';
export { KeyEstablishmentResponder, type ResponderState } from './key-establishment-responder.js';
export { KeyExportLog } from './key-export.js';
export { sect163k1 } from './sect163k1.js';
export { sect283k1 } from './sect283k1.js';
export { type CryptoSuite, SUITES, type SuiteInfo, suiteBitmap, suiteFromValue } from './suites.js';
export {
  type CertificateFields,
  defaultRandom,
  type IssuedCredentials,
  type RandomSource,
  TestCa,
  type TrustedCa,
} from './test-ca.js';
