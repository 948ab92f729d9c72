/**
 * The manufacturer's side of the optical-port unlock (device triage, SSC "Reset HAN" paper):
 * the key pair and the tool that answers a meter's challenge.
 *
 * Unlock value = ECDSA P-256 (SHA-256) signature, by the manufacturer's private key, over
 * `EUI64 (8 octets, big-endian as printed) || challenge (16 octets) || command (ASCII)`.
 * The meter holds only the public key.
 *
 * The key pair is key material, not protocol state: it is drawn from the system's CSPRNG
 * (never from the run seed, which anyone may know) and nothing derived from it enters a
 * trace or a capture, so runs with one seed stay byte-identical whatever the key.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex } from '@gbhan/zigbee';
import { p256 } from '@noble/curves/nist.js';

/** The command string an unlock signature covers. */
export const UNLOCK_COMMAND = 'unlock';

export interface ManufacturerKeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** Where a run writes its manufacturer key (in out/<scenario>/), hex on one line each. */
export const MANUFACTURER_PUBLIC_KEY_FILE = 'manufacturer-public-key.hex';
/** The secret half (mode 0600): for `gbhan optical unlock --key-file` or the user's own tool. */
export const MANUFACTURER_SECRET_KEY_FILE = 'manufacturer-secret-key.hex';

export type ManufacturerKeyErrorCode = 'MANUFACTURER_KEY_READ' | 'MANUFACTURER_KEY_FORMAT';

export class ManufacturerKeyError extends Error {
  constructor(
    readonly code: ManufacturerKeyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ManufacturerKeyError';
  }
}

/**
 * A fresh manufacturer key pair (node:crypto randomness; 48 octets reduced to a scalar by
 * noble's keygen). ASSUMPTION: one manufacturer for every meter of a run; a real manufacturer
 * keeps its private key in an HSM behind its triage tool.
 */
export function generateManufacturerKeyPair(): ManufacturerKeyPair {
  return p256.keygen(Uint8Array.from(randomBytes(48)));
}

/** The key pair of a P-256 secret key (32 octets); throws ManufacturerKeyError if it is not one. */
export function manufacturerKeyPairFromSecret(secretKey: Uint8Array): ManufacturerKeyPair {
  if (!p256.utils.isValidSecretKey(secretKey))
    throw new ManufacturerKeyError('MANUFACTURER_KEY_FORMAT', 'not a P-256 secret key (32 octets, 1..n-1)');
  return { secretKey: Uint8Array.from(secretKey), publicKey: p256.getPublicKey(secretKey, true) };
}

/** Parse a secret key given as hex (64 digits; surrounding whitespace ignored). */
export function parseManufacturerSecretKey(text: string, where = 'manufacturer key'): ManufacturerKeyPair {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new ManufacturerKeyError('MANUFACTURER_KEY_FORMAT', `${where}: expected 64 hex digits`);
  // Every meter of a run parses the run's one key: its public key (~1 ms) is computed once.
  const key = hex.toLowerCase();
  if (lastParsed?.hex !== key) {
    try {
      lastParsed = { hex: key, pair: manufacturerKeyPairFromSecret(fromHex(key)) };
    } catch (e) {
      throw new ManufacturerKeyError('MANUFACTURER_KEY_FORMAT', `${where}: ${(e as Error).message}`);
    }
  }
  const { secretKey, publicKey } = lastParsed.pair;
  return { secretKey: secretKey.slice(), publicKey: publicKey.slice() };
}

let lastParsed: { hex: string; pair: ManufacturerKeyPair } | null = null;

/** Read a secret key file (`manufacturer-secret-key.hex` of a run, or the user's own). */
export function readManufacturerSecretKeyFile(path: string): ManufacturerKeyPair {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ManufacturerKeyError('MANUFACTURER_KEY_READ', `cannot read ${path}: ${(e as Error).message}`);
  }
  return parseManufacturerSecretKey(text, path);
}

/**
 * Write the key pair to `dir`: the public key always, the secret (mode 0600, owner only) when
 * `secret` is true. Returns the paths written.
 */
export function writeManufacturerKeyFiles(
  dir: string,
  pair: ManufacturerKeyPair,
  secret: boolean,
): { publicKey: string; secretKey?: string } {
  const publicKey = join(dir, MANUFACTURER_PUBLIC_KEY_FILE);
  writeFileSync(publicKey, `${toHex(pair.publicKey)}\n`);
  if (!secret) return { publicKey };
  const secretKey = join(dir, MANUFACTURER_SECRET_KEY_FILE);
  // Created afresh so the secret is never in a file others may read; chmod: past the umask.
  rmSync(secretKey, { force: true });
  writeFileSync(secretKey, `${toHex(pair.secretKey)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(secretKey, 0o600);
  return { publicKey, secretKey };
}

/** The octets an unlock signature covers. */
export function unlockMessage(eui64: string, challenge: Uint8Array, command = UNLOCK_COMMAND): Uint8Array {
  if (!/^[0-9a-f]{16}$/i.test(eui64)) throw new RangeError(`not an EUI64: ${eui64}`);
  const cmd = new TextEncoder().encode(command);
  const out = new Uint8Array(8 + challenge.length + cmd.length);
  out.set(fromHex(eui64), 0);
  out.set(challenge, 8);
  out.set(cmd, 8 + challenge.length);
  return out;
}

/** The manufacturer's triage tool: signs a meter's challenge (64-octet compact signature). */
export class ManufacturerTool {
  constructor(private readonly secretKey: Uint8Array) {}

  /** The unlock value for `eui64`'s challenge (hex). */
  unlockResponse(eui64: string, challengeHex: string): string {
    return toHex(p256.sign(unlockMessage(eui64, fromHex(challengeHex)), this.secretKey));
  }
}
