import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileNvStore, MemoryNvStore, NvStoreError, type NvValue } from '../src/nvm.js';

describe('NVM', () => {
  it('file store survives a restart and commits atomically', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gbhan-nvm-')), 'esme.json');
    const a = new FileNvStore(path);
    a.commit({ frameCounter: 4096, keys: { tc: 'aabb' } });
    a.commit({ frameCounter: 8192, panId: 0x1a62 });
    const b = new FileNvStore(path);
    expect(b.snapshot()).toEqual({ frameCounter: 8192, keys: { tc: 'aabb' }, panId: 0x1a62 });
    b.commit({ panId: undefined });
    expect(new FileNvStore(path).read('panId')).toBeUndefined();
    expect(JSON.parse(readFileSync(path, 'utf8')).frameCounter).toBe(8192);
  });

  it('returns copies, so callers cannot change NVM behind its back', () => {
    const m = new MemoryNvStore({ list: [1, 2] });
    const l = m.read<number[]>('list')!;
    l.push(3);
    expect(m.read('list')).toEqual([1, 2]);
  });

  it('a failed commit leaves the old state', () => {
    const m = new MemoryNvStore({ a: 1, b: 2 });
    m.failNextCommit = true;
    expect(() => m.commit({ a: 10, b: undefined })).toThrow(NvStoreError);
    expect(m.snapshot()).toEqual({ a: 1, b: 2 });
  });

  it('refuses a corrupt state file with a typed error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-nvm-'));
    writeFileSync(join(dir, 'x.json'), '{not json');
    writeFileSync(join(dir, 'y.json'), '[1,2]');
    expect(() => new FileNvStore(join(dir, 'x.json'))).toThrow(/not JSON/);
    expect(() => new FileNvStore(join(dir, 'y.json'))).toThrow(/JSON object/);
  });
});

describe('MemoryNvStore reads', () => {
  it('are what a file store would give back: JSON copies, not the stored objects', () => {
    const m = new MemoryNvStore();
    // A device may hand over fields left undefined (the type says NvValue, JavaScript allows it).
    m.commit({ log: [{ eui: 'aa', gone: undefined, n: -0 } as unknown as NvValue] });
    const a = m.read<NvValue[]>('log')!;
    expect(a).toStrictEqual([{ eui: 'aa', n: 0 }]);
    (a[0] as Record<string, NvValue>).eui = 'changed';
    expect(m.read('log')).toStrictEqual([{ eui: 'aa', n: 0 }]);
  });
});
