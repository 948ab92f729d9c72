/**
 * Wireshark's dissectors as the outside judge of our bytes. CI installs tshark from Debian
 * (.ci/run); a machine without it fails these tests loudly rather than skipping them. No gbhan
 * imports (subpath `@gbhan/testing/tshark`): tests of every package may use it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tsharkPath(): string {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return 'tshark';
  } catch {
    throw new Error('tshark is not installed: run .ci/run or apt-get install tshark (see README)');
  }
}

/** Write bytes to a fresh temporary file and return its path. */
export function tempFile(name: string, bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'gbhan-'));
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Run tshark on a capture; extra args e.g. ['-T', 'fields', '-e', 'wpan.fcs_ok']. */
export function tshark(pcapPath: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(tsharkPath(), ['-n', '-r', pcapPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** One row per frame, one column per field, as tshark prints them with -T fields. */
export function tsharkFields(pcapPath: string, fields: string[], extra: string[] = []): string[][] {
  const out = tshark(pcapPath, [
    ...extra,
    '-T',
    'fields',
    '-E',
    'separator=|',
    ...fields.flatMap((f) => ['-e', f]),
  ]);
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('|'));
}

/** Count of frames tshark flags as malformed (0 is the goal). */
export function malformedCount(pcapPath: string, extra: string[] = []): number {
  const out = tshark(pcapPath, [...extra, '-Y', '_ws.malformed']);
  return out.split('\n').filter((l) => l.trim().length > 0).length;
}
