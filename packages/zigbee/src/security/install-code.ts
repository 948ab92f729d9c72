/**
 * Install codes (ZigBee 05-3474 §4.6.3.4 / BDB §10.1): 6, 8, 12 or 16 random bytes followed
 * by their CRC-16/X-25, little-endian. The preconfigured trust-centre link key is the
 * AES-MMO hash of the whole code, CRC included.
 */
import { fromHex } from '../bytes.js';
import { crc16X25 } from '../crc.js';
import { ZigbeeDecodeError } from '../errors.js';
import { aesMmoHash } from './mmo.js';

export const INSTALL_CODE_LENGTHS = [6, 8, 12, 16] as const;

/** Append the CRC to a bare code (6/8/12/16 bytes). */
export function appendInstallCodeCrc(code: Uint8Array): Uint8Array {
  if (!(INSTALL_CODE_LENGTHS as readonly number[]).includes(code.length)) {
    throw new ZigbeeDecodeError(
      'INSTALL_CODE',
      'INVALID_FIELD',
      'length',
      `${code.length} bytes, want 6/8/12/16`,
    );
  }
  const crc = crc16X25(code);
  const out = new Uint8Array(code.length + 2);
  out.set(code);
  out[code.length] = crc & 0xff;
  out[code.length + 1] = crc >>> 8;
  return out;
}

/** Check length and CRC of a code given with its CRC (8/10/14/18 bytes, or hex). */
export function validateInstallCode(codeWithCrc: Uint8Array | string): Uint8Array {
  const bytes = typeof codeWithCrc === 'string' ? fromHex(codeWithCrc) : codeWithCrc;
  const n = bytes.length - 2;
  if (!(INSTALL_CODE_LENGTHS as readonly number[]).includes(n)) {
    throw new ZigbeeDecodeError(
      'INSTALL_CODE',
      'INVALID_FIELD',
      'length',
      `${bytes.length} bytes, want 8/10/14/18 (code + CRC)`,
    );
  }
  const crc = crc16X25(bytes, 0, n);
  const got = bytes[n]! | (bytes[n + 1]! << 8);
  if (crc !== got) {
    throw new ZigbeeDecodeError(
      'INSTALL_CODE',
      'BAD_CRC',
      'crc',
      `0x${got.toString(16)} != 0x${crc.toString(16)}`,
    );
  }
  return bytes.slice();
}

/** The trust-centre link key derived from a code with CRC (validated first). */
export function installCodeLinkKey(codeWithCrc: Uint8Array | string): Uint8Array {
  return aesMmoHash(validateInstallCode(codeWithCrc));
}
