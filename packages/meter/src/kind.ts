/**
 * The meters as device kinds (scenario types `esme` and `gsme`): scenario config, actions
 * (the unions `Esme.control` and `Gsme.control` dispatch on), trace events, construction and
 * the process entry (`gbhan device esme|gsme ... [--optical-port N]`). The device code is
 * loaded when a meter is built.
 */
import type { BusRadio } from '@gbhan/radio-bus';
import { DeviceArgsError } from '@gbhan/runtime';
import {
  action,
  type CreateOptions,
  type DeviceKind,
  duration,
  hex,
  inMicroseconds,
  joinerConfig,
  powerActions,
  type ResolveContext,
} from '@gbhan/stack';
import { z } from 'zod';
import type { Esme, EsmeDeviceConfig, Gsme, GsmeDeviceConfig } from './devices.js';
import { METER_TRACE_EVENTS } from './trace-events.js';

/** Meter device triage: the optical port's manufacturer key and unlock timeout. */
const triage = {
  /** Manufacturer P-256 public key (hex); default: the run's manufacturer key. */
  manufacturerPublicKey: hex('manufacturer public key').optional(),
  opticalUnlockTimeout: duration.optional(),
};

const prepayment = z
  .strictObject({
    initialCredit: z.number().optional(),
    /** Pence per kWh (ESME) or per m3 (GSME). */
    pricePerKwh: z.number().optional(),
    emergencyCreditLimit: z.number().optional(),
    emergencyCreditThreshold: z.number().optional(),
    lowCreditThreshold: z.number().optional(),
    maxCredit: z.number().optional(),
  })
  .optional();

const EsmeSchema = z.strictObject({
  ...joinerConfig,
  ...triage,
  loadW: z.number().min(0).optional(),
  initialWh: z.number().min(0).optional(),
  prepayment,
});

const GsmeSchema = z.strictObject({
  ...joinerConfig,
  ...triage,
  flowLitresPerHour: z.number().min(0).optional(),
  initialLitres: z.number().min(0).optional(),
  reportPeriod: duration.optional(),
  pollPeriod: duration.optional(),
  prepayment,
});

/** The optical port (device triage), through the control path. */
const optical = action('optical', {
  command: z.enum(['status', 'challenge', 'unlock', 'reset-han', 'read-diagnostics', 'leave-facility']),
  /** unlock: a given value (hex) instead of the run's manufacturer tool signing. */
  signature: z.string().optional(),
});
export type OpticalAction = z.output<typeof optical>;

export const ESME_ACTIONS = z.discriminatedUnion('action', [
  ...powerActions,
  action('set-load', { watts: z.number().min(0) }),
  action('emergency-credit'),
  action('top-up', { code: z.string() }),
  optical,
]);
export type EsmeAction = z.output<typeof ESME_ACTIONS>;

export const GSME_ACTIONS = z.discriminatedUnion('action', [
  ...powerActions,
  action('set-flow', { litresPerHour: z.number().min(0) }),
  action('wake'),
  optical,
]);
export type GsmeAction = z.output<typeof GSME_ACTIONS>;

/** The CH as an EUI64 (default: the scenario's only comms-hub), durations as `<name>Us`. */
function resolveMeter<C>(durations: readonly string[]) {
  return (config: unknown, ctx: ResolveContext): C => {
    const { ch, ...c } = config as Record<string, unknown>;
    const chEui64 = (ch === undefined ? ctx.only(['comms-hub'], ['ch']) : ctx.device(ch, ['ch'])).eui64;
    return inMicroseconds({ ...c, chEui64 }, durations) as C;
  };
}

/**
 * A meter's options: the run's manufacturer public key unless its config names another, and
 * the run's manufacturer tool (for `optical unlock` without a signature) when there is one.
 */
async function meterOptions<C>(o: CreateOptions<C>) {
  const { radio, nvm, seed, onKeyExport, autoPowerOn, manufacturer: m } = o;
  if (m === undefined) return { radio, nvm, seed, config: o.config, onKeyExport, autoPowerOn };
  const meter = await import('./manufacturer.js');
  const pair =
    m.secretKey !== undefined
      ? meter.parseManufacturerSecretKey(m.secretKey)
      : m.secretKeyFile !== undefined
        ? meter.readManufacturerSecretKeyFile(m.secretKeyFile)
        : null;
  return {
    radio,
    nvm,
    seed,
    config: { manufacturerPublicKey: m.publicKey, ...o.config },
    ...(pair ? { manufacturerTool: new meter.ManufacturerTool(pair.secretKey) } : {}),
    onKeyExport,
    autoPowerOn,
  };
}

/** `--optical-port N`: the optical port as a local JSON endpoint for `gbhan optical` (wall-clock driven). */
async function serveOptical(
  meter: Esme | Gsme,
  radio: BusRadio,
  option: (name: string) => string | undefined,
) {
  const port = option('--optical-port');
  if (port === undefined) return null;
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new DeviceArgsError(`--optical-port must be 1..65535, got ${port}`);
  const { startOpticalEndpoint } = await import('./optical-endpoint.js');
  return startOpticalEndpoint(meter.triage, radio, n);
}

const processOptions = { '--optical-port <port>': 'serve the optical port on 127.0.0.1 for `gbhan optical`' };

export const esmeKind: DeviceKind<EsmeDeviceConfig, Esme> = {
  type: 'esme',
  gbType: 'ESME',
  description: 'electricity smart meter (Metering, Prepayment, GB-HGRP tunnel server)',
  processOptions,
  config: EsmeSchema,
  resolveConfig: resolveMeter(['joinRetry', 'opticalUnlockTimeout']),
  actions: ESME_ACTIONS,
  traceEvents: METER_TRACE_EVENTS,
  usesManufacturerKey: true,
  async create(o) {
    const { Esme } = await import('./devices.js');
    return new Esme(await meterOptions(o));
  },
  serve: serveOptical,
};

export const gsmeKind: DeviceKind<GsmeDeviceConfig, Gsme> = {
  type: 'gsme',
  gbType: 'GSME',
  description: 'gas smart meter (sleepy, reports to the GPF, GB-HGRP tunnel client of the GPF)',
  processOptions,
  config: GsmeSchema,
  resolveConfig: resolveMeter(['joinRetry', 'reportPeriod', 'pollPeriod', 'opticalUnlockTimeout']),
  actions: GSME_ACTIONS,
  traceEvents: METER_TRACE_EVENTS,
  usesManufacturerKey: true,
  async create(o) {
    const { Gsme } = await import('./devices.js');
    return new Gsme(await meterOptions(o));
  },
  serve: serveOptical,
};
