/**
 * Reading a scenario file safely: the limits a run enforces (devices, duration, file size,
 * YAML alias expansion) and a read that refuses what is not a regular file of bounded size
 * (a FIFO, /dev/zero, a directory) with a one-line ScenarioError.
 */
import { closeSync, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { ScenarioError, type ScenarioErrorCode } from './errors.js';
// ---- limits -------------------------------------------------------------------------------

/**
 * What one scenario may ask for, so a typo or a hostile file ends in a one-line error rather
 * than an exhausted heap. `gbhan run --max-file-size / --max-devices / --max-duration` raise them.
 */
export interface ScenarioLimits {
  /** Largest scenario file, bytes. */
  maxFileBytes: number;
  /** Most devices in one scenario. */
  maxDevices: number;
  /** Longest `duration` (and `--duration`), virtual microseconds. */
  maxDurationUs: number;
}

/**
 * 1 MiB is ~100 times the largest shipped scenario; 500 devices is scenarios/street-100.yaml's
 * 300 with room (~30 homes of a full Device Log; a 1000-radio run needs ~1 GB); 7 days of
 * virtual time is ~170 times the longest scenario.
 */
export const DEFAULT_SCENARIO_LIMITS: Readonly<ScenarioLimits> = {
  maxFileBytes: 1024 * 1024,
  maxDevices: 500,
  maxDurationUs: 7 * 24 * 3600 * 1_000_000,
};

/**
 * YAML aliases a document may expand (yaml's `maxAliasCount`: uses x nodes behind each). A
 * scenario needs a few; a "billion laughs" file needs billions.
 */
export const MAX_ALIAS_COUNT = 100;

/** Bytes, with a binary unit when it is whole (1 MiB, 512 KiB). */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const)
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  return `${n} bytes`;
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The text of a scenario file, read with a bound: a regular file only (a device such as
 * /dev/zero never ends, a pipe blocks) and never more than `maxBytes` + 1 bytes, whatever the
 * size the file claims or grows to while being read.
 */
export function readScenarioFile(file: string, maxBytes: number): string {
  const refuse = (code: ScenarioErrorCode, detail: string) => new ScenarioError(code, file, null, '', detail);
  const notRegular = (st: Stats) =>
    refuse('SCENARIO_READ', `${fileKind(st)}, not a regular file: a scenario is a YAML file`);
  const tooLarge = () =>
    refuse(
      'SCENARIO_LIMIT',
      `larger than ${formatBytes(maxBytes)}, the most a scenario file may have (raise it with --max-file-size)`,
    );
  let fd: number;
  try {
    // stat before open: opening a pipe would wait for a writer
    const st = statSync(file);
    if (!st.isFile()) throw notRegular(st);
    if (st.size > maxBytes) throw tooLarge();
    fd = openSync(file, 'r');
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    throw refuse('SCENARIO_READ', `cannot read: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(st); // replaced between stat and open
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw tooLarge();
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    throw refuse('SCENARIO_READ', `cannot read: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
