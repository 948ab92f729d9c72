/**
 * The meters' trace events (ESME, GSME: metering, prepayment, device triage), declared once
 * in `METER_TRACE_EVENTS`. The stack's and the shared application runtime's events are in
 * `@gbhan/stack`.
 */
import { defineTraceEvents, eui64Field, listOf, type TraceEventOf } from '@gbhan/radio-bus';
import type { AppEmitted } from '@gbhan/runtime';
import type { DeviceTraceEvent } from '@gbhan/stack';
import { z } from 'zod';
import type { OpticalErrorCode } from './optical-port.js';

// A type only: a catalogue loads no protocol code.
const OPTICAL_ERROR_CODES = listOf<OpticalErrorCode>()([
  'OPTICAL_UNKNOWN_COMMAND',
  'OPTICAL_LOCKED',
  'OPTICAL_NO_CHALLENGE',
  'OPTICAL_CHALLENGE_EXPIRED',
  'OPTICAL_BAD_SIGNATURE',
  'OPTICAL_NO_MANUFACTURER_KEY',
  'OPTICAL_RATE_LIMITED',
  'OPTICAL_RESET_FAILED',
  'OPTICAL_NVM',
  'OPTICAL_POWERED_OFF',
]);

const pence = z.number().describe('pence');

export const METER_TRACE_EVENTS = defineTraceEvents(
  'meter',
  'The meters: load and supply, prepayment credit and top-ups, the GSME check-in, the optical port and Reset HAN.',
  {
    'esme-load': {
      description: "The ESME's load changed (action `set-load`).",
      fields: { watts: z.number() },
    },
    'supply-interrupted': {
      description:
        'The meter cut the supply (credit and emergency credit exhausted; the GSME closes its valve).',
      fields: {},
    },
    'supply-restored': {
      description: 'The meter restored the supply (a top-up or emergency credit).',
      fields: {},
    },
    'credit-exhausted': {
      description: 'Prepayment credit ran out.',
      fields: { emergencyCreditActive: z.boolean() },
    },
    'emergency-credit-activated': {
      description: 'Emergency credit was activated.',
      fields: { amount: pence.describe('the emergency credit limit, pence') },
    },
    'emergency-credit-refused': {
      description: 'Emergency credit was refused (credit not below the threshold).',
      fields: { credit: pence.describe('credit remaining, pence') },
    },
    'top-up-accepted': {
      description: 'A top-up code (UTRN) was accepted.',
      fields: {
        code: z.string().describe('the UTRN'),
        amount: pence,
        credit: pence.describe('credit after, pence'),
        originatingDevice: z.number().int().describe('ZCL OriginatingDevice (0: ESI, 2: IHD, ...)'),
      },
    },
    'top-up-rejected': {
      description: 'A top-up code was rejected.',
      fields: {
        code: z.string().describe('the UTRN'),
        reason: z.string().describe('why (`not a 20-digit UTRN`, `UTRN already used`, ...)'),
        originatingDevice: z.number().int(),
      },
    },
    'consumer-top-up': {
      description: 'The ESME answered a Consumer Top Up from a HAN device.',
      fields: {
        from: eui64Field,
        resultType: z.number().int().describe('ZCL Result Type (0: accepted)'),
        value: pence.describe('the value credited, pence'),
      },
    },
    'gsme-check-in': {
      description: 'The GSME woke and reported its register to the GPF.',
      fields: { summation: z.number().describe('litres') },
    },
    'gsme-tunnel': {
      description: "The GSME's GB-HGRP tunnel to the GPF (the GSME is tunnel client).",
      fields: {
        state: z.enum(['requested', 'open', 'failed', 'lost']),
        why: z
          .string()
          .optional()
          .describe(
            '`after-cbke`, `joined`, `wake` (requested); `no-response`, `status-<n>`, `send-<status>` (failed); the ZCL notice (lost)',
          ),
        tunnelId: z.number().int().optional().describe('(open)'),
      },
    },
    'gsme-get': {
      description: 'The GSME sent GET (`01`) through its tunnel: the GPF answers with the next GBCS message.',
      fields: {
        why: z
          .enum(['wake', 'tunnel-open', 'remaining'])
          .describe('a wake-up, the tunnel just opened, or the last GET-RESPONSE said more wait'),
      },
    },
    'gsme-get-response': {
      description: 'A GET-RESPONSE (`02`) from the GPF reached the GSME (its message is checked next).',
      fields: {
        remaining: z.number().int().describe('messages still waiting at the GPF'),
        octets: z.number().int().describe('size of the GBCS message'),
      },
    },
    optical: {
      description: 'A request on the optical port was answered.',
      fields: {
        command: z
          .string()
          .describe(
            '`status`, `challenge`, `unlock`, `reset-han`, `read-diagnostics`, `leave-facility` (or what was sent)',
          ),
        ok: z.boolean(),
        code: z.enum(OPTICAL_ERROR_CODES).optional().describe('why it was refused'),
      },
    },
    'optical-relocked': {
      description: 'The optical port locked again.',
      fields: { reason: z.enum(['timeout', 'power-cycle', 'leave-facility']) },
    },
    'reset-han': {
      description: "Reset HAN was applied: the meter's HAN state is gone (the state diff of its store).",
      fields: {
        changed: z.array(z.string()).describe('NVM keys changed or removed'),
        keptUnchanged: z.boolean().describe('every other key hashes the same before and after'),
        keptHash: z.string().describe('SHA-256 of the other keys'),
        removedLinkKeys: z.array(z.string()).describe('peers whose link keys went'),
        removedDeviceLogEntries: z.array(z.string()),
      },
    },
    'gbcs-command-executed': {
      description:
        'A GBCS Remote Party command passed every check (MAC, signature when critical, recipient, originator counter) and ran; its counter was persisted first.',
      fields: {
        from: eui64Field.describe('the device that carried it (the CH for the tunnel)'),
        via: z.enum(['tunnel', 'han']),
        useCase: z.string().describe('GBCS use case, e.g. `CS01a`'),
        originator: z.string().describe("the business originator's system title (hex)"),
        counter: z.string().describe('originator counter (decimal)'),
        result: z.string().describe('what it did, e.g. `accepted 500`, `load-switch-open`'),
      },
    },
    'gbcs-command-refused': {
      description:
        'A GBCS command (or a bare ZCL frame where GBCS is required) was refused and not run; it is in the Security Log and alerted.',
      fields: {
        from: eui64Field,
        via: z.enum(['tunnel', 'han']),
        reason: z.enum([
          'malformed',
          'not-a-command',
          'wrong-recipient',
          'unknown-originator',
          'unknown-use-case',
          'bad-mac',
          'unsigned-critical',
          'bad-signature',
          'stale-counter',
          'not-gbcs',
        ]),
        detail: z.string(),
        field: z.string().optional().describe('for `malformed`: the layer.field that failed to decode'),
        alertCode: z.number().int().describe('GB alert code raised (0x8F1E, 0x8F30, 0x8F3D or 0x8F53)'),
      },
    },
    'gbcs-local-command': {
      description:
        'A PPMID request on the HAN, under its GBCS use case: PECS01 top-up, PECS02 emergency credit, PECS03 supply enable (ZCL, not a Remote Party command).',
      fields: {
        useCase: z.enum(['PECS01', 'PECS02', 'PECS03']),
        from: eui64Field,
        result: z
          .string()
          .describe('`accepted <pence>`, `emergency-credit-activated`, `supply-on`, `refused...`'),
      },
    },
    'load-switch': {
      description: 'A remote command opened (ECS43) or closed (ECS42) the load switch.',
      fields: { state: z.enum(['open', 'closed']), by: eui64Field },
    },
    'meter-clock-set': {
      description: 'ECS70 (ESME) or GCS28 (GSME) set the meter clock.',
      fields: {
        epochSeconds: z.number().int().describe('the time set (Unix seconds)'),
        offsetS: z.number().int().describe('meter clock minus virtual UTC, seconds'),
        by: eui64Field,
      },
    },
    'device-log-ch-added': {
      description: 'After a Reset HAN, the CH that admitted the meter went into its Device Log.',
      fields: { eui64: eui64Field },
    },
  },
);

export type MeterTraceEvent = TraceEventOf<typeof METER_TRACE_EVENTS>;

/** What meter code may trace: its own events and the stack's. */
export type MeterEmitted = MeterTraceEvent | AppEmitted;

/** `host.trace(event)`, with the compiler holding `event` to its declaration. */
export function traceMeter(host: { trace(event: DeviceTraceEvent): void }, event: MeterEmitted): void {
  host.trace(event);
}
