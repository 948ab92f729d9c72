/**
 * The rogue radio's trace events (what it sent and what it heard back), declared once in
 * `ATTACKER_TRACE_EVENTS`. The stack's events (an insider's join) are in `@gbhan/stack`.
 */
import { defineTraceEvents, eui64Field, listOf, type TraceEventOf } from '@gbhan/radio-bus';
import type { AppEmitted } from '@gbhan/runtime';
import type { DeviceTraceEvent } from '@gbhan/stack';
import { z } from 'zod';
import type { InsiderAttack } from './insider.js';

// A type only: a catalogue loads no protocol code.
const INSIDER_ATTACKS = listOf<InsiderAttack>()([
  'nwk-leave',
  'mgmt-leave',
  'spoofed-leave',
  'transport-key',
]);

const hub = z.strictObject({
  epid: eui64Field,
  panId: z.number().int(),
  page: z.number().int(),
  channel: z.number().int(),
  lqi: z.number().int(),
  permitJoin: z.boolean(),
});

export const ATTACKER_TRACE_EVENTS = defineTraceEvents(
  'attacker',
  'The rogue radio: scans, floods, malformed frames, foreign certificates, replays, insider forgeries, and the answers it got.',
  {
    'attacker-scan': {
      description: 'The attacker scanned; the first hub heard (or the configured one) is its target.',
      fields: {
        hubs: z.array(hub).describe('CHs heard'),
        target: eui64Field.nullable().describe('null: none'),
      },
    },
    'attacker-flood': {
      description: 'A flood of Initiate Key Establishment Requests started.',
      fields: {
        count: z.number().int(),
        intervalUs: z.number().int().describe('between two requests'),
        spoof: z.number().int().describe('made-up source EUI64s rotated (0: its own)'),
      },
    },
    'attacker-send': {
      description: 'The attacker sent an Inter-PAN frame.',
      fields: {
        what: z.string().describe('`flood`, `unknown-issuer`, `foreign-certificate`, `malformed:<kind>`'),
        source: eui64Field.describe('the source it claimed'),
        octets: z.number().int().describe('PSDU length'),
      },
    },
    'attacker-no-target': {
      description:
        'Nothing was sent: no target (scan first) or, for an insider, not joined or the address unknown.',
      fields: {
        what: z.string().describe('what it would have sent (as `attacker-send`, `insider:<attack>`)'),
        reason: z.enum(['not-joined', 'target-address-unknown']).optional().describe('(insider)'),
      },
    },
    'attacker-replay': {
      description: 'Captured Inter-PAN frames were sent again verbatim.',
      fields: { frames: z.number().int().describe('frames re-sent') },
    },
    'attacker-response': {
      description: 'An answer reached the attacker.',
      fields: {
        from: eui64Field,
        clusterId: z.number().int().optional().describe('not Key Establishment'),
        command: z.string().optional().describe('the Key Establishment command'),
        status: z.number().int().optional().describe("a Terminate's status"),
        waitTime: z.number().int().optional().describe("a Terminate's wait time, seconds"),
        undecodable: z.string().optional().describe('why it did not decode'),
      },
    },
    'attacker-joined': {
      description: 'The insider tried to join with its logged install code.',
      fields: {
        result: z.enum(['joined', 'no-network', 'refused', 'no-key', 'busy', 'powered-off']),
        short: z.number().int().describe('its short address'),
      },
    },
    'attacker-insider': {
      description: 'The insider sent a forgery under the network key.',
      fields: {
        attack: z.enum(INSIDER_ATTACKS),
        target: eui64Field.describe('the meter attacked'),
        octets: z.number().int(),
      },
    },
  },
);

export type AttackerTraceEvent = TraceEventOf<typeof ATTACKER_TRACE_EVENTS>;

/** What attacker code may trace: its own events and the stack's. */
export type AttackerEmitted = AttackerTraceEvent | AppEmitted;

/** `host.trace(event)`, with the compiler holding `event` to its declaration. */
export function traceAttacker(host: { trace(event: DeviceTraceEvent): void }, event: AttackerEmitted): void {
  host.trace(event);
}
