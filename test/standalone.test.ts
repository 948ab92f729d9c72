/**
 * A fresh clone must test and run on its own: no tracked file may read or point at anything
 * outside the repository (a `shared/` folder beside the clone, an absolute checkout path).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => /\.(ts|js|mjs|md|yaml|yml|json|sh)$|^\.ci\//.test(f) && f !== 'package-lock.json')
  .filter((f) => existsSync(`${root}${f}`)); // a deletion not yet committed

// A relative climb into a shared folder beside the clone, or an absolute checkout path.
const outside = /(?:\.\.\/)+shared\/|\/work\/(?:shared|main)\b/;

describe('the repository stands alone', () => {
  it('lists the files it checks', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain('.ci/run');
  });

  it('no tracked file reads or points outside the repository', () => {
    const hits: string[] = [];
    for (const f of files) {
      readFileSync(`${root}${f}`, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (outside.test(line)) hits.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });

  it('the test vectors are inside it', () => {
    const v = JSON.parse(readFileSync(`${root}packages/cbke/test/vectors/cbke-annex-c.json`, 'utf8'));
    expect(Object.keys(v)).toContain('ecmqv');
  });
});
