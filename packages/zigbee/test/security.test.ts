import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type ApsPlainFrame,
  aesMmoHash,
  appendInstallCodeCrc,
  buildNonce,
  ccmStarDecrypt,
  ccmStarEncrypt,
  crc16Kermit,
  crc16X25,
  decodeApsFrame,
  decodeNwkFrame,
  fromHex,
  hmacMmo,
  installCodeLinkKey,
  keyLoadKey,
  keyTransportKey,
  MIC_LENGTH,
  secureApsFrame,
  secureNwkFrame,
  securityControl,
  toHex,
  unsecureApsFrame,
  unsecureNwkFrame,
  validateInstallCode,
  ZigbeeDecodeError,
} from '../src/index.js';
import { apsData, DEV_EUI, LINK_KEY, NWK_KEY, nwkData } from './fixtures.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../cbke/test/vectors/cbke-annex-c.json', import.meta.url), 'utf8'),
);
const seq = (start: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
const ascii = (s: string) => new TextEncoder().encode(s);

function expectZbError(fn: () => unknown, layer: string, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ZigbeeDecodeError);
    expect((e as ZigbeeDecodeError).layer).toBe(layer);
    expect((e as ZigbeeDecodeError).code).toBe(code);
    return;
  }
  throw new Error('expected a ZigbeeDecodeError');
}

describe('CCM* (ZigBee 05-3474 Annex C.2.2)', () => {
  // Key C0..CF, nonce A0..A7 || 03020100 || 06, a = frame bytes 00..07, m = 08..1E, M = 8.
  const key = seq(0xc0, 16);
  const nonce = buildNonce('a7a6a5a4a3a2a1a0', 0x00010203, 0x06);
  const a = seq(0, 8);
  const m = seq(8, 23);

  it('builds the Annex C nonce from source address, frame counter and security control', () => {
    expect(toHex(nonce)).toBe('a0a1a2a3a4a5a6a70302010006');
  });

  it('reproduces the Annex C ciphertext and MIC', () => {
    const out = ccmStarEncrypt(key, nonce, a, m, 6);
    expect(toHex(out)).toBe('1a55a36abb6c610d066b3375649cef10d4664ecad854a8' + '0a895cc1d8ff9469');
    expect(toHex(ccmStarDecrypt(key, nonce, a, out, 6))).toBe(toHex(m));
  });

  it('rejects a flipped bit anywhere with SECURITY/BAD_MIC', () => {
    const out = ccmStarEncrypt(key, nonce, a, m, 6);
    for (const i of [0, 10, out.length - 1]) {
      const bad = out.slice();
      bad[i]! ^= 1;
      expectZbError(() => ccmStarDecrypt(key, nonce, a, bad, 6), 'SECURITY', 'BAD_MIC');
    }
    const badA = a.slice();
    badA[0]! ^= 0x80;
    expectZbError(() => ccmStarDecrypt(key, nonce, badA, out, 6), 'SECURITY', 'BAD_MIC');
  });

  it('round-trips every level 0..7 with the right MIC length; level 4 is the CCM keystream', () => {
    for (let level = 0; level < 8; level++) {
      const out = ccmStarEncrypt(key, nonce, a, m, level);
      expect(out.length).toBe(m.length + MIC_LENGTH[level as 0]);
      if (level === 0 || (level >= 1 && level <= 3)) expect(toHex(out.subarray(0, m.length))).toBe(toHex(m));
      expect(toHex(ccmStarDecrypt(key, nonce, a, out, level))).toBe(toHex(m));
      if (level >= 1 && level !== 4) {
        const bad = out.slice();
        bad[bad.length - 1]! ^= 1;
        expectZbError(() => ccmStarDecrypt(key, nonce, a, bad, level), 'SECURITY', 'BAD_MIC');
      }
    }
    // Encryption-only (AES-CTR from counter 1) gives the same ciphertext as CCM's encryption part.
    expect(toHex(ccmStarEncrypt(key, nonce, a, m, 4))).toBe('1a55a36abb6c610d066b3375649cef10d4664ecad854a8');
  });

  it('rejects a short MIC and a bad key size with typed errors', () => {
    expectZbError(() => ccmStarDecrypt(key, nonce, a, Uint8Array.of(1, 2), 5), 'SECURITY', 'TRUNCATED');
    expectZbError(() => ccmStarEncrypt(key.subarray(0, 8), nonce, a, m, 5), 'SECURITY', 'BAD_KEY');
  });
});

