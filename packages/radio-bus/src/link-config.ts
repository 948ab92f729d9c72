/**
 * Wired/IP links on the bus: their configuration, as a schema, and their limits and drop reasons.
 *
 * Kept apart from the runtime (links.ts) so the trace catalogue, the medium file's schema and
 * a scenario's `links:` section can all use it without loading the bus. The bus carries opaque
 * bytes over a link: it knows nothing of what they are (ZigBee, GBCS, IP ...).
 */
import { z } from 'zod';

/** Most octets one `link-send` may carry (2 KiB: 2732 base64 characters fit in a 4096-byte message). */
export const LINK_MAX_DATA_BYTES = 2048;
/** Default bound of a direction's queue (messages waiting for, or in, serialization). */
export const DEFAULT_LINK_QUEUE = 64;

/** Why the bus did not deliver a link message: reason -> meaning. */
export const LINK_DROP_REASONS = {
  down: 'the link was down (`link-state`, `wlan-down`, or an outage) when it was sent or when it would have arrived',
  loss: "the link's random loss (`loss`), decided when sent, traced when it would have arrived",
  'queue-full': "the sender's queue for that member already held `queue` messages (bandwidth-limited links)",
  'not-a-member': 'the sender or the addressee is not a member of the link (or they are the same radio)',
  'unknown-link': 'the bus has no link of that name',
  'no-receiver': "the addressee's radio was not on the bus when the message arrived",
} as const;
export type LinkDropReason = keyof typeof LINK_DROP_REASONS;

/** A one-way latency distribution, milliseconds (a bare number is `fixed`). */
export type LatencyModel =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** exp(N(ln medianMs, sigma)): a long right tail, like a real internet path. */
  | { kind: 'lognormal'; medianMs: number; sigma: number };

/** A link as the bus takes it (members are EUI64s, outage times virtual microseconds). */
export interface LinkConfig {
  /** The radios it joins, two or more (EUI64s): every member can send to every other. */
  members: string[];
  latency?: LatencyModel | number;
  /** Probability a message is lost (0..1), drawn per message from the link's own seeded PRNG. */
  loss?: number;
  /** Serialization rate, bits/s; omitted: none (a message leaves at once). */
  bandwidthBps?: number;
  /** Messages one direction may have waiting for, or in, serialization (default 64). */
  queue?: number;
  /** May a later message overtake an earlier one (its latency draw is shorter)? Default false: FIFO. */
  reorder?: boolean;
  /** Up at the start (default true). */
  up?: boolean;
  /** Down from `from` (inclusive) to `to` (exclusive), virtual microseconds. */
  outages?: { from: number; to: number }[];
}

/** A run-time change: up/down (`link-state`) or latency/loss (`link-set`). */
export interface LinkChange {
  up?: boolean;
  latency?: LatencyModel | number;
  loss?: number;
}

const ms = z.number().min(0).max(3_600_000);

/** The latency field: a number (fixed, ms) or one of the distributions. */
export const latencySchema = z.union([
  ms.transform((v): LatencyModel => ({ kind: 'fixed', ms: v })),
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('fixed'), ms }),
    z
      .strictObject({ kind: z.literal('uniform'), minMs: ms, maxMs: ms })
      .refine((u) => u.minMs <= u.maxMs, { message: 'minMs is above maxMs', path: ['maxMs'] }),
    z.strictObject({
      kind: z.literal('lognormal'),
      medianMs: ms,
      sigma: z.number().min(0).max(3),
    }),
  ]),
]);

export const lossSchema = z.number().min(0).max(1);

/** A link name: what `link-send` and the controls use. */
export const linkName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a link name: letters, digits, ., - and _ (at most 64)');

/**
 * The links section's schema: `member` checks a member (an EUI64 here; a scenario takes device
 * ids), `time` an outage bound (microseconds here; a scenario takes durations).
 */
export function linksConfigFields(
  member: z.ZodType<string> = z.string().regex(/^[0-9a-f]{16}$/, 'an EUI64 (16 lowercase hex digits)'),
  time: z.ZodType<number> = z.number().int().min(0),
) {
  const link = z
    .strictObject({
      members: z.array(member).min(2, 'a link joins two or more members'),
      latency: latencySchema.optional(),
      loss: lossSchema.optional(),
      bandwidthBps: z.number().positive().optional(),
      queue: z.number().int().min(1).max(100_000).optional(),
      reorder: z.boolean().optional(),
      up: z.boolean().optional(),
      outages: z.array(z.strictObject({ from: time, to: time })).optional(),
    })
    .superRefine((l, ctx) => {
      const issue = linkIssue(l as LinkConfig);
      if (issue !== null) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    });
  return z.record(linkName, link);
}

/** The first rule across a link's fields it breaks, or null: distinct members, outages in order. */
export function linkIssue(l: LinkConfig): { path: (string | number)[]; message: string } | null {
  const seen = new Map<string, number>();
  for (const [i, m] of l.members.entries()) {
    const first = seen.get(m);
    if (first !== undefined) return { path: ['members', i], message: `${m} is already members.${first}` };
    seen.set(m, i);
  }
  for (const [i, o] of (l.outages ?? []).entries())
    if (o.to <= o.from) return { path: ['outages', i, 'to'], message: 'an outage ends after it starts' };
  return null;
}

export const LinksConfigSchema = linksConfigFields();
