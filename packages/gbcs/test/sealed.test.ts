/** Sealed answer content: only the remote party the answer is for opens it; a flipped bit or another key fails. */
import { createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  deriveKey,
  deviceGbcsKeys,
  fromHex,
  gcmIv,
  remoteParties,
  SEALED_SECURITY_CONTROL,
  seal,
  unseal,
} from '../src/index.js';

const parties = remoteParties('sealed');
const device = deviceGbcsKeys('sealed', '00124b0000e5e5e5');
const info = { originator: device.systemTitle, recipient: parties.supplier.systemTitle, counter: 42n };
const plain = fromHex('0500000539');

describe('seal / unseal', () => {
  const sealed = seal(plain, device.ka.privateKey, parties.supplier.ka.publicKey, info);

  it('has the RTDS shape (0x31, invocation counter 0, ciphertext || 12-octet tag) and opens for the recipient', () => {
    expect(sealed[0]).toBe(SEALED_SECURITY_CONTROL);
    expect(Array.from(sealed.subarray(1, 5))).toEqual([0, 0, 0, 0]);
    expect(sealed.length).toBe(5 + plain.length + 12);
    expect(unseal(sealed, parties.supplier.ka.privateKey, device.ka.publicKey, info)).toEqual(plain);
  });

  it('decrypts with node:crypto too (AES-128-GCM, AAD 0x31, the GBCS IV)', () => {
    const key = deriveKey(parties.supplier.ka.privateKey, device.ka.publicKey, {
      ...info,
      type: 'encryption',
    });
    const d = createDecipheriv('aes-128-gcm', key, gcmIv(info.originator), { authTagLength: 12 });
    d.setAAD(Uint8Array.of(0x31));
    d.setAuthTag(sealed.subarray(sealed.length - 12));
    expect(new Uint8Array([...d.update(sealed.subarray(5, sealed.length - 12)), ...d.final()])).toEqual(
      plain,
    );
  });

  it('another party, another counter or a flipped bit cannot open it', () => {
    expect(() => unseal(sealed, parties.supplier2.ka.privateKey, device.ka.publicKey, info)).toThrow(
      /authentication/,
    );
    expect(() =>
      unseal(sealed, parties.supplier.ka.privateKey, device.ka.publicKey, { ...info, counter: 43n }),
    ).toThrow(/authentication/);
    const bad = Uint8Array.from(sealed);
    bad[7]! ^= 1;
    expect(() => unseal(bad, parties.supplier.ka.privateKey, device.ka.publicKey, info)).toThrow(
      /authentication/,
    );
    expect(() => unseal(plain, parties.supplier.ka.privateKey, device.ka.publicKey, info)).toThrow(/0x31/);
  });
});
