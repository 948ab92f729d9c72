/**
 * The medium's configuration as a schema, so a YAML/JSON medium file (or a scenario's
 * `medium:` section) is checked field by field before the bus starts.
 */
import { z } from 'zod';
import type { RadioBusConfig } from './bus.js';

const band = z.enum(['2.4GHz', 'GB868']);
const position = z.strictObject({ x: z.number(), y: z.number(), z: z.number().optional() });
const bandModel = z
  .strictObject({
    referenceLossDb: z.number(),
    referenceDistanceM: z.number().positive(),
    pathLossExponent: z.number().positive(),
    wallLossDb: z.number().min(0),
    defaultSensitivityDbm: z.number(),
    defaultTxPowerDbm: z.number(),
    shadowingSigmaDb: z.number().min(0),
    lqiSpanDb: z.number().positive(),
  })
  .partial();
const timing = z
  .strictObject({
    shrBytes: z.number().int().min(0),
    phrBytes: z.number().int().min(0),
    usPerByte: z.number().positive(),
    maxPsduBytes: z.number().int().min(1).max(2047),
  })
  .partial();

export const MediumConfigSchema = z.strictObject({
  seed: z.union([z.number().int(), z.string()]).optional(),
  bands: z.strictObject({ '2.4GHz': bandModel.optional(), GB868: bandModel.optional() }).optional(),
  timing: z.strictObject({ '2.4GHz': timing.optional(), GB868: timing.optional() }).optional(),
  walls: z
    .array(
      z.strictObject({
        from: z.tuple([z.number(), z.number()]),
        to: z.tuple([z.number(), z.number()]),
        lossDb: z.number().min(0).optional(),
      }),
    )
    .optional(),
  lossRate: z.number().min(0).max(1).optional(),
  captureThresholdDb: z.number().min(0).nullable().optional(),
  dutyCycle: z
    .strictObject({
      limitedPercent: z.number().positive(),
      criticalPercent: z.number().positive(),
      suspendedPercent: z.number().positive(),
    })
    .partial()
    .optional(),
  jammers: z
    .array(
      z.strictObject({
        band,
        page: z.number().int(),
        channel: z.number().int(),
        position,
        txPowerDbm: z.number(),
        startUs: z.number().int().min(0),
        endUs: z.number().int().min(0),
      }),
    )
    .optional(),
  idleTimeoutMs: z.number().int().min(0).optional(),
  expectRadios: z.number().int().min(0).optional(),
});

export class BusConfigError extends Error {
  readonly code = 'BUS_CONFIG';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`medium config: ${field}: ${message}`);
    this.name = 'BusConfigError';
  }
}

/** Validate a medium configuration object (from YAML or JSON). */
export function parseMediumConfig(value: unknown): RadioBusConfig {
  const r = MediumConfigSchema.safeParse(value ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new BusConfigError(issue.path.join('.') || '(root)', issue.message);
  }
  return r.data as RadioBusConfig;
}
