/**
 * The PPMID as a device kind (scenario type `ppmid`): scenario config, actions (the union
 * `Ppmid.control` dispatches on), trace events, construction and the process entry. The
 * device code is loaded when a PPMID is built.
 */
import { DeviceArgsError } from '@gbhan/runtime';
import {
  action,
  type DeviceKind,
  duration,
  inMicroseconds,
  joinerConfig,
  powerActions,
  ref,
} from '@gbhan/stack';
import { z } from 'zod';
import type { Ppmid, PpmidDeviceConfig } from './ppmid.js';
import { PPMID_TRACE_EVENTS } from './trace-events.js';

const PpmidSchema = z.strictObject({
  ...joinerConfig,
  /** The ESME it serves (default: the scenario's only esme). */
  esme: ref.optional(),
  readPeriod: duration.optional(),
  readGas: z.boolean().optional(),
  /** SECMP0037: not in the Device Log, pair over Inter-PAN (like an HHT) before joining. */
  pairOverInterPan: z.boolean().optional(),
  /** SECMP0038 "enhanced PPMID": passes GBCS commands from the alternative channel onto the HAN. */
  enhanced: z.boolean().optional(),
  /**
   * SECMP0038 attacks: the PPMID (or the consumer's Wi-Fi) is in the attacker's hands
   * (`compromise.ts`): genuine commands, numbered in arrival order, withheld, delayed or reordered.
   */
  compromised: z
    .strictObject({
      withhold: z.array(z.number().int().min(1)).optional(),
      delay: z.strictObject({ commands: z.array(z.number().int().min(1)), by: duration }).optional(),
      reorder: z.array(z.number().int().min(1)).optional(),
    })
    .optional(),
});

export const PPMID_ACTIONS = z.discriminatedUnion('action', [
  ...powerActions,
  action('top-up', { code: z.string() }),
  action('read-meter'),
  action('emergency-credit'),
  /** PECS03: ask the ESME to enable the supply. */
  action('supply-enable'),
  /** A GBCS command arriving on the alternative channel (SECMP0038), as hex. */
  action('alt-channel-command', { hex: z.string().regex(/^([0-9a-fA-F]{2})+$/, 'hex digits') }),
  // A compromised PPMID's injections (config `compromised`; compromise.ts).
  /** The last command captured, passed on again byte for byte. */
  action('attack-replay'),
  /** The last command captured with one bit flipped (default: the middle one). */
  action('attack-tamper', { bit: z.number().int().min(0).optional() }),
  /** A command for the meter made with the keys the attacker holds (supplier2's). */
  action('attack-forge', {
    signer: z.enum(['supplier', 'supplier2']),
    useCase: z.enum(['ECS42', 'ECS43', 'ECS09']).optional(),
  }),
  /** `count` copies of the last command captured, `intervalMs` apart. */
  action('attack-flood', { count: z.number().int().min(1).max(1000), intervalMs: z.number().int().min(0) }),
  /** The last command captured, posted over `link` to another home's PPMID `peer`. */
  action('attack-relay', { link: z.string(), peer: z.string() }),
]);
export type PpmidAction = z.output<typeof PPMID_ACTIONS>;

export const ppmidKind: DeviceKind<PpmidDeviceConfig, Ppmid> = {
  type: 'ppmid',
  gbType: 'PPMID',
  description: 'Prepayment Meter Interface Device (reads the ESME, shows credit, tops up)',
  processOptions: {
    '--alt-channel-port <port>':
      'SECMP0038: serve the alternative channel (POST /gbcs {hex}) as a local JSON endpoint on 127.0.0.1',
  },
  config: PpmidSchema,
  resolveConfig(config, ctx) {
    const { ch, esme, compromised, ...c } = config as z.output<typeof PpmidSchema>;
    const chEui64 = (ch === undefined ? ctx.only(['comms-hub'], ['ch']) : ctx.device(ch, ['ch'])).eui64;
    const esmeEui64 = (esme === undefined ? ctx.only(['esme'], ['esme']) : ctx.device(esme, ['esme'])).eui64;
    const compromise =
      compromised === undefined
        ? undefined
        : {
            ...(compromised.withhold ? { withhold: compromised.withhold } : {}),
            ...(compromised.reorder ? { reorder: compromised.reorder } : {}),
            ...(compromised.delay
              ? { delay: { commands: compromised.delay.commands, byUs: compromised.delay.by } }
              : {}),
          };
    return inMicroseconds({ ...c, chEui64, esmeEui64, compromised: compromise }, [
      'joinRetry',
      'readPeriod',
    ]) as PpmidDeviceConfig;
  },
  actions: PPMID_ACTIONS,
  traceEvents: PPMID_TRACE_EVENTS,
  async create({ radio, nvm, seed, config, onKeyExport, autoPowerOn }) {
    const { Ppmid } = await import('./ppmid.js');
    return new Ppmid({ radio, nvm, seed, config, onKeyExport, autoPowerOn });
  },
  // `--alt-channel-port N`: wall-clock driven (like the meter's optical port), not reproducible.
  async serve(ppmid, radio, option) {
    const port = option('--alt-channel-port');
    if (port === undefined) return null;
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new DeviceArgsError(`--alt-channel-port must be 1..65535, got ${port}`);
    const { startAltChannelEndpoint } = await import('./alt-channel-port.js');
    let sink: (m: Uint8Array) => void = () => {};
    const { target } = ppmid.attachEndpoint((m) => sink(m));
    const { server, toClient } = await startAltChannelEndpoint(n, {
      target,
      wake: () => radio.wake(),
      // Wall clock on purpose: the rate limit guards a real HTTP endpoint against real floods;
      // what it lets through enters the bus's virtual time through wake().
      nowMs: () => Date.now(),
    });
    sink = toClient;
    return server;
  },
};
