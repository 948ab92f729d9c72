/**
 * Zod pieces the device kinds' scenario config and action schemas share (YAML form: durations
 * as text, devices by scenario id). Issues carry `params.gbhan`, the scenario loader's error
 * code, so a bad value is reported with its code, file and line.
 */
import { parseDuration } from '@gbhan/clock';
import { bandOfPage, isValidChannel } from '@gbhan/radio-bus';
import { z } from 'zod';

/** A duration: `90s`, `1m30s`, `2h`, `250ms`, or a number of seconds. Output: microseconds. */
export const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `not a duration: ${JSON.stringify(v)} (use e.g. 90s, 1m30s, 2h, 250ms, or seconds)`,
      params: { gbhan: 'SCENARIO_BAD_DURATION' },
    });
    return z.NEVER;
  }
});

export const u16 = z.number().int().min(0).max(0xffff);
export const hex = (what: string) => z.string().regex(/^([0-9a-fA-F]{2})+$/, `${what}: hex digits`);
export const installCode = hex('install code with its CRC');
/** A device named by its scenario id (or EUI64); the loader turns it into the EUI64. */
export const ref = z.string();

/** Config of every radio device kind: CBKE suite and timing, channels. */
export const commonConfig = {
  /** CBKE certificate suite of the run's test CA: 2 (sect283k1, GB) or 1 (sect163k1). */
  cbkeSuite: z.union([z.literal(1), z.literal(2)]).optional(),
  cbkeTiming: z.enum(['advertised', 'as-fast-as-computed']).optional(),
  /** Channels to scan or form on: page 0 (2.4 GHz) and/or pages 28-31 (GB868; the radio retunes across bands). */
  channels: z
    .array(
      z.strictObject({ page: z.number().int().min(0), channel: z.number().int() }).refine(
        (c) => {
          const band = bandOfPage(c.page);
          return band !== null && isValidChannel(band, c.page, c.channel);
        },
        { message: 'not a channel of 2.4 GHz (page 0, 11-26) or GB868 (pages 28-31)' },
      ),
    )
    .optional(),
};

/** Config of the joining devices (meters, PPMID). */
export const joinerConfig = {
  ...commonConfig,
  installCode,
  /** The Communications Hub (default: the scenario's only comms-hub). */
  ch: ref.optional(),
  /** Time between join attempts while no network takes it. */
  joinRetry: duration.optional(),
};

/** One timeline action: `action` and its arguments (wire form: EUI64s, microseconds). */
export function action<A extends string, S extends z.ZodRawShape = Record<never, never>>(name: A, shape?: S) {
  return z.strictObject({ action: z.literal(name), ...(shape ?? ({} as S)) });
}

/** `power-on` and `power-off`, which every device kind takes (also while off). */
export const powerActions = [action('power-on'), action('power-off')] as const;

/** Keys renamed to their `<key>Us` form (durations in microseconds), undefined ones left out. */
export function inMicroseconds(
  config: Record<string, unknown>,
  keys: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (v === undefined) continue;
    out[keys.includes(k) ? `${k}Us` : k] = v;
  }
  return out;
}
