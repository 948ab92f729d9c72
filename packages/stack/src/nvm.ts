/**
 * Non-volatile memory of a device. What survives a power cycle lives here; everything else
 * is RAM and is lost. Values are JSON (bytes as hex strings). Every `commit` is atomic: a
 * file store writes a temporary file and renames it over the old one, so power lost in the
 * middle leaves the old state or the new state, never a mix.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { jsonCopy } from '@gbhan/radio-bus';

export type NvValue = null | boolean | number | string | NvValue[] | { [key: string]: NvValue };
export type NvRecord = Record<string, NvValue>;

export class NvStoreError extends Error {
  constructor(
    readonly code: 'NVM_CORRUPT' | 'NVM_NOT_JSON' | 'NVM_IO',
    message: string,
  ) {
    super(message);
    this.name = 'NvStoreError';
  }
}

export interface NvStore {
  /** A deep copy of the value stored under `key`, or undefined. */
  read<T extends NvValue>(key: string): T | undefined;
  /** Apply several changes atomically: all of them or none survive a power cut. */
  commit(changes: Record<string, NvValue | undefined>): void;
  /** Everything stored (a deep copy), for state diffs and reports. */
  snapshot(): NvRecord;
}

/** A deep copy exactly as a JSON round trip (a file store) gives it back (radio-bus json-copy.ts). */
const clone = jsonCopy;

function apply(state: NvRecord, changes: Record<string, NvValue | undefined>): NvRecord {
  const next: NvRecord = { ...state };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete next[k];
    else next[k] = clone(v);
  }
  return next;
}

/** In-process runs: NVM in memory (survives the device's power cycles, not the process). */
export class MemoryNvStore implements NvStore {
  private state: NvRecord;
  /** Set by tests to make the next commit fail part-way (a power cut during a write). */
  failNextCommit = false;

  constructor(initial: NvRecord = {}) {
    this.state = clone(initial);
  }

  read<T extends NvValue>(key: string): T | undefined {
    return clone(this.state[key]) as T | undefined;
  }

  commit(changes: Record<string, NvValue | undefined>): void {
    const next = apply(this.state, changes);
    if (this.failNextCommit) {
      this.failNextCommit = false;
      throw new NvStoreError('NVM_IO', 'power lost during NVM write');
    }
    this.state = next;
  }

  snapshot(): NvRecord {
    return clone(this.state);
  }
}

/** Process runs: one JSON file per device, replaced atomically on every commit. */
export class FileNvStore implements NvStore {
  private state: NvRecord;

  constructor(readonly path: string) {
    if (!existsSync(path)) {
      this.state = {};
      return;
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new NvStoreError('NVM_IO', `cannot read ${path}: ${(e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new NvStoreError('NVM_NOT_JSON', `${path} is not JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new NvStoreError('NVM_CORRUPT', `${path} does not hold a JSON object`);
    }
    this.state = parsed as NvRecord;
  }

  read<T extends NvValue>(key: string): T | undefined {
    return clone(this.state[key]) as T | undefined;
  }

  commit(changes: Record<string, NvValue | undefined>): void {
    const next = apply(this.state, changes);
    const tmp = `${this.path}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(next, null, 1)}\n`);
      renameSync(tmp, this.path);
    } catch (e) {
      throw new NvStoreError('NVM_IO', `cannot write ${this.path}: ${(e as Error).message}`);
    }
    this.state = next;
  }

  snapshot(): NvRecord {
    return clone(this.state);
  }
}
