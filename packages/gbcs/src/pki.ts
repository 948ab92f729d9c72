/**
 * Deterministic test PKI: P-256 Digital Signing (DS) and Key Agreement (KA) key pairs from a
 * seed, for the remote parties and the devices. No randomness: the same seed gives the same
 * keys in every run. Not certificates (no Organisation/Device certificate encoding): the
 * emulator's trust anchors carry the public keys directly.
 */
import { createECDH, createHash } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { checkBytes, fromHex, toHex } from './bytes.js';
import type { KeyPair } from './crypto.js';

export type RemotePartyRole = 'supplier' | 'supplier2' | 'acb' | 'network-operator';

export interface GbcsParty {
  systemTitle: Uint8Array;
  ds: KeyPair;
  ka: KeyPair;
}

export interface RemoteParty extends GbcsParty {
  role: RemotePartyRole;
}

/**
 * Entity ids of DCC Boxed's test parties (gbcs-parser test/rtds/keystore file names):
 * supplier 90B3D51F30010000, ACB 90B3D51F30000002, a network operator 90B3D51F30030000;
 * supplier2 90B3D51F30020000 (ASSUMPTION: second supplier id, same 90B3D51F prefix).
 */
export const REMOTE_PARTY_IDS: Record<RemotePartyRole, string> = {
  supplier: '90b3d51f30010000',
  supplier2: '90b3d51f30020000',
  acb: '90b3d51f30000002',
  'network-operator': '90b3d51f30030000',
};

/** The seed as bytes; a string seed is its UTF-8. */
function seedBytes(seed: string | Uint8Array): Uint8Array {
  return typeof seed === 'string' ? new TextEncoder().encode(seed) : seed;
}

/**
 * Key pairs already derived, by seed and label: every device of a run derives the remote
 * parties' keys, and the CH each logged device's, so a street would redo the same P-256
 * multiplications hundreds of times. Bounded (oldest out first); callers get copies.
 */
const derived = new Map<string, KeyPair>();
const DERIVED_MAX = 4096;

/** A key pair from SHA-384(domain || seed || label), reduced into [1, n-1] (48 bytes: no bias). */
export function keyPairFromSeed(seed: string | Uint8Array, label: string): KeyPair {
  const id = `${typeof seed === 'string' ? `s${seed}` : `b${toHex(seed)}`}\0${label}`;
  let pair = derived.get(id);
  if (pair === undefined) {
    const h = createHash('sha384');
    h.update('gbhan-gbcs-test-pki\0');
    h.update(seedBytes(seed));
    h.update('\0');
    h.update(label);
    const privateKey = p256.utils.randomSecretKey(new Uint8Array(h.digest()));
    pair = { privateKey, publicKey: publicKeyOf(privateKey) };
    if (derived.size >= DERIVED_MAX) derived.delete(derived.keys().next().value!);
    derived.set(id, pair);
  }
  return { privateKey: pair.privateKey.slice(), publicKey: pair.publicKey.slice() };
}

/**
 * d*G, uncompressed (0x04 || X || Y): node:crypto's P-256, ~1 ms -> ~0.05 ms against
 * @noble/curves, for the 4 keys of every meter a city creates (the same point; tested
 * against noble). Signatures stay on noble: RFC 6979 nonces keep a run's bytes repeatable.
 */
function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(privateKey);
  return new Uint8Array(ecdh.getPublicKey());
}

export type RemoteParties = Record<RemotePartyRole, RemoteParty>;

export function remoteParties(seed: string | Uint8Array): RemoteParties {
  const out = {} as RemoteParties;
  for (const role of Object.keys(REMOTE_PARTY_IDS) as RemotePartyRole[]) {
    const id = REMOTE_PARTY_IDS[role];
    out[role] = {
      role,
      systemTitle: fromHex(id),
      ds: keyPairFromSeed(seed, `${id}/ds`),
      ka: keyPairFromSeed(seed, `${id}/ka`),
    };
  }
  return out;
}

/** A device's GBCS keys; its system title is its EUI-64 (big-endian, as on the label). */
export function deviceGbcsKeys(seed: string | Uint8Array, eui64: Uint8Array | string): GbcsParty {
  const title = typeof eui64 === 'string' ? fromHex(eui64) : eui64;
  checkBytes('CRYPTO', 'eui64', title, 8);
  const id = toHex(title);
  return {
    systemTitle: Uint8Array.from(title),
    ds: keyPairFromSeed(seed, `${id}/ds`),
    ka: keyPairFromSeed(seed, `${id}/ka`),
  };
}

/** What a device holds about a remote party (from its Organisation certificates). */
export interface TrustAnchor {
  role: RemotePartyRole;
  dsPublic: Uint8Array;
  kaPublic: Uint8Array;
}

/** Trust anchors keyed by lower-case hex system title. */
export type TrustAnchors = Map<string, TrustAnchor>;

export function trustAnchorsOf(parties: Iterable<RemoteParty>): TrustAnchors {
  const m: TrustAnchors = new Map();
  for (const p of parties)
    m.set(toHex(p.systemTitle), { role: p.role, dsPublic: p.ds.publicKey, kaPublic: p.ka.publicKey });
  return m;
}
