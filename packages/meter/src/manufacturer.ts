/**
 * The manufacturer's side of the optical-port unlock (device triage, SSC "Reset HAN" paper):
 * the key pair and the tool that answers a meter's challenge.
 *
 * Unlock value = ECDSA P-256 (SHA-256) signature, by the manufacturer's private key, over
 * `EUI64 (8 octets, big-endian as printed) || challenge (16 octets) || command (ASCII)`.
 * The meter holds only the public key.
 */
import { createHash } from 'node:crypto';
import { fromHex, toHex } from '@gbhan/zigbee';
import { p256 } from '@noble/curves/nist.js';

/** The command string an unlock signature covers. */
export const UNLOCK_COMMAND = 'unlock';

export interface ManufacturerKeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/**
 * The run's manufacturer key pair, derived from the run seed (`gbhan/manufacturer/<seed>`,
 * SHA-512, first 48 octets as the keygen seed). ASSUMPTION: one manufacturer for every meter
 * of a run; a real manufacturer keeps its private key in an HSM behind its triage tool.
 */
export function manufacturerKeyPair(seed: string | number): ManufacturerKeyPair {
  const material = createHash('sha512').update(`gbhan/manufacturer/${seed}`).digest();
  return p256.keygen(Uint8Array.from(material.subarray(0, 48)));
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

  static forRun(seed: string | number): ManufacturerTool {
    return new ManufacturerTool(manufacturerKeyPair(seed).secretKey);
  }

  /** The unlock value for `eui64`'s challenge (hex). */
  unlockResponse(eui64: string, challengeHex: string): string {
    return toHex(p256.sign(unlockMessage(eui64, fromHex(challengeHex)), this.secretKey));
  }
}
