/**
 * The PPMID's trace events (what it shows, top-ups, emergency credit, its partner key),
 * declared once in `PPMID_TRACE_EVENTS`. The stack's and the shared application runtime's
 * events are in `@gbhan/stack`.
 */
import { defineTraceEvents, eui64Field, type TraceEventOf } from '@gbhan/radio-bus';
import type { AppEmitted } from '@gbhan/runtime';
import type { DeviceTraceEvent } from '@gbhan/stack';
import { z } from 'zod';

export const PPMID_TRACE_EVENTS = defineTraceEvents(
  'ppmid',
  "The PPMID (in-home display): its screen, the consumer's top-ups and emergency credit, the partner key with the ESME.",
  {
    'ppmid-display': {
      description: 'What the screen shows changed (null: not known yet).',
      fields: {
        credit: z.number().nullable().describe('credit remaining, pence'),
        emergencyCredit: z.number().nullable().describe('pence'),
        creditStatus: z.number().nullable().describe('ZCL Credit Status bitmap'),
        electricityWh: z.number().nullable().describe('electricity register, Wh'),
        demandW: z.number().nullable().describe('instantaneous demand, W'),
        gasLitres: z.number().nullable().describe('gas register from the GPF mirror, litres'),
        lastTopUp: z
          .strictObject({ code: z.string(), resultType: z.number().int(), value: z.number() })
          .nullable()
          .describe('the last top-up outcome'),
        updatedAtUs: z.number().int().nullable().describe('virtual time of the update'),
      },
    },
    'ppmid-top-up': {
      description: 'The consumer entered a top-up code: sent to the ESME.',
      fields: { code: z.string().describe('the UTRN'), esme: eui64Field },
    },
    'ppmid-top-up-refused': {
      description: 'A top-up code the PPMID cannot send.',
      fields: { code: z.string().describe('as entered'), reason: z.string() },
    },
    'ppmid-top-up-result': {
      description: "The ESME's answer to a top-up.",
      fields: {
        code: z.string().describe('the UTRN'),
        resultType: z.number().int().describe('ZCL Result Type (0: accepted)'),
        value: z.number().describe('pence credited'),
        credit: z.number().describe('credit remaining, pence'),
      },
    },
    'ppmid-emergency-credit-request': {
      description: 'The consumer asked for emergency credit: sent to the ESME.',
      fields: {},
    },
    'ppmid-emergency-credit': {
      description: "The ESME's answer to the emergency credit request.",
      fields: { accepted: z.boolean() },
    },
    'alt-channel-command': {
      description:
        "SECMP0038: a GBCS command came off the alternative channel; passed unchanged to the CH (PUT in the PPMID's tunnel) or refused.",
      fields: {
        octets: z.number().int(),
        useCase: z.string().nullable().describe('from the grouping header (null: not GBCS)'),
        counter: z.string().nullable().describe('originator counter (decimal)'),
        target: z.string().nullable().describe('recipient system title (hex)'),
        forwarded: z.boolean(),
        reason: z
          .enum([
            'not-enhanced',
            'not-gbcs',
            'too-large',
            'no-tunnel',
            'send-failed',
            'bad-envelope',
            'powered-off',
          ])
          .optional()
          .describe('why it was not passed on'),
      },
    },
    'ppmid-attack': {
      description:
        "SECMP0038 attacks: what a compromised PPMID (or whoever controls the consumer's Wi-Fi) did - to a genuine command off the channel (withhold, delay, reorder, then release) or of its own (replay, tamper, forge, flood, relay to another home's PPMID).",
      fields: {
        attack: z.enum([
          'withhold',
          'delay',
          'release',
          'reorder',
          'replay',
          'tamper',
          'forge',
          'flood',
          'relay',
        ]),
        command: z
          .number()
          .int()
          .nullable()
          .describe('the genuine command, numbered in arrival order (null: an injection)'),
        copy: z.boolean().optional().describe('a retry of a command already seen (same counter)'),
        useCase: z.string().nullable(),
        counter: z.string().nullable().describe('originator counter (decimal)'),
        target: z.string().nullable().optional().describe('recipient system title (hex)'),
        delayUs: z.number().int().optional().describe('`delay` / `release`: how long it is held'),
        after: z
          .number()
          .int()
          .optional()
          .describe('`release` of a reordered command: the command passed on before it'),
        bit: z.number().int().optional().describe('`tamper`: the bit flipped (0 = MSB of octet 0)'),
        signer: z
          .enum(['supplier', 'supplier2'])
          .optional()
          .describe(
            "`forge`: whose name the header carries (signed and MAC'd with supplier2's keys either way)",
          ),
        n: z.number().int().optional().describe('`flood`: the copy, from 1'),
        link: z.string().optional().describe('`relay`: the link it was posted on'),
        to: eui64Field.optional().describe('`relay`: the PPMID it was posted to'),
        reason: z.literal('nothing-captured').optional().describe('nothing done: no command captured yet'),
      },
    },
    'alt-channel-response': {
      description: 'SECMP0038: a GBCS response or alert from the CH, for the alternative channel.',
      fields: {
        octets: z.number().int(),
        useCase: z.string().nullable(),
        counter: z.string().nullable(),
        target: z.string().nullable().describe('recipient system title (hex)'),
      },
    },
    'ppmid-supply-enable-request': {
      description: 'The consumer asked the ESME to enable the supply (PECS03, Local Change Supply).',
      fields: {},
    },
    'ppmid-supply-enable': {
      description: "The ESME's answer to the supply-enable request.",
      fields: { accepted: z.boolean() },
    },
    'ppmid-partner-key': {
      description: 'The partner link key request to the Trust Centre (for CBKE with the ESME) ended.',
      fields: {
        partner: eui64Field.describe('the ESME'),
        result: z.enum(['received', 'no-key', 'not-joined', 'no-link-key', 'no-ack', 'error']),
        message: z.string().optional().describe('the error (`error`)'),
      },
    },
  },
);

export type PpmidTraceEvent = TraceEventOf<typeof PPMID_TRACE_EVENTS>;

/** What ppmid code may trace: its own events and the stack's. */
export type PpmidEmitted = PpmidTraceEvent | AppEmitted;

/** `host.trace(event)`, with the compiler holding `event` to its declaration. */
export function tracePpmid(host: { trace(event: DeviceTraceEvent): void }, event: PpmidEmitted): void {
  host.trace(event);
}
