/**
 * General-Ciphering APDU (tag 0xDD) as GBCS uses it for MAC'd messages:
 *   DD 00 00 00 00 00 00   tag + six empty elements (transaction-id, originator and recipient
 *                          system titles, date-time, other-information, key-info)
 *   <len>                  ciphered-service length = 5 + General-Signing APDU + 12
 *   11 00 00 00 00         security header: control 0x11 (authentication only), counter 0
 *   <General-Signing APDU> <MAC, 12>
 * A second byte 0x09 instead of 00 is a GBT block (see gbt.ts).
 */
import { checkBytes, concat, Reader, u32be } from './bytes.js';
import { GbcsError } from './errors.js';
import { decodeLength, encodeLength } from './length.js';

export const GENERAL_CIPHERING_TAG = 0xdd;
/** Security control 0x11: authenticated only, no encryption (GBCS MAC). */
export const SECURITY_CONTROL_AUTH_ONLY = 0x11;
export const MAC_LENGTH = 12;
const SECURITY_HEADER_LENGTH = 5;

export interface GeneralCiphering {
  /** The whole General-Signing APDU it carries (DF ... signature). */
  generalSigning: Uint8Array;
  mac: Uint8Array;
}

export function encodeGeneralCiphering(g: GeneralCiphering): Uint8Array {
  checkBytes('GENERAL_CIPHERING', 'mac', g.mac, MAC_LENGTH);
  return concat(
    Uint8Array.of(GENERAL_CIPHERING_TAG, 0, 0, 0, 0, 0, 0),
    encodeLength(SECURITY_HEADER_LENGTH + g.generalSigning.length + MAC_LENGTH),
    Uint8Array.of(SECURITY_CONTROL_AUTH_ONLY),
    u32be(0),
    g.generalSigning,
    g.mac,
  );
}

/**
 * The invocation counter must be 0: the MAC's AAD prefix is the fixed 11 00000000 00, so any other
 * value would travel unauthenticated (a mutation the MAC could not see).
 */
export function decodeGeneralCiphering(bytes: Uint8Array): GeneralCiphering {
  const r = new Reader(bytes, 'GENERAL_CIPHERING');
  r.expect(GENERAL_CIPHERING_TAG, 'tag');
  const first = r.peek('transactionId.length');
  if (first === 0x09)
    throw new GbcsError('GENERAL_CIPHERING', 'UNSUPPORTED', 'transactionId', 'a GBT block: reassemble first');
  for (const f of ['transactionId', 'originator', 'recipient', 'dateTime', 'otherInformation', 'keyInfo'])
    r.expect(0, `${f}.length`);
  const len = decodeLength(r, 'cipheredService.length');
  if (len !== r.remaining)
    throw new GbcsError(
      'GENERAL_CIPHERING',
      len > r.remaining ? 'TRUNCATED' : 'TRAILING_BYTES',
      'cipheredService.length',
      `says ${len}, ${r.remaining} bytes follow`,
    );
  const sc = r.u8('securityControl');
  if (sc !== SECURITY_CONTROL_AUTH_ONLY)
    throw new GbcsError('GENERAL_CIPHERING', 'UNSUPPORTED', 'securityControl', `0x${sc.toString(16)}`);
  const invocationCounter = r.u32('invocationCounter');
  if (invocationCounter !== 0)
    throw new GbcsError(
      'GENERAL_CIPHERING',
      'INVALID_FIELD',
      'invocationCounter',
      `${invocationCounter} is not 0`,
    );
  if (r.remaining < MAC_LENGTH + 1)
    throw new GbcsError('GENERAL_CIPHERING', 'TRUNCATED', 'generalSigning', 'no room for an APDU and MAC');
  const generalSigning = r.take(r.remaining - MAC_LENGTH, 'generalSigning');
  const mac = r.take(MAC_LENGTH, 'mac');
  return { generalSigning, mac };
}
