/**
 * What the live view's server and page say to each other over the WebSocket. Server to page:
 * `hello` (the run), `clock` (virtual time and controls' state, a few times a second) and
 * `events` (batches of trace events made small: scenario ids, no PSDUs). Page to server:
 * pause, resume, step, speed - checked with zod, a bad message is answered with an error.
 */
import type { BusTraceEvent } from '@gbhan/radio-bus';
import { z } from 'zod';
import { eventLabel } from './collect.js';
import { arrowOf } from './exchanges.js';

export const ClientCommand = z.discriminatedUnion('cmd', [
  z.strictObject({ cmd: z.literal('pause') }),
  z.strictObject({ cmd: z.literal('resume') }),
  /** Run `us` of virtual time as fast as possible, then pause (default one second). */
  z.strictObject({ cmd: z.literal('step'), us: z.number().int().positive().max(86_400_000_000).optional() }),
  /** null: as fast as possible. */
  z.strictObject({ cmd: z.literal('speed'), speed: z.number().positive().max(1e6).nullable() }),
  /** The run is over: play it again from its trace. */
  z.strictObject({ cmd: z.literal('replay') }),
]);
export type ClientCommand = z.infer<typeof ClientCommand>;

/** One trace event as the page gets it. */
export type LiveEvent =
  | { t: number; k: 'tx'; d: string; f: number; air: number; ch: number }
  | { t: number; k: 'rx'; d: string; from: string; f: number }
  | { t: number; k: 'drop'; d: string; from: string; why: string }
  | { t: number; k: 'ev'; d: string; label: string; bad: boolean; to?: string }
  | { t: number; k: 'bus'; label: string };

const BAD = /refused|failed|alert|drop|no-ack|lost|attack|tamper|backoff|error/;

export function liveEvent(e: BusTraceEvent, name: (eui: string) => string): LiveEvent | null {
  switch (e.type) {
    case 'tx':
      return { t: e.t, k: 'tx', d: name(e.radio), f: e.frame + 1, air: e.airtimeUs, ch: e.channel };
    case 'rx':
      return { t: e.t, k: 'rx', d: name(e.radio), from: name(e.from), f: e.frame + 1 };
    case 'drop':
      // Out-of-range non-deliveries are most of a full trace and say nothing on a map.
      if (e.radio === null || e.reason === 'out-of-range' || e.reason === 'wrong-channel') return null;
      return { t: e.t, k: 'drop', d: name(e.radio), from: name(e.from), why: e.reason };
    case 'device': {
      const ev = e.event as Record<string, unknown>;
      const type = String(ev.type);
      if (type === 'key-export') return null; // key material stays in the keys file
      const arrow = arrowOf(e.radio, e.t, type, ev, name);
      return {
        t: e.t,
        k: 'ev',
        d: name(e.radio),
        label: eventLabel(type, ev, name),
        bad: BAD.test(type) || ev.ok === false,
        ...(arrow !== null && arrow.from === name(e.radio) && arrow.to !== '*' ? { to: arrow.to } : {}),
      };
    }
    case 'control':
      return {
        t: e.t,
        k: 'ev',
        d: name(e.radio),
        label: `control ${String(e.command.action)}`,
        bad: !e.delivered,
      };
    case 'power':
    case 'channel':
    case 'attach':
      return null;
    default:
      return { t: e.t, k: 'bus', label: e.type };
  }
}

export interface LiveDevice {
  id: string;
  type: string;
  band: string;
  channel: number;
}

export type ServerMessage =
  | { type: 'hello'; name: string; mode: 'live' | 'replay'; durationUs: number; devices: LiveDevice[] }
  | {
      type: 'clock';
      t: number;
      paused: boolean;
      speed: number | null;
      done: boolean;
      skipped: number;
      /** A replay from the trace can be asked for (`replay`). */
      canReplay: boolean;
    }
  | { type: 'events'; events: LiveEvent[] }
  | { type: 'error'; message: string };
