/**
 * A scenario's `homes:` section: N homes from one template, expanded when the file loads,
 * before anything else is checked. Each home gets the template's devices (ids with `{home}`,
 * EUI64s derived from the home and the device's place in the template, positions relative to
 * the home's origin on the layout, the home's channel, install codes made from the seed when
 * the template gives none), its walls, and the template's timeline entries and expectations.
 * The expanded entries are appended to `devices`, `timeline` and `expect` (and the walls to
 * `medium.walls`), so every later check applies to them; `origins` maps each expanded entry
 * back to the template entry it came from, for errors with the template's line.
 */
import { createHash } from 'node:crypto';
import { isValidChannel, Prng } from '@gbhan/radio-bus';
import { appendInstallCodeCrc, toHex } from '@gbhan/zigbee';
import { z } from 'zod';

type Path = (string | number)[];

const count = z.number().int().min(1);
const spacing = z.number().positive();
const band = z.enum(['2.4GHz', 'GB868']);
const xy = z.tuple([z.number(), z.number()]);

/** Where the homes are: exactly one of these. Origins in metres. */
const LayoutSchema = z.strictObject({
  /** Along a street: home i at x = i * spacing. */
  street: z.strictObject({ count, spacing }).optional(),
  /** Rows of `cols` homes, `spacing` apart both ways. */
  grid: z.strictObject({ rows: count, cols: count, spacing }).optional(),
  /** Uniformly at random (seeded) over a `width` x `height` area, or a square of `density` homes per km^2. */
  random: z
    .strictObject({
      count,
      density: z.number().positive().optional(),
      area: z.strictObject({ width: z.number().positive(), height: z.number().positive() }).optional(),
    })
    .optional(),
});
export type HomesLayout = z.output<typeof LayoutSchema>;

const ChannelSchema = z.union([
  z.number().int(),
  z.strictObject({
    band: band.default('2.4GHz'),
    page: z.number().int().min(0).optional(),
    channel: z.number().int(),
  }),
]);

const entry = z.record(z.string(), z.unknown());
export const HomesSectionSchema = z.strictObject({
  layout: LayoutSchema,
  /** Round robin: home i is on channels[(i - 1) mod n]; a number is a 2.4 GHz channel. Default: 15. */
  channels: z.array(ChannelSchema).min(1).default([15]),
  /** The first 3 octets of every derived EUI64 (6 hex digits). */
  oui: z
    .string()
    .regex(/^[0-9a-fA-F]{6}$/, '6 hex digits (3 octets)')
    .default('00124b'),
  /** The home template: devices as in `devices:`, but no eui64 and a position relative to the home. */
  devices: z.array(entry).min(1),
  /** Walls of every home (log-distance model), relative to the home's origin. */
  walls: z.array(z.strictObject({ from: xy, to: xy, lossDb: z.number().min(0).optional() })).optional(),
  /** Timeline entries and expectations made once per home (`{home}` in device ids). */
  timeline: z.array(entry).default([]),
  expect: z.array(entry).default([]),
});
export type HomesSection = z.output<typeof HomesSectionSchema>;

/** An expanded entry's template entry (its path in the file) and its home. */
export interface HomeOrigin {
  path: Path;
  home: number;
}

export interface ExpandHooks {
  /** Parse with the loader's Locator (errors with file:line). */
  parse<S extends z.ZodType>(schema: S, value: unknown, path: Path): z.output<S>;
  fail(path: Path, message: string, code?: 'SCENARIO_SCHEMA' | 'SCENARIO_LIMIT'): never;
  /** Does this device type's config take an `installCode`? */
  takesInstallCode(type: string): boolean;
  maxDevices: number;
}

/**
 * An install code (16 octets + CRC-16/X-25) from a seed text: the same as
 * `gbhan install-code --seed <text>`.
 */
export function seededInstallCode(seed: string, length = 16): string {
  const bytes = new Uint8Array(
    createHash('sha256').update(`gbhan install-code/${length}/${seed}`).digest(),
  ).subarray(0, length);
  return toHex(appendInstallCodeCrc(bytes));
}

