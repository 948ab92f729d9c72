import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AffinePoint } from '../src/abstract/koblitz.js';
import { bytesToHex, hexToBytes } from '../src/bytes.js';
import {
  decodeCertificate,
  encodeCertificate,
  hasKeyAgreementUsage,
  isCertificateValidAt,
  type Suite2Certificate,
  VALID_FOREVER,
} from '../src/certificate.js';
import { ecmqvSharedSecret } from '../src/ecmqv.js';
import { completePrivateKey, createCertificateRequest, reconstructPublicKey } from '../src/ecqv.js';
import { CbkeError } from '../src/errors.js';
import { deriveKeys, hashH, hmacMmo, macU, macV } from '../src/hash.js';
import { SUITES } from '../src/suites.js';
import { TestCa } from '../src/test-ca.js';
import { EUI_U, EUI_V, ISSUER, seededRandom } from './helpers.js';

const vectors = JSON.parse(readFileSync(new URL('./vectors/cbke-annex-c.json', import.meta.url), 'utf8')) as {
  suites: { suite: 1 | 2; initiator: { certificate: string }; responder: { certificate: string } }[];
};

describe('certificate layouts', () => {
  it('decodes the Annex C suite-2 certificate field by field and re-encodes it', () => {
    const raw = hexToBytes(vectors.suites[1]!.initiator.certificate);
    const c = decodeCertificate(2, raw) as Suite2Certificate;
    expect(c.type).toBe(0);
    expect(bytesToHex(c.serial)).toBe('84A933B37F018DEC');
    expect(c.curve).toBe(0x0d);
    expect(c.hash).toBe(0x08);
    expect(bytesToHex(c.issuer)).toBe('1112131415161718');
    expect(c.validFrom).toBe(0x5292a38a);
    expect(c.validTo).toBe(VALID_FOREVER);
    expect(bytesToHex(c.subject)).toBe('0A0B0C0D0E0F1012');
    expect(c.keyUsage).toBe(0x88);
    expect(c.reconstructionPoint).toHaveLength(37);
    expect(bytesToHex(encodeCertificate(c))).toBe(bytesToHex(raw));
    expect(isCertificateValidAt(c, 0x5292a38a - 1)).toBe(false);
    expect(isCertificateValidAt(c, 0x5292a38a)).toBe(true);
    expect(hasKeyAgreementUsage(c)).toBe(true);
  });

  it('decodes the Annex C suite-1 certificate and re-encodes it', () => {
    for (const party of [vectors.suites[0]!.initiator, vectors.suites[0]!.responder]) {
      const raw = hexToBytes(party.certificate);
      const c = decodeCertificate(1, raw);
      expect(c.suite).toBe(1);
      expect(bytesToHex(c.issuer)).toBe('5445535453454341'); // "TESTSECA"
      expect(bytesToHex(encodeCertificate(c))).toBe(bytesToHex(raw));
      expect(isCertificateValidAt(c, 0)).toBe(true);
      expect(hasKeyAgreementUsage(c)).toBe(true);
    }
  });

  it('rejects wrong lengths and identifiers with stable codes', () => {
    const raw = hexToBytes(vectors.suites[1]!.initiator.certificate);
    expect(() => decodeCertificate(2, raw.subarray(1))).toThrow(
      expect.objectContaining({ code: 'CBKE_CERT_LENGTH' }),
    );
    expect(() => decodeCertificate(1, raw)).toThrow(CbkeError);
    for (const [offset, value] of [
      [0, 1],
      [9, 0x0c],
      [10, 0x01],
    ] as const) {
      const bad = raw.slice();
      bad[offset] = value;
      expect(() => decodeCertificate(2, bad)).toThrow(expect.objectContaining({ code: 'CBKE_CERT_FIELD' }));
    }
    const c = decodeCertificate(2, raw) as Suite2Certificate;
    expect(() => encodeCertificate({ ...c, subject: new Uint8Array(7) })).toThrow(CbkeError);
    expect(() => encodeCertificate({ ...c, validFrom: 2 ** 40 })).toThrow(CbkeError);
    const limited = { ...c, validFrom: 1000, validTo: 50 };
    expect(isCertificateValidAt(limited, 1050)).toBe(true);
    expect(isCertificateValidAt(limited, 1051)).toBe(false);
    expect(hasKeyAgreementUsage({ ...c, keyUsage: 0x80 })).toBe(false);
  });
});

describe('hash and MAC', () => {
  it('HMAC over AES-MMO follows RFC 2104 with a 16-byte block', () => {
    const key = hexToBytes('000102030405060708090A0B0C0D0E0F');
    const msg = new TextEncoder().encode('gbhan');
    const ipad = key.map((b) => b ^ 0x36);
    const opad = key.map((b) => b ^ 0x5c);
    const inner = hashH(new Uint8Array([...ipad, ...msg]));
    expect(bytesToHex(hmacMmo(key, msg))).toBe(bytesToHex(hashH(new Uint8Array([...opad, ...inner]))));
  });
});

