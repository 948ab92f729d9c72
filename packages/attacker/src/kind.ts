/**
 * The attacker as a device kind (scenario type `attacker`): scenario config, actions (the
 * union `Attacker.control` dispatches on), trace events, construction and the process entry.
 * The device code is loaded when an attacker is built.
 */
import {
  action,
  commonConfig,
  type DeviceKind,
  duration,
  installCode,
  powerActions,
  ref,
  u16,
} from '@gbhan/stack';
import { z } from 'zod';
import type { Attacker, AttackerConfig } from './attacker.js';
import { ATTACKER_TRACE_EVENTS } from './trace-events.js';

const AttackerSchema = z.strictObject({
  ...commonConfig,
  /** The CH to attack (default: the first hub the scan hears). */
  target: ref.optional(),
  targetPanId: u16.optional(),
  capture: z.boolean().optional(),
  /** An insider: its install code, logged in the target CH's Device Log; `join` gets it the network key. */
  installCode: installCode.optional(),
});

const flood = {
  count: z.number().int().min(1).max(10_000).optional(),
  spoof: z.number().int().min(0).max(1024).optional(),
  certificate: z.enum(['unknown-issuer', 'foreign']).optional(),
};

export const ATTACKER_ACTIONS = z.discriminatedUnion('action', [
  ...powerActions,
  action('scan'),
  /** `interval` in microseconds (the scenario gives a duration). */
  action('flood', {
    count: flood.count,
    interval: z.number().min(0).optional(),
    spoof: flood.spoof,
    certificate: flood.certificate,
  }),
  action('malformed', { kinds: z.array(z.string()).optional() }),
  action('unknown-issuer'),
  action('foreign-certificate', { peer: z.string().optional() }),
  action('replay', { count: z.number().int().min(1).optional() }),
  action('join'),
  action('insider', {
    target: z.string(),
    attacks: z.array(z.enum(['nwk-leave', 'mgmt-leave', 'spoofed-leave', 'transport-key'])).optional(),
  }),
]);
export type AttackerAction = z.output<typeof ATTACKER_ACTIONS>;

export const attackerKind: DeviceKind<AttackerConfig, Attacker> = {
  type: 'attacker',
  description:
    'rogue radio: scan, Initiate Key Establishment floods, malformed Inter-PAN, foreign certificates, replays',
  config: AttackerSchema,
  resolveConfig(config, ctx) {
    const { target, ...c } = config as z.output<typeof AttackerSchema>;
    const out: Record<string, unknown> = { ...c };
    if (target !== undefined) out.targetEui64 = ctx.device(target, ['target']).eui64;
    if (c.installCode !== undefined && out.targetEui64 === undefined)
      ctx.fail(['installCode'], 'an insider needs target (its CH)');
    return out as AttackerConfig;
  },
  actions: ATTACKER_ACTIONS,
  scenarioArgs: {
    flood: z.strictObject({
      count: flood.count,
      interval: duration.optional(),
      spoof: flood.spoof,
      certificate: flood.certificate,
    }),
  },
  traceEvents: ATTACKER_TRACE_EVENTS,
  async create({ radio, nvm, seed, config, onKeyExport, autoPowerOn }) {
    const { Attacker } = await import('./attacker.js');
    return new Attacker({ radio, nvm, seed, ...(config ? { config } : {}), onKeyExport, autoPowerOn });
  },
};
