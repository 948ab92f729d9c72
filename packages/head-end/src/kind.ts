/**
 * The Supplier head-end as a device kind (scenario type `head-end`, GB type `HES`): not a HAN
 * device - it talks over the bus's wired/IP links only (README). The device code is loaded
 * when a head-end is built.
 */
import { action, type DeviceKind, duration, inMicroseconds, ref } from '@gbhan/stack';
import { z } from 'zod';
import type { HeadEnd, HeadEndConfig } from './head-end.js';
import { HEAD_END_TRACE_EVENTS } from './trace-events.js';

const HeadEndSchema = z.strictObject({
  /** The link to the DCC (default `dcc`). */
  dccLink: z.string().optional(),
  /** The WAN must have failed this long before the PPMID route is used (default 10m). */
  fallbackAfter: duration.optional(),
  /** Time between attempts (default 5m). */
  retryEvery: duration.optional(),
  /** Attempts before a command has failed (default 12). */
  maxAttempts: z.number().int().min(1).optional(),
  /** An unanswered DCC request fails after this (default 30s). */
  dccReplyTimeout: duration.optional(),
  homes: z
    .array(
      z.strictObject({
        id: z.string(),
        ch: ref,
        /** The meter the home's requests are for. */
        meter: ref,
        /** The home's enhanced PPMID and the WLAN link to it (both or neither). */
        ppmid: ref.optional(),
        wlan: z.string().optional(),
      }),
    )
    .min(1),
});

export const HEAD_END_ACTIONS = z.discriminatedUnion('action', [
  /** A customer's request (e.g. by phone): `home` is a home id (or the meter's EUI64). */
  action('request', {
    home: z.string(),
    request: z.enum(['top-up', 'supply-enable', 'supply-disable', 'emergency-credit']),
    code: z.string().optional(),
  }),
  /** Trace `head-end-report`: every command's outcome so far. */
  action('outcome-report'),
]);
export type HeadEndAction = z.output<typeof HEAD_END_ACTIONS>;

export const headEndKind: DeviceKind<HeadEndConfig, HeadEnd> = {
  type: 'head-end',
  gbType: 'HES',
  description:
    "Supplier head-end (not a HAN device): DCC requests over a link; SECMP0038 fallback via the home's PPMID",
  config: HeadEndSchema,
  resolveConfig(config, ctx) {
    const { homes, ...c } = config as z.output<typeof HeadEndSchema>;
    const resolved = homes.map((h, i) => {
      if ((h.ppmid === undefined) !== (h.wlan === undefined))
        ctx.fail(['homes', i], 'give both ppmid and wlan (the link to it), or neither');
      return {
        id: h.id,
        chEui64: ctx.device(h.ch, ['homes', i, 'ch']).eui64,
        meterEui64: ctx.device(h.meter, ['homes', i, 'meter']).eui64,
        ...(h.ppmid !== undefined ? { ppmidEui64: ctx.device(h.ppmid, ['homes', i, 'ppmid']).eui64 } : {}),
        ...(h.wlan !== undefined ? { wlan: h.wlan } : {}),
      };
    });
    return {
      ...inMicroseconds(c, ['fallbackAfter', 'retryEvery', 'dccReplyTimeout']),
      homes: resolved,
    } as HeadEndConfig;
  },
  actions: HEAD_END_ACTIONS,
  traceEvents: HEAD_END_TRACE_EVENTS,
  async create({ radio, config }) {
    const { HeadEnd } = await import('./head-end.js');
    return new HeadEnd(radio, config);
  },
};
