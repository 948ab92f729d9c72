/**
 * Whole GBCS messages: either General Ciphering (MAC) around General Signing, or General
 * Signing alone (pre-commands; signed responses and alerts).
 */

import { GbcsError } from './errors.js';
import { decodeGeneralCiphering, GENERAL_CIPHERING_TAG } from './general-ciphering.js';
import { type DecodedGeneralSigning, decodeGeneralSigning, GENERAL_SIGNING_TAG } from './general-signing.js';

export interface DecodedGbcsMessage {
  /** null when the message is General Signing alone. */
  mac: Uint8Array | null;
  /** The General-Signing APDU bytes (the MAC's AAD after the prefix). */
  generalSigningBytes: Uint8Array;
  signing: DecodedGeneralSigning;
}

export function decodeGbcsMessage(bytes: Uint8Array): DecodedGbcsMessage {
  if (bytes.length === 0) throw new GbcsError('GENERAL_CIPHERING', 'TRUNCATED', 'tag', 'empty message');
  if (bytes[0] === GENERAL_CIPHERING_TAG) {
    const gc = decodeGeneralCiphering(bytes);
    return {
      mac: gc.mac,
      generalSigningBytes: gc.generalSigning,
      signing: decodeGeneralSigning(gc.generalSigning),
    };
  }
  if (bytes[0] === GENERAL_SIGNING_TAG)
    return { mac: null, generalSigningBytes: bytes, signing: decodeGeneralSigning(bytes) };
  throw new GbcsError(
    'GENERAL_CIPHERING',
    'INVALID_FIELD',
    'tag',
    `0x${bytes[0]!.toString(16)} is not DD or DF`,
  );
}
