/**
 * The run's manufacturer key: random per key pair (never from the seed), written as hex with
 * the secret owner-only, read back by the tool; bad key files are typed errors.
 */
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '@gbhan/zigbee';
import { p256 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import {
  generateManufacturerKeyPair,
  MANUFACTURER_PUBLIC_KEY_FILE,
  MANUFACTURER_SECRET_KEY_FILE,
  ManufacturerTool,
  parseManufacturerSecretKey,
  readManufacturerSecretKeyFile,
  unlockMessage,
  writeManufacturerKeyFiles,
} from '../src/index.js';

const X = '00124b0000e5e5e5';

describe('manufacturer key', () => {
  it('is a fresh P-256 key pair each time', () => {
    const a = generateManufacturerKeyPair();
    const b = generateManufacturerKeyPair();
    expect(toHex(a.secretKey)).not.toBe(toHex(b.secretKey));
    expect(toHex(a.publicKey)).toBe(toHex(p256.getPublicKey(a.secretKey, true)));
  });

  it('writes the public key and an owner-only secret; the tool signs with the file read back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-mk-'));
    const pair = generateManufacturerKeyPair();
    // A world-readable secret left by someone else is replaced, not reused.
    writeFileSync(join(dir, MANUFACTURER_SECRET_KEY_FILE), 'old\n');
    chmodSync(join(dir, MANUFACTURER_SECRET_KEY_FILE), 0o644);
    const files = writeManufacturerKeyFiles(dir, pair, true);
    expect(files.publicKey).toBe(join(dir, MANUFACTURER_PUBLIC_KEY_FILE));
    expect(readFileSync(files.publicKey, 'utf8')).toBe(`${toHex(pair.publicKey)}\n`);
    expect(statSync(files.secretKey!).mode & 0o777).toBe(0o600);
    const back = readManufacturerSecretKeyFile(files.secretKey!);
    expect(toHex(back.publicKey)).toBe(toHex(pair.publicKey));
    const challenge = '00112233445566778899aabbccddeeff';
    const sig = new ManufacturerTool(back.secretKey).unlockResponse(X, challenge);
    expect(
      p256.verify(Buffer.from(sig, 'hex'), unlockMessage(X, Buffer.from(challenge, 'hex')), pair.publicKey),
    ).toBe(true);
    // Public key only (a configured key: the user keeps the secret).
    const other = mkdtempSync(join(tmpdir(), 'gbhan-mk-'));
    expect(writeManufacturerKeyFiles(other, pair, false)).toEqual({
      publicKey: join(other, MANUFACTURER_PUBLIC_KEY_FILE),
    });
    expect(() => statSync(join(other, MANUFACTURER_SECRET_KEY_FILE))).toThrow();
  });

  it('refuses what is not a secret key, with a typed error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-mk-'));
    expect(() => readManufacturerSecretKeyFile(join(dir, 'missing'))).toThrow(
      expect.objectContaining({ name: 'ManufacturerKeyError', code: 'MANUFACTURER_KEY_READ' }),
    );
    for (const text of ['', 'zz', '00'.repeat(33), '00'.repeat(32), 'ff'.repeat(32)])
      expect(() => parseManufacturerSecretKey(text)).toThrow(
        expect.objectContaining({ name: 'ManufacturerKeyError', code: 'MANUFACTURER_KEY_FORMAT' }),
      );
    const pair = generateManufacturerKeyPair();
    expect(toHex(parseManufacturerSecretKey(`  ${toHex(pair.secretKey).toUpperCase()}\n`).publicKey)).toBe(
      toHex(pair.publicKey),
    );
  });

  it('parsing the same key again (every meter of a run) gives the same pair, each caller its own copy', () => {
    const a = generateManufacturerKeyPair();
    const b = generateManufacturerKeyPair();
    const first = parseManufacturerSecretKey(toHex(a.secretKey));
    first.publicKey.fill(0); // a caller that writes into its copy
    first.secretKey.fill(0);
    const again = parseManufacturerSecretKey(toHex(a.secretKey).toUpperCase());
    expect(toHex(again.publicKey)).toBe(toHex(a.publicKey));
    expect(toHex(again.secretKey)).toBe(toHex(a.secretKey));
    expect(toHex(parseManufacturerSecretKey(toHex(b.secretKey)).publicKey)).toBe(toHex(b.publicKey));
    expect(toHex(parseManufacturerSecretKey(toHex(a.secretKey)).publicKey)).toBe(toHex(a.publicKey));
    expect(() => parseManufacturerSecretKey('ff'.repeat(32))).toThrow(
      expect.objectContaining({ code: 'MANUFACTURER_KEY_FORMAT' }),
    );
    expect(toHex(parseManufacturerSecretKey(toHex(a.secretKey)).publicKey)).toBe(toHex(a.publicKey));
  });
});