describe('AES-MMO hash and keyed hash (Annex C.5, C.6)', () => {
  it('matches the C.5 hash vectors, short and long form padding', () => {
    expect(toHex(aesMmoHash(Uint8Array.of(0xc0)))).toBe('ae3a102a28d43ee0d4a09e22788b206c');
    expect(toHex(aesMmoHash(seq(0xc0, 16)))).toBe('a7977e88bc0b61e8210827109a228f2d');
    expect(toHex(aesMmoHash(seq(0, 8191)))).toBe('24ec2fe75bbffcb34789bc0610e7f165');
    expect(toHex(aesMmoHash(seq(0, 8192)))).toBe('dc6b0687f09f8607131c170b3bd31591');
    expect(toHex(aesMmoHash(seq(0, 8201)))).toBe('72c9b15e178aa843e4a16c58e33643a3');
    expect(toHex(aesMmoHash(seq(0, 8202)))).toBe('bc9828d59b2aa323daf20be5f2e66511');
  });

  it('matches the C.6.1 and C.6.2 HMAC vectors (16- and 32-byte keys)', () => {
    expect(toHex(hmacMmo(seq(0x40, 16), Uint8Array.of(0xc0)))).toBe('4512807bf94cb3400f0e2c25fb76e999');
    expect(toHex(hmacMmo(seq(0x40, 32), seq(0xc0, 16)))).toBe('a3b0079984bf1557f74a0d6387e0a11a');
  });

  it('reproduces the SE Annex C CBKE MACs (MAC = HMAC-MMO over 02/03 || U || V || QEU || QEV)', () => {
    const s = vectors.suites[0];
    const U = fromHex(s.initiator.eui64);
    const V = fromHex(s.responder.eui64);
    const QEU = fromHex(s.initiator.ephemeralPublicKey);
    const QEV = fromHex(s.responder.ephemeralPublicKey);
    const macKey = fromHex(s.macKey);
    const macU = hmacMmo(macKey, Uint8Array.from([2, ...U, ...V, ...QEU, ...QEV]));
    const macV = hmacMmo(macKey, Uint8Array.from([3, ...V, ...U, ...QEV, ...QEU]));
    expect(toHex(macU).toUpperCase()).toBe(s.macU);
    expect(toHex(macV).toUpperCase()).toBe(s.macV);
  });

  it('derives key-transport and key-load keys as HMAC(key, 00) and HMAC(key, 02)', () => {
    expect(toHex(keyTransportKey(LINK_KEY))).toBe(toHex(hmacMmo(LINK_KEY, Uint8Array.of(0))));
    expect(toHex(keyLoadKey(LINK_KEY))).toBe(toHex(hmacMmo(LINK_KEY, Uint8Array.of(2))));
    expect(toHex(keyTransportKey(LINK_KEY))).not.toBe(toHex(keyLoadKey(LINK_KEY)));
    expectZbError(() => keyTransportKey(new Uint8Array(15)), 'SECURITY', 'BAD_KEY');
  });
});

describe('CRCs and install codes', () => {
  it('has the catalogue check values', () => {
    expect(crc16Kermit(ascii('123456789'))).toBe(0x2189);
    expect(crc16X25(ascii('123456789'))).toBe(0x906e);
  });

  it('validates the Annex C install code and derives its link key', () => {
    const { installCode, crc, linkKey } = vectors.installCode;
    const withCrc = appendInstallCodeCrc(fromHex(installCode));
    expect(toHex(withCrc.subarray(16)).toUpperCase()).toBe(crc);
    expect(toHex(installCodeLinkKey(withCrc)).toUpperCase()).toBe(linkKey);
    expect(toHex(installCodeLinkKey(installCode + crc)).toUpperCase()).toBe(linkKey);
  });

  it('accepts 6/8/12/16-byte codes and rejects other lengths and bad CRCs', () => {
    for (const n of [6, 8, 12, 16])
      expect(validateInstallCode(appendInstallCodeCrc(seq(n, n))).length).toBe(n + 2);
    for (const n of [0, 5, 7, 10, 17]) {
      expectZbError(() => validateInstallCode(seq(1, n + 2)), 'INSTALL_CODE', 'INVALID_FIELD');
      expectZbError(() => appendInstallCodeCrc(seq(1, n)), 'INSTALL_CODE', 'INVALID_FIELD');
    }
    const good = appendInstallCodeCrc(seq(3, 16));
    const bad = good.slice();
    bad[17]! ^= 0xff;
    expectZbError(() => validateInstallCode(bad), 'INSTALL_CODE', 'BAD_CRC');
    bad[17] = good[17]!;
    bad[0]! ^= 1;
    expectZbError(() => installCodeLinkKey(bad), 'INSTALL_CODE', 'BAD_CRC');
  });
});

