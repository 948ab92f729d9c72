/**
 * `gbhan install-code`: a random ZigBee install code (6, 8, 12 or 16 octets) followed by its
 * CRC-16/X-25 (little-endian), as a scenario's `installCode:` takes it; `--seed` makes the
 * same code every time, `--check <hex>` validates one. Exit codes: 0 (made, or valid), 1 (the
 * code checked is not a valid install code), 2 (bad options).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  appendInstallCodeCrc,
  fromHex,
  INSTALL_CODE_LENGTHS,
  installCodeLinkKey,
  toHex,
  validateInstallCode,
} from '@gbhan/zigbee';
import { CliError } from './bus-command.js';

export interface InstallCodeOptions {
  /** Octets before the CRC: 6, 8, 12 or 16 (default 16, as GB devices and the scenarios use). */
  length?: string;
  seed?: string;
  check?: string;
}

/** The code's octets: from the seed (SHA-256 of length and seed) or from the system's CSPRNG. */
function codeBytes(length: number, seed: string | undefined): Uint8Array {
  if (seed === undefined) return new Uint8Array(randomBytes(length));
  return new Uint8Array(
    createHash('sha256').update(`gbhan install-code/${length}/${seed}`).digest(),
  ).subarray(0, length);
}

export function runInstallCodeCommand(
  o: InstallCodeOptions,
  log: (line: string) => void = console.log,
  error: (line: string) => void = console.error,
): { code: number } {
  if (o.check !== undefined) {
    if (o.length !== undefined || o.seed !== undefined)
      throw new CliError('--check validates a code: use it without --length and --seed');
    // Labels group the digits; spaces, colons and dashes are not part of the code.
    const text = o.check.replace(/[\s:-]/g, '');
    let bytes: Uint8Array;
    try {
      bytes = validateInstallCode(fromHex(text));
    } catch (e) {
      error(`gbhan: ${o.check} is not a valid install code: ${(e as Error).message}`);
      return { code: 1 };
    }
    const n = bytes.length - 2;
    const crc = bytes[n]! | (bytes[n + 1]! << 8);
    log(
      `valid: ${n}-octet install code, CRC-16/X-25 0x${crc.toString(16).padStart(4, '0')}; link key ${toHex(installCodeLinkKey(bytes))}`,
    );
    return { code: 0 };
  }
  const length = o.length === undefined ? 16 : Number(o.length);
  if (!(INSTALL_CODE_LENGTHS as readonly number[]).includes(length))
    throw new CliError(`--length must be ${INSTALL_CODE_LENGTHS.join(', ')} (octets), got ${o.length}`);
  log(toHex(appendInstallCodeCrc(codeBytes(length, o.seed))));
  return { code: 0 };
}