/** The EUI64 of template device `slot` (0-based) of home `home` (1-based). */
export function homeEui64(oui: string, home: number, slot: number): string {
  return `${oui}${home.toString(16).padStart(6, '0')}${(slot + 1).toString(16).padStart(4, '0')}`.toLowerCase();
}

/** Each home's origin (x, y, metres), in home order. */
export function homeOrigins(
  layout: HomesLayout,
  seed: string,
  fail: ExpandHooks['fail'],
): { x: number; y: number }[] {
  const given = (['street', 'grid', 'random'] as const).filter((k) => layout[k] !== undefined);
  if (given.length !== 1)
    fail(
      ['homes', 'layout'],
      `exactly one of street, grid, random${given.length > 1 ? ` (found ${given.join(', ')})` : ''}`,
    );
  if (layout.street) {
    const { count: n, spacing: s } = layout.street;
    return Array.from({ length: n }, (_, i) => ({ x: i * s, y: 0 }));
  }
  if (layout.grid) {
    const { rows, cols, spacing: s } = layout.grid;
    return Array.from({ length: rows * cols }, (_, i) => ({
      x: (i % cols) * s,
      y: Math.floor(i / cols) * s,
    }));
  }
  const r = layout.random!;
  if ((r.density === undefined) === (r.area === undefined))
    fail(
      ['homes', 'layout', 'random'],
      'give either density (homes per km^2) or area ({width, height} in metres)',
    );
  const side = r.density === undefined ? 0 : Math.sqrt(r.count / r.density) * 1000;
  const width = r.area?.width ?? side;
  const height = r.area?.height ?? side;
  const prng = new Prng(`${seed}/homes`);
  const dm = (v: number) => Math.round(v * 10) / 10;
  return Array.from({ length: r.count }, () => ({ x: dm(prng.next() * width), y: dm(prng.next() * height) }));
}

const NUMERIC = new Set(['home', 'channel', 'page']);

/** `{home}`, `{channel}`, `{page}`, `{band}` filled in every string; a string that is only a numeric one becomes the number. */
export function fillPlaceholders(value: unknown, vars: Record<string, string | number>): unknown {
  if (typeof value === 'string') {
    const whole = /^\{(\w+)\}$/.exec(value);
    if (whole !== null && NUMERIC.has(whole[1]!) && Object.hasOwn(vars, whole[1]!)) return vars[whole[1]!];
    return value.replace(/\{(\w+)\}/g, (m, k: string) => (Object.hasOwn(vars, k) ? String(vars[k]) : m));
  }
  if (Array.isArray(value)) return value.map((v) => fillPlaceholders(v, vars));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillPlaceholders(v, vars)]));
  return value;
}

/**
 * The document (`doc.toJS()`) with its `homes:` expanded into `devices`, `timeline`,
 * `expect` and `medium.walls`, and where each expanded entry came from (`devices.7` ->
 * `homes.devices.1` of home 3). A document without `homes:` comes back as it is.
 */
