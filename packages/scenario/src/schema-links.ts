/**
 * A scenario's wired/IP links: the `links:` section (members by device id, outages as
 * durations) and the timeline actions that change a link at run time (`wlan-down`, `wlan-up`,
 * `link-state`, `link-delay`, `link-loss`, `link-set`). Apart from schema.ts, which only calls
 * these, so the scenario loader stays one concern per file.
 */
import {
  type LinkChange,
  type LinkConfig,
  latencySchema,
  linkIssue,
  linksConfigFields,
  lossSchema,
} from '@gbhan/radio-bus';
import { duration } from '@gbhan/stack';
import { z } from 'zod';

/** The `links:` section as written: members are device ids (or EUI64s), outages durations. */
export const LinksSectionSchema = linksConfigFields(z.string(), duration);

const link = z.string();
/** Timeline actions without a device that change a link: action -> its args' schema. */
export const LINK_ACTIONS: Record<string, z.ZodType<{ link: string } & LinkChange>> = {
  'wlan-down': z.strictObject({ link }).transform((a) => ({ ...a, up: false })),
  'wlan-up': z.strictObject({ link }).transform((a) => ({ ...a, up: true })),
  'link-state': z.strictObject({ link, up: z.boolean() }),
  'link-delay': z.strictObject({ link, latency: latencySchema }),
  'link-loss': z.strictObject({ link, loss: lossSchema }),
  'link-set': z
    .strictObject({ link, latency: latencySchema.optional(), loss: lossSchema.optional() })
    .refine((a) => a.latency !== undefined || a.loss !== undefined, {
      message: 'link-set changes latency and/or loss',
    }),
};

type Path = (string | number)[];

/**
 * The section with every member resolved to its device's EUI64 (`device` throws the loader's
 * error for an unknown one), checked again: an id and an EUI64 may name one device.
 */
export function resolveLinks(
  section: Record<string, LinkConfig>,
  device: (value: unknown, path: Path) => string,
  fail: (path: Path, message: string) => never,
): Record<string, LinkConfig> {
  const out: Record<string, LinkConfig> = {};
  for (const [name, l] of Object.entries(section)) {
    const members = l.members.map((m, i) => device(m, ['links', name, 'members', i]));
    const resolved = { ...l, members };
    const issue = linkIssue(resolved);
    if (issue !== null) fail(['links', name, ...issue.path], issue.message);
    out[name] = resolved;
  }
  return out;
}

/** The change a link action makes, without its `link`. */
export function linkChange(args: { link: string } & LinkChange): LinkChange {
  const { link: _, ...change } = args;
  return change;
}
