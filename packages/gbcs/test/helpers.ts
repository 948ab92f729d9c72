import { readFileSync } from 'node:fs';
import { fromHex } from '../src/index.js';

interface KeyEntry {
  role: string;
  dsPublic?: string;
  kaPublic: string;
  kaPrivate?: string;
}

const raw = JSON.parse(readFileSync(new URL('./vectors/rtds.json', import.meta.url), 'utf8')) as {
  keys: Record<string, KeyEntry>;
  messages: Record<string, { file: string; hex: string }>;
};

export const SUPPLIER = fromHex('90b3d51f30010000');
export const ACB = fromHex('90b3d51f30000002');
export const ESME = fromHex('00db1234567890a0');
export const GSME = fromHex('00db1234567890a1');

export function rtds(name: string): Uint8Array {
  const m = raw.messages[name];
  if (m === undefined) throw new Error(`no vector ${name}`);
  return fromHex(m.hex);
}

export function rtdsNames(): string[] {
  return Object.keys(raw.messages);
}

export function key(id: string, which: 'dsPublic' | 'kaPublic' | 'kaPrivate'): Uint8Array {
  const v = raw.keys[id]?.[which];
  if (v === undefined) throw new Error(`no ${which} for ${id}`);
  return fromHex(v);
}