describe.each([1, 2] as const)('ECQV test CA, suite %i', (suite) => {
  const curve = SUITES[suite].curve;

  it('issues from a device request; key pair matches the certificate', () => {
    const random = seededRandom(`split${suite}`);
    const ca = new TestCa({ suite, issuer: ISSUER, random });
    const { kU, RU } = createCertificateRequest(curve, random);
    const { certificate, r } = ca.issue(RU, { subject: EUI_U, serial: hexToBytes('0102030405060708') });
    const cert = decodeCertificate(suite, certificate);
    expect(bytesToHex(cert.subject)).toBe(bytesToHex(EUI_U));
    expect(bytesToHex(cert.issuer)).toBe(bytesToHex(ISSUER));
    if (cert.suite === 2) {
      expect(bytesToHex(cert.serial)).toBe('0102030405060708');
      expect(cert.keyUsage).toBe(0x08);
    }
    const { privateKey, publicKey } = completePrivateKey(
      curve,
      kU,
      r,
      certificate,
      cert.reconstructionPoint,
      ca.publicKey,
    );
    expect(curve.equals(curve.multiplyBase(privateKey), publicKey)).toBe(true);
    // wrong r: the completion notices
    expect(() =>
      completePrivateKey(curve, kU, r + 1n, certificate, cert.reconstructionPoint, ca.publicKey),
    ).toThrow(expect.objectContaining({ code: 'CBKE_CERT_INVALID' }));
    // another CA key reconstructs a different public key
    const other = new TestCa({ suite, issuer: ISSUER, random });
    const q = reconstructPublicKey(curve, certificate, cert.reconstructionPoint, other.publicKey);
    expect(curve.equals(q, publicKey)).toBe(false);
  });

  it('a CA given its public key issues as one that computes it; a wrong one issues nothing', () => {
    const ca = new TestCa({ suite, issuer: ISSUER, random: seededRandom(`given${suite}`) });
    const issue = (publicKey?: AffinePoint) =>
      new TestCa({
        suite,
        issuer: ISSUER,
        privateKey: ca.privateKey,
        ...(publicKey === undefined ? {} : { publicKey }),
        random: seededRandom(`device${suite}`),
      }).issueDevice({ subject: EUI_U });
    const computed = issue();
    const given = issue(ca.publicKey);
    expect(bytesToHex(given.certificate)).toBe(bytesToHex(computed.certificate));
    expect(given.privateKey).toBe(computed.privateKey);
    expect(() => issue(curve.multiplyBase(ca.privateKey + 1n)!)).toThrow(
      expect.objectContaining({ code: 'CBKE_CERT_INVALID' }),
    );
  });

  it('property: random key pairs issued by the test CA agree (ECMQV, KDF, MACs)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const random = seededRandom(`prop${suite}:${seed}`);
        const ca = new TestCa({ suite, issuer: ISSUER, random });
        const u = ca.issueDevice({ subject: EUI_U });
        const v = ca.issueDevice({ subject: EUI_V });
        const pointOf = (c: Uint8Array) => decodeCertificate(suite, c).reconstructionPoint;
        const qu = reconstructPublicKey(curve, u.certificate, pointOf(u.certificate), ca.publicKey);
        const qv = reconstructPublicKey(curve, v.certificate, pointOf(v.certificate), ca.publicKey);
        const ru = curve.randomScalar(random);
        const rv = curve.randomScalar(random);
        const QEU = curve.multiplyBase(ru)!;
        const QEV = curve.multiplyBase(rv)!;
        const zu = ecmqvSharedSecret(curve, {
          staticPrivateKey: u.privateKey,
          ephemeralPrivateKey: ru,
          peerStaticPublicKey: qv,
          peerEphemeralPublicKey: QEV,
        });
        const zv = ecmqvSharedSecret(curve, {
          staticPrivateKey: v.privateKey,
          ephemeralPrivateKey: rv,
          peerStaticPublicKey: qu,
          peerEphemeralPublicKey: QEU,
        });
        expect(bytesToHex(zu)).toBe(bytesToHex(zv));
        const ku = deriveKeys(zu);
        const kv = deriveKeys(zv);
        const args = [EUI_U, EUI_V, curve.compress(QEU), curve.compress(QEV)] as const;
        expect(bytesToHex(macU(ku.macKey, ...args))).toBe(bytesToHex(macU(kv.macKey, ...args)));
        expect(bytesToHex(macV(ku.macKey, ...args))).toBe(bytesToHex(macV(kv.macKey, ...args)));
        expect(bytesToHex(ku.keyData)).toBe(bytesToHex(kv.keyData));
      }),
      { numRuns: 4 },
    );
  });
});