describe('NWK security (§4.3)', () => {
  const frame = nwkData(Uint8Array.of(1, 2, 3, 4, 5));
  const opts = { key: NWK_KEY, frameCounter: 0x01020304, sourceEui64: DEV_EUI, keySequenceNumber: 7 };

  it('writes level 0 on air, carries the EUI64, and decrypts with the real level', () => {
    const bytes = secureNwkFrame(frame, opts);
    const seen = decodeNwkFrame(bytes);
    expect(seen.security).toBe(true);
    if (!seen.security) return;
    expect(seen.aux).toEqual({
      level: 0,
      keyId: 'network',
      frameCounter: 0x01020304,
      sourceAddress: DEV_EUI,
      keySequenceNumber: 7,
    });
    expect(seen.encrypted.length).toBe(5 + 4);
    const { frame: plain, aux } = unsecureNwkFrame(bytes, { key: NWK_KEY });
    expect(plain).toEqual(frame);
    expect(aux.frameCounter).toBe(0x01020304);
  });

  it('round-trips levels 1..7 and on-air real level', () => {
    for (let level = 1; level < 8; level++) {
      const bytes = secureNwkFrame(frame, { ...opts, level, onAirLevel: 'real' });
      const seen = decodeNwkFrame(bytes);
      expect(seen.security && seen.aux.level).toBe(level);
      expect(unsecureNwkFrame(bytes, { key: NWK_KEY, level }).frame).toEqual(frame);
    }
  });

  it('needs the sender EUI64 when the extended nonce is off', () => {
    const bytes = secureNwkFrame(frame, { ...opts, extendedNonce: false });
    expectZbError(() => unsecureNwkFrame(bytes, { key: NWK_KEY }), 'SECURITY', 'INVALID_FIELD');
    expect(unsecureNwkFrame(bytes, { key: NWK_KEY, sourceEui64: DEV_EUI }).frame).toEqual(frame);
  });

  it('fails with BAD_MIC for a wrong key, a wrong level, or a tampered header', () => {
    const bytes = secureNwkFrame(frame, opts);
    expectZbError(() => unsecureNwkFrame(bytes, { key: LINK_KEY }), 'SECURITY', 'BAD_MIC');
    expectZbError(() => unsecureNwkFrame(bytes, { key: NWK_KEY, level: 6 }), 'SECURITY', 'BAD_MIC');
    const t = bytes.slice();
    t[6]! ^= 1; // radius
    expectZbError(() => unsecureNwkFrame(t, { key: NWK_KEY }), 'SECURITY', 'BAD_MIC');
  });
});

describe('APS security (§4.4)', () => {
  const data = apsData(0x0702, 0x0109, Uint8Array.of(9, 8, 7)) as ApsPlainFrame;
  const cmd: ApsPlainFrame = {
    frameType: 'command',
    security: false,
    deliveryMode: 'unicast',
    ackRequest: false,
    counter: 9,
    command: {
      id: 'transportKey',
      keyType: 'network',
      key: NWK_KEY,
      sequenceNumber: 0,
      destination: DEV_EUI,
      source: DEV_EUI,
    },
  };

  it('round-trips data and commands with each key id', () => {
    for (const keyId of ['data', 'network', 'keyTransport', 'keyLoad'] as const) {
      for (const f of [data, cmd]) {
        const bytes = secureApsFrame(f, {
          key: LINK_KEY,
          keyId,
          frameCounter: 42,
          sourceEui64: DEV_EUI,
          keySequenceNumber: 0,
        });
        const seen = decodeApsFrame(bytes);
        expect(seen.security && seen.aux.keyId).toBe(keyId);
        const out = unsecureApsFrame(bytes, { key: LINK_KEY });
        expect(out.frame).toEqual(f);
        expect(out.aux.sourceAddress).toBe(DEV_EUI);
      }
    }
  });

  it('uses the keyed-hash key for key-transport (not the raw link key)', () => {
    const bytes = secureApsFrame(cmd, {
      key: LINK_KEY,
      keyId: 'keyTransport',
      frameCounter: 1,
      sourceEui64: DEV_EUI,
    });
    const seen = decodeApsFrame(bytes);
    if (!seen.security) throw new Error('not secured');
    const auxEnd = bytes.length - seen.encrypted.length;
    const a = bytes.slice(0, auxEnd);
    a[2] = (a[2]! & ~7) | 5;
    const nonce = buildNonce(DEV_EUI, 1, securityControl(5, 'keyTransport', true));
    expect(() => ccmStarDecrypt(keyTransportKey(LINK_KEY), nonce, a, seen.encrypted, 5)).not.toThrow();
    expectZbError(() => ccmStarDecrypt(LINK_KEY, nonce, a, seen.encrypted, 5), 'SECURITY', 'BAD_MIC');
  });

  it('fails with BAD_MIC under the wrong key', () => {
    const bytes = secureApsFrame(data, {
      key: LINK_KEY,
      keyId: 'data',
      frameCounter: 2,
      sourceEui64: DEV_EUI,
    });
    expectZbError(() => unsecureApsFrame(bytes, { key: NWK_KEY }), 'SECURITY', 'BAD_MIC');
  });
});
