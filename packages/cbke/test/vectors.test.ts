/** ZSE Annex C worked example, both suites: every value of packages/cbke/test/vectors/cbke-annex-c.json. */
import { readFileSync } from 'node:fs';
import { aesMmoHash } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { bytesToBigInt, bytesToHex, hexToBytes } from '../src/bytes.js';
import { decodeCertificate } from '../src/certificate.js';
import { ecmqvSharedSecret } from '../src/ecmqv.js';
import { reconstructPublicKey } from '../src/ecqv.js';
import { deriveKeys, macU, macV } from '../src/hash.js';
import { SUITES } from '../src/suites.js';

interface Party {
  eui64: string;
  staticPrivateKey: string;
  staticPublicKey: string;
  certificate: string;
  ephemeralPrivateKey: string;
  ephemeralPublicKey: string;
}
interface SuiteVector {
  suite: 1 | 2;
  curve: string;
  certLength: number;
  caPublicKey: string;
  initiator: Party;
  responder: Party;
  sharedSecretZ: string;
  macKey: string;
  keyData: string;
  macU: string;
  macV: string;
}

const vectors = JSON.parse(readFileSync(new URL('./vectors/cbke-annex-c.json', import.meta.url), 'utf8')) as {
  suites: SuiteVector[];
  installCode: { installCode: string; crc: string; linkKey: string };
};

describe.each(vectors.suites)('Annex C suite $suite ($curve)', (v) => {
  const info = SUITES[v.suite];
  const curve = info.curve;
  const hex = (b: Uint8Array) => bytesToHex(b);
  const priv = (h: string) => bytesToBigInt(hexToBytes(h));
  const ca = curve.decodePublicKey(hexToBytes(v.caPublicKey));
  const U = v.initiator;
  const V = v.responder;

  it('uses the right curve and certificate length', () => {
    expect(curve.name).toBe(v.curve);
    expect(info.certificateLength).toBe(v.certLength);
    expect(hexToBytes(U.certificate).length).toBe(v.certLength);
  });

  it('static public keys from the private keys', () => {
    for (const p of [U, V]) {
      expect(hex(curve.compress(curve.multiplyBase(priv(p.staticPrivateKey))!))).toBe(p.staticPublicKey);
    }
  });

  it('reconstructs the static public keys from the certificates (ECQV)', () => {
    for (const p of [U, V]) {
      const raw = hexToBytes(p.certificate);
      const cert = decodeCertificate(v.suite, raw);
      expect(hex(cert.subject)).toBe(p.eui64);
      const Q = reconstructPublicKey(curve, raw, cert.reconstructionPoint, ca);
      expect(hex(curve.compress(Q))).toBe(p.staticPublicKey);
    }
  });

  it('ephemeral public keys QEU / QEV from the ephemeral private keys', () => {
    for (const p of [U, V]) {
      expect(hex(curve.compress(curve.multiplyBase(priv(p.ephemeralPrivateKey))!))).toBe(
        p.ephemeralPublicKey,
      );
    }
  });

  it('Z from both sides, macKey, keyData, MACU, MACV', () => {
    const pub = (h: string) => curve.decodePublicKey(hexToBytes(h));
    const zU = ecmqvSharedSecret(curve, {
      staticPrivateKey: priv(U.staticPrivateKey),
      ephemeralPrivateKey: priv(U.ephemeralPrivateKey),
      peerStaticPublicKey: pub(V.staticPublicKey),
      peerEphemeralPublicKey: pub(V.ephemeralPublicKey),
    });
    const zV = ecmqvSharedSecret(curve, {
      staticPrivateKey: priv(V.staticPrivateKey),
      ephemeralPrivateKey: priv(V.ephemeralPrivateKey),
      peerStaticPublicKey: pub(U.staticPublicKey),
      peerEphemeralPublicKey: pub(U.ephemeralPublicKey),
    });
    expect(hex(zU)).toBe(v.sharedSecretZ);
    expect(hex(zV)).toBe(v.sharedSecretZ);
    const { macKey, keyData } = deriveKeys(zU);
    expect(hex(macKey)).toBe(v.macKey);
    expect(hex(keyData)).toBe(v.keyData);
    const args = [
      macKey,
      hexToBytes(U.eui64),
      hexToBytes(V.eui64),
      hexToBytes(U.ephemeralPublicKey),
      hexToBytes(V.ephemeralPublicKey),
    ] as const;
    expect(hex(macU(...args))).toBe(v.macU);
    expect(hex(macV(...args))).toBe(v.macV);
  });
});

describe('install code example (shared hash)', () => {
  it('H(install code || CRC) is the link key', () => {
    const ic = vectors.installCode;
    const msg = hexToBytes(ic.installCode + ic.crc);
    expect(bytesToHex(aesMmoHash(msg))).toBe(ic.linkKey);
  });
});
