/**
 * Sensitive content in a device's answer (e.g. ECS19's prepayment values): a DLMS octet-string
 * holding 0x31 (security control: encryption), the invocation counter (4 octets, 0) and
 * AES-128-GCM ciphertext || tag with AAD 0x31 - the shape DCC's RTDS 4.5.0 ECS19 response
 * carries (test/vectors.test.ts decrypts it). The key comes from the GBCS KDF with type
 * `encryption` between the device's and the recipient's Key Agreement keys, so only the
 * remote party the answer is for can read it.
 */
import { concat } from './bytes.js';
import { decryptPayload, deriveKey, encryptPayload } from './crypto.js';
import { GbcsError } from './errors.js';

export const SEALED_SECURITY_CONTROL = 0x31;

export interface SealInfo {
  /** The device (the answer's originator). */
  originator: Uint8Array;
  /** The remote party it is for. */
  recipient: Uint8Array;
  /** The answer's originator counter (the command's). */
  counter: bigint;
}

/** The device's side: its KA private key and the recipient's KA public key. */
export function seal(
  plaintext: Uint8Array,
  kaPrivate: Uint8Array,
  peerKaPublic: Uint8Array,
  i: SealInfo,
): Uint8Array {
  const key = deriveKey(kaPrivate, peerKaPublic, { ...i, type: 'encryption' });
  return concat(
    Uint8Array.of(SEALED_SECURITY_CONTROL, 0, 0, 0, 0),
    encryptPayload(key, i.originator, plaintext),
  );
}

/** The recipient's side; throws GbcsError when it is not sealed or does not authenticate. */
export function unseal(
  sealed: Uint8Array,
  kaPrivate: Uint8Array,
  peerKaPublic: Uint8Array,
  i: SealInfo,
): Uint8Array {
  if (sealed.length < 5 || sealed[0] !== SEALED_SECURITY_CONTROL)
    throw new GbcsError('CRYPTO', 'INVALID_FIELD', 'securityControl', 'not a sealed payload (0x31)');
  const key = deriveKey(kaPrivate, peerKaPublic, { ...i, type: 'encryption' });
  return decryptPayload(key, i.originator, sealed.subarray(5));
}
