/**
 * The CBKE hash, MAC and KDF (ZSE Annex C.4.2.2.6 / C.5.1): H is the AES-128 Matyas-Meyer-Oseas
 * hash of ZigBee spec B.6 (from @gbhan/zigbee), the MAC is HMAC (RFC 2104) built on H with a
 * 16-byte block, and the KDF yields macKey = H(Z || 00000001), keyData = H(Z || 00000002).
 */
import { aesMmoHash } from '@gbhan/zigbee';
import { concatBytes } from './bytes.js';

/** H: AES-MMO, 16-byte digest. */
export function hashH(message: Uint8Array): Uint8Array {
  return aesMmoHash(message);
}

const BLOCK = 16;

/** HMAC(K, M) = H((K xor opad) || H((K xor ipad) || M)) with H = AES-MMO and a 16-byte block. */
export function hmacMmo(key: Uint8Array, message: Uint8Array): Uint8Array {
  let k = key;
  if (k.length > BLOCK) k = hashH(k);
  const ipad = new Uint8Array(BLOCK);
  const opad = new Uint8Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    const b = k[i] ?? 0;
    ipad[i] = b ^ 0x36;
    opad[i] = b ^ 0x5c;
  }
  return hashH(concatBytes(opad, hashH(concatBytes(ipad, message))));
}

export interface DerivedKeys {
  /** Key of the confirmation MACs. */
  macKey: Uint8Array;
  /** The new APS link key. */
  keyData: Uint8Array;
}

/** KDF (ZSE C.4.2.2.6): two 16-byte blocks H(Z || counter), counter 32-bit big-endian from 1. */
export function deriveKeys(sharedSecretZ: Uint8Array): DerivedKeys {
  return {
    macKey: hashH(concatBytes(sharedSecretZ, Uint8Array.of(0, 0, 0, 1))),
    keyData: hashH(concatBytes(sharedSecretZ, Uint8Array.of(0, 0, 0, 2))),
  };
}

/** A key-confirmation MAC: macKey and the exchange's U, V (big-endian EUI64s), QEU, QEV (compressed). */
export type KeyConfirmMac = (
  macKey: Uint8Array,
  u: Uint8Array,
  v: Uint8Array,
  qeu: Uint8Array,
  qev: Uint8Array,
) => Uint8Array;

/** MACU = MAC(macKey, 02 || U || V || QEU || QEV). */
export const macU: KeyConfirmMac = (macKey, u, v, qeu, qev) =>
  hmacMmo(macKey, concatBytes(Uint8Array.of(0x02), u, v, qeu, qev));

/** MACV = MAC(macKey, 03 || V || U || QEV || QEU). */
export const macV: KeyConfirmMac = (macKey, u, v, qeu, qev) =>
  hmacMmo(macKey, concatBytes(Uint8Array.of(0x03), v, u, qev, qeu));
