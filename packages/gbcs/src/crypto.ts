/**
 * GBCS cryptography: ECDSA P-256/SHA-256 (r||s), ECDH P-256, the GBCS KDF, the AES-128-GCM
 * authentication-only MAC and payload encryption. Curve arithmetic by @noble/curves; AES-GCM and
 * SHA-256 by node:crypto. Keys are raw bytes: private 32, public 65 (04 || x || y) or 33.
 */
import { createCipheriv, createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { checkBytes, checkU64, concat, u64be } from './bytes.js';
import { GbcsError } from './errors.js';

export const KDF_ALGORITHM_ID = Uint8Array.of(0x60, 0x85, 0x74, 0x06, 0x08, 0x03, 0x00);
/** AAD prefix of the GBCS MAC: security header 11 00000000 then one 00 (gbcs-parser crypto facts). */
export const MAC_AAD_PREFIX = Uint8Array.of(0x11, 0, 0, 0, 0, 0);
/** AAD of payload encryption: the security control byte 0x31 alone. */
export const ENCRYPTION_AAD = Uint8Array.of(0x31);
export const GCM_TAG_LENGTH = 12;

export type KdfType = 'command' | 'response' | 'alert' | 'encryption';
const KDF_TYPE_CODES: Record<KdfType, number> = { command: 1, response: 2, alert: 3, encryption: 4 };

export interface KeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

function checkPrivate(field: string, k: Uint8Array): void {
  if (!(k instanceof Uint8Array) || !p256.utils.isValidSecretKey(k))
    throw new GbcsError('CRYPTO', 'BAD_KEY', field, 'not a P-256 private key');
}

function checkPublic(field: string, k: Uint8Array): void {
  if (!(k instanceof Uint8Array) || !p256.utils.isValidPublicKey(k))
    throw new GbcsError('CRYPTO', 'BAD_KEY', field, 'not a P-256 public point');
}

export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  checkPrivate('privateKey', privateKey);
  return p256.getPublicKey(privateKey, false);
}

/** ECDSA P-256 over SHA-256(message), 64-byte r||s (IEEE P1363). RFC 6979 nonces: deterministic. */
export function ecdsaSign(message: Uint8Array, privateKey: Uint8Array): Uint8Array {
  checkPrivate('signer', privateKey);
  return p256.sign(message, privateKey, { prehash: true, format: 'compact' });
}

/** High-S signatures are accepted: GBCS does not require low-S and RTDS ones are not normalised. */
export function ecdsaVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return p256.verify(signature, message, publicKey, { prehash: true, lowS: false, format: 'compact' });
  } catch {
    return false;
  }
}

/** ECDH P-256: the 32-byte x coordinate of d*Q. */
export function ecdhSharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  checkPrivate('privateKey', privateKey);
  checkPublic('publicKey', publicKey);
  return p256.getSharedSecret(privateKey, publicKey, true).subarray(1);
}

export interface KdfInfo {
  /** The grouping header's originator (for commands: the Supplier, not the ACB). */
  originator: Uint8Array;
  type: KdfType;
  counter: bigint;
  recipient: Uint8Array;
}

/** otherInfo = algorithm id || originator (8) || 09 || type || counter (8) || recipient (8). */
export function kdfOtherInfo(i: KdfInfo): Uint8Array {
  checkBytes('CRYPTO', 'originator', i.originator, 8);
  checkBytes('CRYPTO', 'recipient', i.recipient, 8);
  checkU64('CRYPTO', 'counter', i.counter);
  return concat(
    KDF_ALGORITHM_ID,
    i.originator,
    Uint8Array.of(0x09, KDF_TYPE_CODES[i.type]),
    u64be(i.counter),
    i.recipient,
  );
}

/** GBCS KDF (one-step, SHA-256): first 16 bytes of SHA-256(00000001 || Z || otherInfo). */
export function gbcsKdf(sharedSecret: Uint8Array, info: KdfInfo): Uint8Array {
  const h = createHash('sha256');
  h.update(Uint8Array.of(0, 0, 0, 1));
  h.update(sharedSecret);
  h.update(kdfOtherInfo(info));
  return new Uint8Array(h.digest().subarray(0, 16));
}

export function deriveKey(privateKey: Uint8Array, publicKey: Uint8Array, info: KdfInfo): Uint8Array {
  return gbcsKdf(ecdhSharedSecret(privateKey, publicKey), info);
}

/** IV = originator system title (8) || 00000000. */
export function gcmIv(originator: Uint8Array): Uint8Array {
  checkBytes('CRYPTO', 'originator', originator, 8);
  return concat(originator, Uint8Array.of(0, 0, 0, 0));
}

/** GBCS MAC: AES-128-GCM tag (12 bytes) over empty plaintext, AAD = 11 00 00 00 00 00 || APDU. */
export function gbcsMac(key: Uint8Array, originator: Uint8Array, generalSigning: Uint8Array): Uint8Array {
  checkBytes('CRYPTO', 'key', key, 16);
  const c = createCipheriv('aes-128-gcm', key, gcmIv(originator), { authTagLength: GCM_TAG_LENGTH });
  c.setAAD(MAC_AAD_PREFIX);
  c.setAAD(generalSigning);
  c.final();
  return new Uint8Array(c.getAuthTag());
}

export function gbcsMacValid(
  key: Uint8Array,
  originator: Uint8Array,
  generalSigning: Uint8Array,
  mac: Uint8Array,
): boolean {
  if (mac.length !== GCM_TAG_LENGTH) return false;
  return timingSafeEqual(gbcsMac(key, originator, generalSigning), mac);
}

/** Payload encryption: AES-128-GCM, AAD 0x31; returns ciphertext || 12-byte tag. */
export function encryptPayload(key: Uint8Array, originator: Uint8Array, plaintext: Uint8Array): Uint8Array {
  checkBytes('CRYPTO', 'key', key, 16);
  const c = createCipheriv('aes-128-gcm', key, gcmIv(originator), { authTagLength: GCM_TAG_LENGTH });
  c.setAAD(ENCRYPTION_AAD);
  const ct = concat(new Uint8Array(c.update(plaintext)), new Uint8Array(c.final()));
  return concat(ct, new Uint8Array(c.getAuthTag()));
}

/** Inverse of encryptPayload; throws GbcsError INVALID_FIELD 'tag' when authentication fails. */
export function decryptPayload(key: Uint8Array, originator: Uint8Array, sealed: Uint8Array): Uint8Array {
  checkBytes('CRYPTO', 'key', key, 16);
  if (sealed.length < GCM_TAG_LENGTH)
    throw new GbcsError('CRYPTO', 'TRUNCATED', 'tag', 'shorter than a GCM tag');
  const d = createDecipheriv('aes-128-gcm', key, gcmIv(originator), { authTagLength: GCM_TAG_LENGTH });
  d.setAAD(ENCRYPTION_AAD);
  d.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_LENGTH));
  const pt = d.update(sealed.subarray(0, sealed.length - GCM_TAG_LENGTH));
  try {
    d.final();
  } catch {
    throw new GbcsError('CRYPTO', 'INVALID_FIELD', 'tag', 'payload authentication failed');
  }
  return new Uint8Array(pt);
}
