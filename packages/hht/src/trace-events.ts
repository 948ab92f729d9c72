/**
 * The installer's HHT's trace events, declared once in `HHT_TRACE_EVENTS`. Its Inter-PAN
 * pairing events are the shared application runtime's (`@gbhan/stack`).
 */
import { defineTraceEvents, eui64Field, type TraceEventOf } from '@gbhan/radio-bus';
import type { AppEmitted } from '@gbhan/runtime';
import type { DeviceTraceEvent } from '@gbhan/stack';
import { z } from 'zod';

export const HHT_TRACE_EVENTS = defineTraceEvents(
  'hht',
  "The installer's HHT: commissioning (pairing, then joining) and meter reads.",
  {
    'hht-commissioned': {
      description: 'The HHT paired with a CH over Inter-PAN and tried to join its network.',
      fields: {
        ch: eui64Field.describe('the CH paired with'),
        join: z
          .enum(['joined', 'no-network', 'refused', 'no-key', 'busy', 'powered-off'])
          .describe('the join result'),
      },
    },
    'hht-meter-read': {
      description: "A meter's answer to the HHT's read.",
      fields: {
        from: eui64Field,
        values: z
          .array(
            z.strictObject({
              attrId: z.number().int(),
              status: z.number().int(),
              value: z.unknown().describe('the attribute value (null when absent)'),
            }),
          )
          .describe('the Read Attributes records'),
      },
    },
  },
);

export type HhtTraceEvent = TraceEventOf<typeof HHT_TRACE_EVENTS>;

/** What hht code may trace: its own events and the stack's. */
export type HhtEmitted = HhtTraceEvent | AppEmitted;

/** `host.trace(event)`, with the compiler holding `event` to its declaration. */
export function traceHht(host: { trace(event: DeviceTraceEvent): void }, event: HhtEmitted): void {
  host.trace(event);
}
