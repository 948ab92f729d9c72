import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('shared files', () => {
  it('are byte-identical copies of the meter package ones (until they move to a shared package)', () => {
    const here = new URL('../src/', import.meta.url);
    const meter = new URL('../../meter/src/', import.meta.url);
    for (const f of [
      'app-util.ts',
      'cbke-service.ts',
      'cluster-server.ts',
      'tunnel-envelope.ts',
      'process-args.ts',
    ]) {
      expect(readFileSync(new URL(f, here), 'utf8'), f).toBe(readFileSync(new URL(f, meter), 'utf8'));
    }
  });
});
