/**
 * The Python reference client for the tests: where it is, the interpreter Debian's
 * python3-websockets is installed for (/usr/bin/python3, not a pyenv one first on PATH), and
 * its JSON-lines output parsed.
 */
import { join } from 'node:path';
import { ROOT } from '@gbhan/testing';

export const PYTHON = '/usr/bin/python3';
export const CLIENT = join(ROOT, 'clients/python/gbhan_bus_client.py');

/** The client's stdout, one JSON object a line. */
export function lines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
