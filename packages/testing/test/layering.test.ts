/**
 * The helpers keep the packages' import order: a file may import an entry of @gbhan/testing
 * only if its package may import every gbhan package that entry imports (its own dependencies
 * and itself); no `src/` imports @gbhan/testing; a package whose tests use it lists it in its
 * devDependencies. Repository-level tests (test/) may import every entry.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../..', import.meta.url).pathname;
const HERE = join(ROOT, 'packages/testing');

interface PackageJson {
  name: string;
  exports?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const readJson = (path: string): PackageJson => JSON.parse(readFileSync(path, 'utf8'));

function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
}

/** The gbhan packages a source file imports, following its relative imports. */
function gbhanImports(file: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(file)) return out;
  seen.add(file);
  for (const s of specifiers(file)) {
    if (s.startsWith('.')) {
      for (const p of gbhanImports(resolve(dirname(file), s.replace(/\.js$/, '.ts')), seen)) out.add(p);
    } else if (s.startsWith('@gbhan/')) out.add(s.split('/').slice(0, 2).join('/'));
  }
  return out;
}

const testing = readJson(join(HERE, 'package.json'));
const entries = new Map(
  Object.entries(testing.exports ?? {}).map(([sub, file]) => [
    sub === '.' ? '@gbhan/testing' : `@gbhan/testing${sub.slice(1)}`,
    [...gbhanImports(join(HERE, file))].sort(),
  ]),
);

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (n === 'node_modules') return [];
    return statSync(p).isDirectory() ? tsFiles(p) : /\.(ts|js|mjs)$/.test(n) ? [p] : [];
  });
}

const packages = readdirSync(join(ROOT, 'packages')).filter(
  (d) => d !== 'testing' && existsSync(join(ROOT, 'packages', d, 'package.json')),
);

/** The packages bottom-up (root README): a package's src imports only packages before it. */
const ORDER = [
  ['clock'],
  ['radio-bus'],
  ['zigbee'],
  ['cbke', 'gbcs'],
  ['stack'],
  ['runtime'],
  ['comms-hub', 'meter', 'ppmid', 'hht', 'attacker', 'head-end'],
  // report.html and the live view: trace events in, HTML out (imports radio-bus only)
  ['report'],
  ['scenario'],
  ['sweep', 'testkit'],
  ['testing'],
].map((level) => level.map((d) => `@gbhan/${d}`));
const levelOf = (name: string) => ORDER.findIndex((level) => level.includes(name));

describe('the packages keep the layering', () => {
  it('every package has a place in the order', () => {
    const all = readdirSync(join(ROOT, 'packages')).filter((d) =>
      existsSync(join(ROOT, 'packages', d, 'package.json')),
    );
    expect(
      all.map((d) => readJson(join(ROOT, 'packages', d, 'package.json')).name).filter((n) => levelOf(n) < 0),
    ).toEqual([]);
  });

  it('every src file imports only packages below its own, declared in its dependencies', () => {
    const bad: string[] = [];
    for (const dir of readdirSync(join(ROOT, 'packages'))) {
      if (!existsSync(join(ROOT, 'packages', dir, 'package.json'))) continue;
      const pkg = readJson(join(ROOT, 'packages', dir, 'package.json'));
      const deps = new Set(Object.keys(pkg.dependencies ?? {}));
      for (const file of tsFiles(join(ROOT, 'packages', dir, 'src')))
        for (const s of specifiers(file).filter((s) => s.startsWith('@gbhan/'))) {
          const name = s.split('/').slice(0, 2).join('/');
          if (name === pkg.name) continue;
          if (!(levelOf(name) < levelOf(pkg.name)))
            bad.push(`${relative(ROOT, file)}: ${s} is not below ${pkg.name}`);
          if (!deps.has(name)) bad.push(`${relative(ROOT, file)}: ${name} missing from dependencies`);
        }
    }
    expect(bad).toEqual([]);
  });
});

describe('@gbhan/testing keeps the layering', () => {
  it('its entries import what the README says', () => {
    expect(Object.fromEntries(entries)).toEqual({
      '@gbhan/testing': [
        '@gbhan/cbke',
        '@gbhan/clock',
        '@gbhan/radio-bus',
        '@gbhan/runtime',
        '@gbhan/stack',
        '@gbhan/zigbee',
      ],
      '@gbhan/testing/cli': [],
      '@gbhan/testing/real-bus': ['@gbhan/radio-bus'],
      '@gbhan/testing/tshark': [],
    });
  });

  it('every file imports only entries its package may import, and src never', () => {
    const bad: string[] = [];
    const users = new Set<string>();
    for (const dir of packages) {
      const pkg = readJson(join(ROOT, 'packages', dir, 'package.json'));
      const allowed = new Set([pkg.name, ...Object.keys(pkg.dependencies ?? {})]);
      for (const file of tsFiles(join(ROOT, 'packages', dir))) {
        const where = relative(ROOT, file);
        if (where.includes('node_modules')) continue;
        for (const s of specifiers(file).filter((s) => /^@gbhan\/testing(\/|$)/.test(s))) {
          if (where.startsWith(`packages/${dir}/src/`)) bad.push(`${where}: src imports ${s}`);
          const needs = entries.get(s);
          if (!needs) bad.push(`${where}: ${s} is no entry of @gbhan/testing`);
          else
            for (const n of needs.filter((n) => !allowed.has(n)))
              bad.push(`${where}: ${s} imports ${n}, which ${pkg.name} may not`);
          users.add(dir);
        }
      }
      if (users.has(dir) && !pkg.devDependencies?.['@gbhan/testing'])
        bad.push(`packages/${dir}/package.json: @gbhan/testing missing from devDependencies`);
    }
    for (const file of tsFiles(join(ROOT, 'test')))
      for (const s of specifiers(file).filter((s) => /^@gbhan\/testing(\/|$)/.test(s)))
        if (!entries.has(s)) bad.push(`${relative(ROOT, file)}: ${s} is no entry of @gbhan/testing`);
    expect(bad).toEqual([]);
    expect(users.size).toBeGreaterThan(0);
  });
});
