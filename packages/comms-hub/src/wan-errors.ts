/** The WAN side's typed errors, and JSON-safe values for its traces. */
import { toHex } from '@gbhan/zigbee';

export type WanErrorCode =
  | 'WAN_DOWN'
  | 'WAN_BAD_COMMAND'
  | 'WAN_UNKNOWN_DEVICE'
  | 'WAN_WRONG_DEVICE_TYPE'
  | 'WAN_NO_TUNNEL'
  | 'WAN_DEVICE_LOG';

export class WanError extends Error {
  constructor(
    readonly code: WanErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WanError';
  }
}

/** Values as they can go into a JSON trace (bytes as hex, bigints as strings). */
export function jsonSafe(v: unknown): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}
