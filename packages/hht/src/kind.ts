/**
 * The HHT as a device kind (scenario type `hht`): scenario config, actions (the union
 * `Hht.control` dispatches on), trace events, construction and the process entry. The device
 * code is loaded when an HHT is built.
 */
import { action, commonConfig, type DeviceKind, installCode, powerActions, ref } from '@gbhan/stack';
import { z } from 'zod';
import type { Hht, HhtConfig } from './hht.js';
import { HHT_TRACE_EVENTS } from './trace-events.js';

const HhtSchema = z.strictObject({
  ...commonConfig,
  installCode,
  /** The CH to commission (default: the best hub the scan hears). */
  ch: ref.optional(),
  /** The ESME of the installer action `read-meter`. */
  esme: ref.optional(),
  /** Channels of the active scan (2.4 GHz and/or GB868 pages of the radio's band). */
  scanChannels: commonConfig.channels,
  /** Pair at power-on instead of waiting for the `pair` action. */
  autoPair: z.boolean().optional(),
});

export const HHT_ACTIONS = z.discriminatedUnion('action', [
  ...powerActions,
  action('pair'),
  action('scan'),
  /** CBKE with the meter, then a Metering read (default: the configured ESME). */
  action('read-meter', { peer: z.string().optional() }),
]);
export type HhtAction = z.output<typeof HHT_ACTIONS>;

export const hhtKind: DeviceKind<HhtConfig, Hht> = {
  type: 'hht',
  gbType: 'HHT',
  description:
    "installer's Hand Held Terminal (scan, Inter-PAN CBKE + install-code hand-over, join, meter read)",
  config: HhtSchema,
  resolveConfig(config, ctx) {
    const { ch, esme, ...c } = config as z.output<typeof HhtSchema>;
    return {
      ...c,
      ...(ch !== undefined ? { chEui64: ctx.device(ch, ['ch']).eui64 } : {}),
      ...(esme !== undefined ? { esmeEui64: ctx.device(esme, ['esme']).eui64 } : {}),
    } as HhtConfig;
  },
  actions: HHT_ACTIONS,
  traceEvents: HHT_TRACE_EVENTS,
  async create({ radio, nvm, seed, config, onKeyExport, autoPowerOn }) {
    const { Hht } = await import('./hht.js');
    return new Hht({ radio, nvm, seed, config, onKeyExport, autoPowerOn });
  },
};
