import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aesMmoHash } from '../src/index.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../cbke/test/vectors/cbke-annex-c.json', import.meta.url), 'utf8'),
);

describe('AES-MMO hash', () => {
  it('derives the Annex C install-code link key (code || CRC bytes as the vector gives them)', () => {
    const { installCode, crc, linkKey } = vectors.installCode;
    const crcBytes = Buffer.from(crc, 'hex');
    const input = Buffer.concat([Buffer.from(installCode, 'hex'), crcBytes]);
    expect(Buffer.from(aesMmoHash(input)).toString('hex').toUpperCase()).toBe(linkKey);
  });
});
