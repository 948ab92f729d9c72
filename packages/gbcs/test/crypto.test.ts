/**
 * Cross-checks against independent implementations: node:crypto's ECDSA (OpenSSL, P1363
 * encoding), ECDH, SHA-256 and AES-GCM. The test PKI is deterministic.
 */
import {
  createCipheriv,
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
} from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decryptPayload,
  deriveKey,
  deviceGbcsKeys,
  ecdsaSign,
  ecdsaVerify,
  encryptPayload,
  fromHex,
  gbcsMac,
  type KeyPair,
  remoteParties,
  toHex,
} from '../src/index.js';

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
function nodePublic(pub: Uint8Array) {
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33, 65)) },
    format: 'jwk',
  });
}
function nodePrivate(k: KeyPair) {
  const pub = k.publicKey;
  return createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: b64u(k.privateKey),
      x: b64u(pub.subarray(1, 33)),
      y: b64u(pub.subarray(33, 65)),
    },
    format: 'jwk',
  });
}

const parties = remoteParties('crypto-test');
const esme = deviceGbcsKeys('crypto-test', '00db1234567890a0');

describe('test PKI', () => {
  it('is deterministic per seed and distinct per party and key use', () => {
    const again = remoteParties('crypto-test');
    expect(toHex(again.supplier.ds.privateKey)).toBe(toHex(parties.supplier.ds.privateKey));
    expect(toHex(deviceGbcsKeys('crypto-test', esme.systemTitle).ka.publicKey)).toBe(
      toHex(esme.ka.publicKey),
    );
    expect(toHex(remoteParties('other').supplier.ds.privateKey)).not.toBe(
      toHex(parties.supplier.ds.privateKey),
    );
    const all = Object.values(parties).flatMap((p) => [p.ds, p.ka]);
    expect(new Set(all.map((k) => toHex(k.privateKey))).size).toBe(8);
    expect(toHex(parties.supplier.systemTitle)).toBe('90b3d51f30010000');
    expect(toHex(parties.acb.systemTitle)).toBe('90b3d51f30000002');
  });

  it("each public key is its private key's point by @noble/curves as well (derived by node:crypto)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.stringMatching(/^[0-9a-f]{16}$/), (seed, eui) => {
        const k = deviceGbcsKeys(seed, eui);
        for (const pair of [k.ds, k.ka])
          expect(toHex(pair.publicKey)).toBe(toHex(p256.getPublicKey(pair.privateKey, false)));
      }),
      { numRuns: 20 },
    );
    for (const p of Object.values(parties))
      expect(toHex(p.ka.publicKey)).toBe(toHex(p256.getPublicKey(p.ka.privateKey, false)));
  });
});

describe('ECDSA P-256 / SHA-256 (r||s) against node:crypto', () => {
  it('our signatures verify with node, node signatures verify with ours', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (msg) => {
        const k = parties.supplier.ds;
        const ours = ecdsaSign(msg, k.privateKey);
        expect(ours.length).toBe(64);
        expect(verify('sha256', msg, { key: nodePublic(k.publicKey), dsaEncoding: 'ieee-p1363' }, ours)).toBe(
          true,
        );
        const theirs = sign('sha256', msg, { key: nodePrivate(k), dsaEncoding: 'ieee-p1363' });
        expect(ecdsaVerify(new Uint8Array(theirs), msg, k.publicKey)).toBe(true);
        const other = Uint8Array.from(msg);
        other[0] = (other[0] ?? 0) ^ 1;
        if (msg.length > 0) expect(ecdsaVerify(ours, other, k.publicKey)).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('a bad key or signature length is a false, not a throw', () => {
    expect(ecdsaVerify(new Uint8Array(64), Uint8Array.of(1), parties.supplier.ds.publicKey)).toBe(false);
    expect(ecdsaVerify(new Uint8Array(63), Uint8Array.of(1), parties.supplier.ds.publicKey)).toBe(false);
    expect(ecdsaVerify(new Uint8Array(64).fill(1), Uint8Array.of(1), new Uint8Array(65))).toBe(false);
  });
});

describe('GBCS KDF and MAC against node:crypto', () => {
  const info = {
    originator: fromHex('90b3d51f30010000'),
    type: 'command' as const,
    counter: 0x0102030405060708n,
    recipient: esme.systemTitle,
  };

  it('KDF = SHA-256(00000001 || ECDH x || otherInfo)[0..16) with node ECDH and createHash', () => {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(parties.acb.ka.privateKey);
    const z = ecdh.computeSecret(esme.ka.publicKey);
    const otherInfo = Buffer.concat([
      Buffer.from('60857406080300', 'hex'),
      info.originator,
      Buffer.from([0x09, 0x01]),
      Buffer.from('0102030405060708', 'hex'),
      info.recipient,
    ]);
    const expected = createHash('sha256')
      .update(Buffer.from([0, 0, 0, 1]))
      .update(z)
      .update(otherInfo)
      .digest()
      .subarray(0, 16);
    expect(toHex(deriveKey(parties.acb.ka.privateKey, esme.ka.publicKey, info))).toBe(
      expected.toString('hex'),
    );
    // ECDH is symmetric: the device derives the same key.
    expect(toHex(deriveKey(esme.ka.privateKey, parties.acb.ka.publicKey, info))).toBe(
      expected.toString('hex'),
    );
  });

  it('MAC = first 12 bytes of GCM tag, IV = originator || 00000000, AAD = 110000000000 || APDU', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ maxLength: 200 }),
        (key, apdu) => {
          const c = createCipheriv('aes-128-gcm', key, Buffer.concat([info.originator, Buffer.alloc(4)]));
          c.setAAD(Buffer.concat([Buffer.from('110000000000', 'hex'), apdu]));
          c.final();
          const tag16 = c.getAuthTag();
          expect(toHex(gbcsMac(key, info.originator, apdu))).toBe(tag16.subarray(0, 12).toString('hex'));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('payload encryption: GCM with AAD 0x31, decrypts, refuses a flipped bit', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ maxLength: 100 }),
        (key, pt) => {
          const sealed = encryptPayload(key, info.originator, pt);
          const c = createCipheriv('aes-128-gcm', key, Buffer.concat([info.originator, Buffer.alloc(4)]));
          c.setAAD(Buffer.of(0x31));
          const ct = Buffer.concat([c.update(pt), c.final()]);
          expect(toHex(sealed)).toBe(toHex(Buffer.concat([ct, c.getAuthTag().subarray(0, 12)])));
          expect(toHex(decryptPayload(key, info.originator, sealed))).toBe(toHex(pt));
          const bad = Uint8Array.from(sealed);
          bad[bad.length - 1]! ^= 0x80;
          expect(() => decryptPayload(key, info.originator, bad)).toThrow(/authentication/);
        },
      ),
      { numRuns: 30 },
    );
  });
});
