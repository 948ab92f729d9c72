/**
 * The medium's configuration as a schema, so a YAML/JSON medium file (or a scenario's
 * `medium:` section) is checked field by field before the bus starts.
 */
import { z } from 'zod';
import type { RadioBusConfig } from './bus.js';
import { linksConfigFields } from './link-config.js';
import { BANDS, type Band } from './phy.js';
import type { MatrixLink, PropagationModelName } from './propagation.js';

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

const EUI64_RE = /^[0-9a-fA-F]{16}$/;
/** A radio in a matrix link: 16 hex digits, output lowercase. */
export const radioEui64 = z.unknown().transform((v, ctx) => {
  if (typeof v === 'string' && EUI64_RE.test(v)) return v.toLowerCase();
  ctx.addIssue({
    code: 'custom',
    message: `not an EUI64: ${JSON.stringify(v)} (16 hex digits${typeof v === 'number' ? ', in quotes if all digits' : ''})`,
  });
  return z.NEVER;
});

const freeSpaceBand = z.strictObject({ frequencyMHz: z.number().positive().optional() });

/**
 * The medium's schema; `radio` checks a matrix link's ends (EUI64s here, a scenario also
 * takes device ids). Rules across fields are `mediumModelIssue`'s: `MediumConfigSchema` has
 * them, a schema of your own adds them with `superRefine(checkMediumModel)`.
 */
export function mediumConfigFields(radio: z.ZodType<string> = radioEui64) {
  return z.strictObject({
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
    model: z.enum(['log-distance', 'free-space', 'matrix']).optional(),
    freeSpace: z
      .strictObject({ '2.4GHz': freeSpaceBand.optional(), GB868: freeSpaceBand.optional() })
      .optional(),
    matrix: z
      .strictObject({
        links: z.array(
          z.strictObject({
            from: radio,
            to: radio,
            lossDb: z.number().min(0),
            reverseLossDb: z.number().min(0).optional(),
            band: band.optional(),
          }),
        ),
        defaultLossDb: z.number().min(0).optional(),
      })
      .optional(),
    /** Wired/IP links (members are EUI64s here; a scenario has its own `links:` section). */
    links: linksConfigFields(radio).optional(),
  });
}

/** Band-model fields only the log-distance model reads (the others are the radios' own). */
const LOG_DISTANCE_FIELDS = [
  'referenceLossDb',
  'referenceDistanceM',
  'pathLossExponent',
  'wallLossDb',
  'shadowingSigmaDb',
] as const;

export interface MediumIssue {
  path: (string | number)[];
  message: string;
}

/** What `mediumModelIssue` looks at. */
export interface MediumModelFields {
  model?: PropagationModelName;
  walls?: readonly unknown[];
  bands?: Partial<Record<Band, Partial<Record<string, unknown>>>>;
  freeSpace?: unknown;
  matrix?: { links: readonly MatrixLink[]; defaultLossDb?: number };
}

/**
 * The first rule across fields a medium breaks, or null: parameters belong to the model
 * chosen, a matrix lists each pair once, and a field nothing would read is refused rather
 * than silently ignored.
 */
export function mediumModelIssue(c: MediumModelFields): MediumIssue | null {
  const model = c.model ?? 'log-distance';
  if (c.freeSpace !== undefined && model !== 'free-space')
    return { path: ['freeSpace'], message: `only with model: free-space (the model is ${model})` };
  if (c.matrix !== undefined && model !== 'matrix')
    return { path: ['matrix'], message: `only with model: matrix (the model is ${model})` };
  if (model === 'matrix' && c.matrix === undefined)
    return {
      path: ['matrix'],
      message: 'required with model: matrix ({ links: [{ from, to, lossDb }], defaultLossDb? })',
    };
  const unused =
    model === 'free-space'
      ? 'the free-space model'
      : model === 'matrix' && c.matrix?.defaultLossDb !== undefined
        ? 'the matrix model with defaultLossDb'
        : null;
  if (unused !== null) {
    if (c.walls !== undefined && c.walls.length > 0)
      return { path: ['walls'], message: `not used by ${unused} (only the log-distance model has walls)` };
    for (const b of BANDS)
      for (const f of LOG_DISTANCE_FIELDS)
        if (c.bands?.[b]?.[f] !== undefined)
          return {
            path: ['bands', b, f],
            message: `not used by ${unused} (a log-distance model parameter)`,
          };
  }
  const seen = new Map<string, number>();
  for (const [i, l] of (c.matrix?.links ?? []).entries()) {
    if (l.from === l.to)
      return { path: ['matrix', 'links', i, 'to'], message: `a link from ${l.from} to itself` };
    const [a, b] = l.from < l.to ? [l.from, l.to] : [l.to, l.from];
    for (const band of l.band === undefined ? BANDS : [l.band]) {
      const first = seen.get(`${band}|${a}|${b}`);
      if (first !== undefined)
        return {
          path: ['matrix', 'links', i],
          message: `${l.from} - ${l.to} on ${band} is already given by matrix.links.${first}`,
        };
      seen.set(`${band}|${a}|${b}`, i);
    }
  }
  return null;
}

/** `mediumModelIssue` as a zod refinement. */
export function checkMediumModel(value: MediumModelFields, ctx: z.RefinementCtx): void {
  const issue = mediumModelIssue(value);
  if (issue !== null) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
}

export const MediumConfigSchema = mediumConfigFields().superRefine(checkMediumModel);

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
