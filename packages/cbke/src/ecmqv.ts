/**
 * ECMQV key agreement as used by CBKE (SEC 1 §3.4 / ZSE Annex C.4.2.2.5):
 *   half = ceil(bitlen(n) / 2), avf(Q) = (x_Q mod 2^half) + 2^half,
 *   s = (r + avf(own ephemeral) * d) mod n,
 *   Z = x( h * s * (peerEphemeral + avf(peerEphemeral) * peerStatic) ).
 * Z is the field element x as an octet string (SEC 1 §2.3.5). Not constant-time.
 */

import type { AffinePoint, KoblitzCurve } from './abstract/koblitz.js';
import { bitLength } from './bytes.js';
import { CbkeError } from './errors.js';

/** Associate value function (SEC 1 §3.4 step 3/5). */
export function associateValue(curve: KoblitzCurve, Q: AffinePoint): bigint {
  const half = BigInt(Math.ceil(bitLength(curve.n) / 2));
  const x = curve.F.toBigInt(Q.x);
  return (x & ((1n << half) - 1n)) + (1n << half);
}

export interface EcmqvInput {
  /** Own static private key d. */
  staticPrivateKey: bigint;
  /** Own ephemeral private key r. */
  ephemeralPrivateKey: bigint;
  /** Own ephemeral public key r*G (computed when omitted). */
  ephemeralPublicKey?: AffinePoint;
  /** Peer static public key (reconstructed from its certificate), validated. */
  peerStaticPublicKey: AffinePoint;
  /** Peer ephemeral public key, validated. */
  peerEphemeralPublicKey: AffinePoint;
}

/** The shared secret Z as a field-length big-endian octet string. */
export function ecmqvSharedSecret(curve: KoblitzCurve, input: EcmqvInput): Uint8Array {
  const own = input.ephemeralPublicKey ?? curve.multiplyBase(input.ephemeralPrivateKey);
  if (own === null) throw new CbkeError('CBKE_SCALAR_INVALID', 'ephemeral private key is zero mod n');
  const s = (input.ephemeralPrivateKey + associateValue(curve, own) * input.staticPrivateKey) % curve.n;
  const peerEph = input.peerEphemeralPublicKey;
  const R = curve.add(peerEph, curve.multiply(input.peerStaticPublicKey, associateValue(curve, peerEph)));
  const P = curve.multiply(R, curve.h * s);
  if (P === null) throw new CbkeError('CBKE_POINT_INFINITY', 'ECMQV produced the point at infinity');
  return curve.F.toBytes(P.x);
}