export function expandHomes(
  js: Record<string, unknown>,
  hooks: ExpandHooks,
): { js: Record<string, unknown>; origins: Map<string, HomeOrigin> } {
  const origins = new Map<string, HomeOrigin>();
  if (js.homes === undefined) return { js, origins };
  const h = hooks.parse(HomesSectionSchema, js.homes, ['homes']);
  const seed = String(js.seed ?? 1);
  const origin = homeOrigins(h.layout, seed, hooks.fail);
  if (js.devices !== undefined && !Array.isArray(js.devices)) return { js, origins }; // the schema says what is wrong
  const explicit = (js.devices as unknown[] | undefined) ?? [];
  const total = explicit.length + origin.length * h.devices.length;
  if (total > hooks.maxDevices)
    hooks.fail(
      ['homes'],
      `${origin.length} homes of ${h.devices.length} devices (${total} devices in all), more than the ${hooks.maxDevices} a scenario may have (raise it with --max-devices)`,
      'SCENARIO_LIMIT',
    );
  const channels = h.channels.map((c, i) => {
    const ch = typeof c === 'number' ? { band: '2.4GHz' as const, channel: c } : c;
    const page = ch.page ?? (ch.band === 'GB868' ? 28 : 0);
    if (!isValidChannel(ch.band, page, ch.channel))
      hooks.fail(['homes', 'channels', i], `page ${page} channel ${ch.channel} is not on band ${ch.band}`);
    return { band: ch.band, page, channel: ch.channel };
  });
  const templates = h.devices.map((d, j) => {
    const path: Path = ['homes', 'devices', j];
    if (typeof d.id !== 'string' || !d.id.includes('{home}'))
      hooks.fail(
        [...path, 'id'],
        'a home template device id has {home} in it (e.g. ch-{home}), so each home has its own',
      );
    if (d.eui64 !== undefined)
      hooks.fail([...path, 'eui64'], 'derived per home (oui, home, place in the template): leave it out');
    const p = d.position as { x?: unknown; y?: unknown; z?: unknown } | undefined;
    if (p === undefined || typeof p.x !== 'number' || typeof p.y !== 'number')
      hooks.fail([...path, 'position'], 'required: {x, y} in metres from the home origin');
    return d;
  });
  const model = (js.medium as { model?: unknown } | undefined)?.model;
  if (h.walls !== undefined && model !== undefined && model !== 'log-distance')
    hooks.fail(
      ['homes', 'walls'],
      `not used by the ${String(model)} model (only the log-distance model has walls)`,
    );

  const devices: unknown[] = [...explicit];
  const walls: unknown[] = [];
  const homeVars = origin.map((_, i) => {
    const c = channels[i % channels.length]!;
    return { home: i + 1, channel: c.channel, page: c.page, band: c.band };
  });
  for (const [i, o] of origin.entries()) {
    const vars = homeVars[i]!;
    for (const [j, t] of templates.entries()) {
      const d = fillPlaceholders(t, vars) as Record<string, unknown>;
      const p = t.position as { x: number; y: number; z?: number };
      d.eui64 = homeEui64(h.oui, vars.home, j);
      d.position = { ...p, x: o.x + p.x, y: o.y + p.y };
      if (d.channel === undefined) {
        d.band ??= vars.band;
        d.page ??= vars.page;
        d.channel = vars.channel;
      }
      const config = (d.config ?? {}) as Record<string, unknown>;
      if (typeof d.type === 'string' && hooks.takesInstallCode(d.type) && config.installCode === undefined)
        d.config = { ...config, installCode: seededInstallCode(`${seed}/${String(d.id)}`) };
      origins.set(`devices.${devices.length}`, { path: ['homes', 'devices', j], home: vars.home });
      devices.push(d);
    }
    for (const w of h.walls ?? [])
      walls.push({
        ...w,
        from: [o.x + w.from[0], o.y + w.from[1]],
        to: [o.x + w.to[0], o.y + w.to[1]],
      });
  }
  const perHome = (section: 'timeline' | 'expect') => {
    if (js[section] !== undefined && !Array.isArray(js[section])) return js[section]; // the schema says what is wrong
    const out: unknown[] = [...((js[section] as unknown[] | undefined) ?? [])];
    for (const [j, e] of h[section].entries())
      for (const vars of homeVars) {
        origins.set(`${section}.${out.length}`, { path: ['homes', section, j], home: vars.home });
        out.push(fillPlaceholders(e, vars));
      }
    return out;
  };
  const { homes: _, ...rest } = js;
  const medium = rest.medium as Record<string, unknown> | undefined;
  return {
    js: {
      ...rest,
      devices,
      timeline: perHome('timeline'),
      expect: perHome('expect'),
      ...(walls.length === 0
        ? {}
        : {
            medium: {
              ...medium,
              walls: [...((medium?.walls as unknown[] | undefined) ?? []), ...walls],
            },
          }),
    },
    origins,
  };
}
