/**
 * ECQV implicit certificates (SEC 4; ZSE Annex C.4.2.2.4). The certificate carries a
 * reconstruction point P_U instead of a public key and a signature; anyone holding the CA's
 * public key recovers Q_U = e*P_U + Q_CA with e = H(whole certificate) (AES-MMO, read as a
 * big-endian integer). The CA side (SEC 4 §2.4) and the requester's key derivation (§2.5)
 * are here too, for the test CA.
 */
import type { AffinePoint, KoblitzCurve } from './abstract/koblitz.js';
import { bytesToBigInt } from './bytes.js';
import { CbkeError } from './errors.js';
import { hashH } from './hash.js';

/** e = H(certificate) mod n (SEC 4 §2.3 / ZSE C.4.2.2.4: the hash of the WHOLE certificate). */
export function certificateHashScalar(curve: KoblitzCurve, certificate: Uint8Array): bigint {
  return bytesToBigInt(hashH(certificate)) % curve.n;
}

/** SEC 4 §2.5 / §3.3: Q_U = e*P_U + Q_CA, validated. P_U must be a valid subgroup point. */
export function reconstructPublicKey(
  curve: KoblitzCurve,
  certificate: Uint8Array,
  reconstructionPoint: Uint8Array,
  caPublicKey: AffinePoint,
): AffinePoint {
  const P = curve.decodePublicKey(reconstructionPoint);
  const e = certificateHashScalar(curve, certificate);
  // P was just validated (subgroup included): the τNAF product without checking it again.
  const Q = curve.add(curve.multiplyTnaf(P, e), caPublicKey);
  if (Q === null)
    throw new CbkeError('CBKE_POINT_INFINITY', 'reconstructed public key is the point at infinity');
  return Q;
}

/** SEC 4 §2.4 step 1 (requester): ephemeral k_U and request point R_U = k_U*G. */
export function createCertificateRequest(
  curve: KoblitzCurve,
  random: (length: number) => Uint8Array,
): { kU: bigint; RU: AffinePoint } {
  const kU = curve.randomScalar(random);
  return { kU, RU: curve.multiplyBase(kU)! };
}

/**
 * SEC 4 §2.4 steps 2-4 (CA): P_U = R_U + k*G, certificate = build(P_U), r = e*k + d_CA mod n.
 * `build` encodes the certificate around the compressed P_U.
 */
export function issueImplicitCertificate(
  curve: KoblitzCurve,
  caPrivateKey: bigint,
  RU: AffinePoint,
  build: (reconstructionPoint: Uint8Array) => Uint8Array,
  random: (length: number) => Uint8Array,
): { certificate: Uint8Array; r: bigint } {
  curve.assertValidPublicKey(RU);
  for (;;) {
    const k = curve.randomScalar(random);
    const PU = curve.add(RU, curve.multiplyBase(k));
    if (PU === null) continue;
    const certificate = build(curve.compress(PU));
    const e = certificateHashScalar(curve, certificate);
    const r = (e * k + caPrivateKey) % curve.n;
    return { certificate, r };
  }
}

/** SEC 4 §2.5 (requester): d_U = e*k_U + r mod n, checked against Q_U = e*P_U + Q_CA. */
export function completePrivateKey(
  curve: KoblitzCurve,
  kU: bigint,
  r: bigint,
  certificate: Uint8Array,
  reconstructionPoint: Uint8Array,
  caPublicKey: AffinePoint,
): { privateKey: bigint; publicKey: AffinePoint } {
  const e = certificateHashScalar(curve, certificate);
  const dU = (e * kU + r) % curve.n;
  const QU = reconstructPublicKey(curve, certificate, reconstructionPoint, caPublicKey);
  if (dU === 0n || !curve.equals(curve.multiplyBase(dU), QU)) {
    throw new CbkeError('CBKE_CERT_INVALID', 'private key does not match the reconstructed public key');
  }
  return { privateKey: dU, publicKey: QU };
}
