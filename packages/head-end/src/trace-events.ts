/**
 * The Supplier head-end's trace events, declared once in `HEAD_END_TRACE_EVENTS`.
 */
import { defineTraceEvents, type TraceEventOf } from '@gbhan/radio-bus';
import type { DeviceTraceEvent } from '@gbhan/stack';
import { z } from 'zod';

const outcome = z.strictObject({
  command: z.string().describe("the head-end's id for it (`<home>/<n>`)"),
  home: z.string(),
  request: z.string().describe('what the customer asked for (`top-up`, `supply-enable`, ...)'),
  status: z.enum(['delivered', 'failed']),
  via: z.enum(['wan', 'ppmid']).nullable().describe('the route that delivered it (null: failed)'),
  requestedAtUs: z.number().int(),
  atUs: z.number().int().describe('virtual time delivered (or given up)'),
  attempts: z.number().int(),
  reason: z.string().optional().describe('why it failed'),
});

export const HEAD_END_TRACE_EVENTS = defineTraceEvents(
  'head-end',
  "The Supplier head-end (not a HAN device): requests to the DCC over a link and, with the WAN failed, through the home's enhanced PPMID (SECMP0038).",
  {
    'head-end-request': {
      description: 'A customer request reached the head-end (e.g. a top-up by phone).',
      fields: {
        command: z.string(),
        home: z.string(),
        request: z.string(),
      },
    },
    'head-end-attempt': {
      description:
        'One attempt at a command: by the WAN (the DCC accepted it, or said why not), then - with the WAN failed for `fallbackAfter` and an enhanced PPMID - through the PPMID.',
      fields: {
        command: z.string(),
        attempt: z.number().int(),
        via: z.enum(['wan', 'ppmid']),
        result: z
          .string()
          .describe('`accepted` (WAN), `sent` (to the PPMID), or the error code / drop reason'),
      },
    },
    'head-end-outcome': {
      description: 'A command ended: delivered by the WAN or through the PPMID, or failed.',
      fields: outcome.shape,
    },
    'head-end-report': {
      description: 'The outcomes so far (action `outcome-report`), in request order; pending ones too.',
      fields: {
        outcomes: z.array(
          outcome.extend({ status: z.enum(['delivered', 'failed', 'pending']), via: outcome.shape.via }),
        ),
      },
    },
    'head-end-dropped': {
      description: 'A link message the head-end could not use (not JSON, unknown request id, bad envelope).',
      fields: {
        link: z.string(),
        from: z.string(),
        reason: z.string(),
      },
    },
  },
);

export type HeadEndTraceEvent = TraceEventOf<typeof HEAD_END_TRACE_EVENTS>;

/** `host.trace(event)`, with the compiler holding `event` to its declaration. */
export function traceHeadEnd(
  host: { trace(event: DeviceTraceEvent): void },
  event: HeadEndTraceEvent | { type: 'control-refused'; action: string; reason: string },
): void {
  host.trace(event as DeviceTraceEvent);
}
