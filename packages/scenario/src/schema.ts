/**
 * Scenario files: YAML checked against a schema, with every error naming the file, the line
 * and the field. The document is parsed with `yaml`'s `parseDocument` + `LineCounter`, so a
 * zod issue path (or a path found by the checks that need the whole document: device types,
 * actions, references) maps back to the line it came from.
 *
 * Over 600 lines on purpose: `parseScenario` resolves references across every section in one
 * pass over one document; the sections' own schemas are apart (schema-links.ts, schema-risks.ts,
 * schema-homes.ts) and so is reading the file (scenario-file.ts).
 */
import { basename, extname } from 'node:path';
import {
  type Band,
  checkMediumModel,
  isValidChannel,
  type LinkChange,
  type LinkConfig,
  mediumConfigFields,
  mediumModelIssue,
  type RadioBusConfig,
} from '@gbhan/radio-bus';
import { duration } from '@gbhan/stack';
import { isAlias, isMap, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { z } from 'zod';
import { ScenarioError } from './errors.js';
import { formatTime } from './expect.js';
import { Locator, type Path } from './locator.js';
import { deviceType, deviceTypes, noArgs, type ResolveContext, type ScenarioPeer } from './registry.js';
import {
  DEFAULT_SCENARIO_LIMITS,
  MAX_ALIAS_COUNT,
  readScenarioFile,
  type ScenarioLimits,
} from './scenario-file.js';
import { expandHomes } from './schema-homes.js';
import { LINK_ACTIONS, LinksSectionSchema, linkChange, resolveLinks } from './schema-links.js';
import { type Risk, RisksSectionSchema, resolveRisks } from './schema-risks.js';
import { checkMatch } from './trace-events.js';

export type { Path } from './locator.js';

// ---- field types --------------------------------------------------------------------------

export { duration };

const EUI64_RE = /^[0-9a-fA-F]{16}$/;
/** 16 hex digits, most significant first; output lowercase. */
export const eui64 = z.unknown().transform((v, ctx) => {
  if (typeof v === 'string' && EUI64_RE.test(v)) return v.toLowerCase();
  ctx.addIssue({
    code: 'custom',
    message: `not an EUI64: ${JSON.stringify(v)} (16 hex digits, e.g. 00124b0000000001)`,
    params: { gbhan: 'SCENARIO_BAD_EUI64' },
  });
  return z.NEVER;
});

const band = z.enum(['2.4GHz', 'GB868']);
const position = z.strictObject({ x: z.number(), y: z.number(), z: z.number().optional() });

const DeviceSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'letters, digits, - and _ only'),
  type: z.string(),
  eui64,
  band: band.default('2.4GHz'),
  /** Default: 0 on 2.4 GHz, 28 on GB868. */
  page: z.number().int().min(0).optional(),
  channel: z.number().int(),
  position,
  powered: z.boolean().default(true),
  txPowerDbm: z.number().optional(),
  lossDb: z.number().min(0).optional(),
  sensitivityDbm: z.number().optional(),
  config: z.unknown().optional(),
});

const TimelineSchema = z.strictObject({
  at: duration,
  /** Omitted for radio faults (actions of the bus itself). */
  device: z.string().optional(),
  action: z.string(),
  args: z.record(z.string(), z.unknown()).default({}),
});

const OutputsSchema = z
  .strictObject({
    trace: z.boolean().default(true),
    pcap: z.boolean().default(true),
    keys: z.boolean().default(true),
    /** Also capture-fcs.pcap (802.15.4 with FCS, link type 195). */
    pcapFcs: z.boolean().default(false),
    /** report.html: timeline, sequence diagram, map and figures (@gbhan/report). */
    report: z.boolean().default(true),
  })
  .default({ trace: true, pcap: true, keys: true, pcapFcs: false, report: true });

const TopSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ., - and _ only (it names the output directory)')
    .optional(),
  description: z.string().optional(),
  seed: z.union([z.number().int(), z.string()]).default(1),
  duration,
  // A matrix link names devices by id or EUI64: resolved once the devices are known.
  medium: mediumConfigFields(z.string())
    .omit({ seed: true, expectRadios: true, idleTimeoutMs: true, links: true })
    .superRefine(checkMediumModel)
    .optional(),
  devices: z.array(z.record(z.string(), z.unknown())).min(1),
  /** Wired/IP links between devices (a consumer's Wi-Fi and internet): see schema-links.ts. */
  links: LinksSectionSchema.optional(),
  timeline: z.array(z.record(z.string(), z.unknown())).default([]),
  expect: z.array(z.record(z.string(), z.unknown())).default([]),
  /** The SECMP0038 risks the run measures: see schema-risks.ts. */
  risks: RisksSectionSchema,
  outputs: OutputsSchema,
  /**
   * `compact` (default): frames that arrive below a radio's sensitivity on its channel, or
   * that it could have heard on another channel, are counted per radio in summary.json, not
   * traced as `drop` events one by one; `full`: traced as well (N^2 lines for N radios).
   */
  trace: z.enum(['full', 'compact']).default('compact'),
});

/** Radio faults: timeline actions without a `device`, applied through the bus API. */
const JamArgs = z.strictObject({
  band,
  page: z.number().int().min(0).optional(),
  channel: z.number().int(),
  position,
  txPowerDbm: z.number().default(0),
  for: duration,
});
const BUS_ACTIONS: Record<string, z.ZodType> = { jam: JamArgs };

/** A partial match on trace events; `radio` and `from` may name a device by id. */
const match = z.record(z.string(), z.unknown());
const bounds = {
  name: z.string().optional(),
  /** The matching event(s) must be at or before this virtual time. */
  before: duration.optional(),
  /** ... at or after this virtual time. */
  after: duration.optional(),
};
const EXPECTATIONS = {
  event: z.strictObject({ event: match, ...bounds }),
  never: z.strictObject({ never: match, ...bounds }),
  count: z.strictObject({
    count: match,
    min: z.number().int().min(0).optional(),
    max: z.number().int().min(0).optional(),
    ...bounds,
  }),
  order: z.strictObject({ order: z.array(match).min(2), ...bounds }),
} as const;
type ExpectationKind = keyof typeof EXPECTATIONS;

// ---- the loaded scenario ------------------------------------------------------------------

export interface ScenarioDeviceSpec {
  id: string;
  type: string;
  eui64: string;
  band: Band;
  page: number;
  channel: number;
  position: { x: number; y: number; z?: number };
  powered: boolean;
  txPowerDbm?: number;
  lossDb?: number;
  sensitivityDbm?: number;
  config: unknown;
  /** Ids of the devices its config names (resolved to EUI64s in `config`): its spec's `peers`. */
  peers: string[];
  line: number | null;
}

export type TimelineEntry =
  | {
      at: number;
      kind: 'device';
      device: string;
      eui64: string;
      command: Record<string, unknown>;
      line: number | null;
    }
  | { at: number; kind: 'jam'; args: z.output<typeof JamArgs>; line: number | null }
  /** A wired/IP link changed: up/down, latency, loss (`wlan-down`, `link-delay` ...). */
  | { at: number; kind: 'link'; link: string; change: LinkChange; line: number | null }
  /** The runner's own device actions: the device dies (no clean shutdown) or starts again from its NVM. */
  | { at: number; kind: 'crash' | 'restart'; device: string; eui64: string; line: number | null };

/**
 * Actions every device type has, carried out by the runner rather than the device: `crash`
 * takes the radio off the bus and kills the device (SIGKILL for a process) with no chance to
 * save anything; `restart` starts it again from what its non-volatile memory held.
 */
export const RUNNER_ACTIONS = ['crash', 'restart'] as const;

export type TimeWindow = { before?: number; after?: number };
export type Expectation =
  | ({ kind: 'event'; match: Record<string, unknown> } & ExpectationCommon)
  | ({ kind: 'never'; match: Record<string, unknown> } & ExpectationCommon)
  | ({ kind: 'count'; match: Record<string, unknown>; min?: number; max?: number } & ExpectationCommon)
  | ({ kind: 'order'; matches: Record<string, unknown>[] } & ExpectationCommon);
interface ExpectationCommon extends TimeWindow {
  /** As written (or `name:`), for reports. */
  text: string;
  line: number | null;
}

export interface Scenario {
  file: string;
  name: string;
  /** Line of `name:` (or null when the name comes from the file name). */
  nameLine: number | null;
  description?: string;
  seed: string;
  durationUs: number;
  medium: RadioBusConfig;
  /** Wired/IP links, members resolved to EUI64s (the bus config's `links`). */
  links: Record<string, LinkConfig>;
  devices: ScenarioDeviceSpec[];
  timeline: TimelineEntry[];
  expect: Expectation[];
  /** Risks measured over the trace (risks.ts), matchers resolved like the expectations'. */
  risks: Risk[];
  outputs: { trace: boolean; pcap: boolean; keys: boolean; pcapFcs: boolean; report: boolean };
  /** Out-of-range and other-channel non-deliveries: traced (`full`) or only counted (`compact`). */
  trace: 'full' | 'compact';
}

export {
  DEFAULT_SCENARIO_LIMITS,
  formatBytes,
  MAX_ALIAS_COUNT,
  readScenarioFile,
  type ScenarioLimits,
} from './scenario-file.js';

// ---- loading ------------------------------------------------------------------------------

/** Keys whose values may be written as bare EUI64s YAML would otherwise read as numbers. */
const EUI64_KEYS = new Set(['eui64', 'radio', 'from', 'to', 'device', 'peer']);
/** Action arguments that name a device: a device id here becomes that device's EUI64. */
export const REFERENCE_KEYS = new Set(['device', 'peer', 'target', 'devices', 'peers']);
/** Trace-event fields that name a radio: a device id here becomes its EUI64. */
export const MATCH_REFERENCE_KEYS = new Set(['radio', 'from']);
/** Fields of a device event (`event: {...}`) that become EUI64s when they hold a device id. */
export const DEVICE_EVENT_REFERENCE_KEYS = new Set([
  'peer',
  'eui64',
  'parent',
  'from',
  'to',
  'target',
  'by',
  'initiator',
  'responder',
]);

export function loadScenario(file: string, limits: Partial<ScenarioLimits> = {}): Scenario {
  const l = { ...DEFAULT_SCENARIO_LIMITS, ...limits };
  return parseScenario(readScenarioFile(file, l.maxFileBytes), file, l);
}

export function parseScenario(text: string, file: string, limits: Partial<ScenarioLimits> = {}): Scenario {
  const { maxDevices, maxDurationUs } = { ...DEFAULT_SCENARIO_LIMITS, ...limits };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const line = lines.linePos(firstError.pos[0]).line;
    throw new ScenarioError(
      'SCENARIO_YAML',
      file,
      line,
      '',
      `invalid YAML: ${firstError.message.split('\n')[0]}`,
    );
  }
  // A bare EUI64 of digits only (0000000000000001) is a number to YAML: take its source text.
  visit(doc, {
    Pair(_, pair) {
      if (
        isScalar(pair.key) &&
        EUI64_KEYS.has(String(pair.key.value)) &&
        isScalar(pair.value) &&
        typeof pair.value.value === 'number' &&
        pair.value.range
      ) {
        pair.value.value = text.slice(pair.value.range[0], pair.value.range[1]).trim();
      }
    },
  });
  let at = new Locator(file, doc, lines);
  if (!isMap(doc.contents))
    throw at.error('SCENARIO_SCHEMA', [], 'a scenario is a mapping (name, duration, devices, ...)');
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // yaml throws a ReferenceError when aliases expand past the limit (a "billion laughs" file)
    let line: number | null = null; // the first alias: where the expansion starts
    visit(doc, {
      Alias(_, node) {
        if (isAlias(node) && node.range) line = lines.linePos(node.range[0]).line;
        return visit.BREAK;
      },
    });
    throw new ScenarioError(
      'SCENARIO_YAML',
      file,
      line,
      '',
      `invalid YAML: aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT}): ${(e as Error).message}`,
    );
  }
  // `homes:` first: its devices, timeline entries and expectations go through every check below.
  const expanded = expandHomes(js as Record<string, unknown>, {
    parse: (schema, value, path) => at.parse(schema, value, path),
    fail: (path, message, code = 'SCENARIO_SCHEMA') => {
      throw at.error(code, path, message);
    },
    takesInstallCode: (type) => takesInstallCode(deviceType(type)?.configSchema),
    maxDevices,
  });
  at = new Locator(file, doc, lines, expanded.origins);
  const top = at.parse(TopSchema, expanded.js, []);
  if (top.duration > maxDurationUs)
    throw at.error(
      'SCENARIO_LIMIT',
      ['duration'],
      `${formatTime(top.duration)} is longer than ${formatTime(maxDurationUs)}, the longest a run may last (raise it with --max-duration)`,
    );
  if (top.devices.length > maxDevices)
    throw at.error(
      'SCENARIO_LIMIT',
      ['devices'],
      `${top.devices.length} devices, more than the ${maxDevices} a scenario may have (raise it with --max-devices)`,
    );

  // Devices.
  const devices: ScenarioDeviceSpec[] = [];
  const byId = new Map<string, ScenarioDeviceSpec>();
  const euis = new Map<string, string>();
  for (const [i, raw] of top.devices.entries()) {
    const path: Path = ['devices', i];
    const d = at.parse(DeviceSchema, raw, path);
    const def = deviceType(d.type);
    if (def === undefined)
      throw at.error(
        'SCENARIO_UNKNOWN_DEVICE_TYPE',
        [...path, 'type'],
        `unknown device type ${JSON.stringify(d.type)} (known: ${deviceTypes().join(', ')})`,
      );
    if (byId.has(d.id))
      throw at.error('SCENARIO_DUPLICATE_ID', [...path, 'id'], `duplicate device id ${JSON.stringify(d.id)}`);
    const other = euis.get(d.eui64);
    if (other !== undefined)
      throw at.error(
        'SCENARIO_BAD_EUI64',
        [...path, 'eui64'],
        `EUI64 ${d.eui64} is already device ${other}'s`,
      );
    const page = d.page ?? (d.band === 'GB868' ? 28 : 0);
    if (!isValidChannel(d.band, page, d.channel))
      throw at.error(
        'SCENARIO_SCHEMA',
        [...path, 'channel'],
        `page ${page} channel ${d.channel} is not on band ${d.band}`,
      );
    const config = at.parse(def.configSchema, d.config ?? {}, [...path, 'config'], 'SCENARIO_BAD_CONFIG');
    const spec: ScenarioDeviceSpec = {
      id: d.id,
      type: d.type,
      eui64: d.eui64,
      band: d.band,
      page,
      channel: d.channel,
      position: d.position,
      powered: d.powered,
      ...(d.txPowerDbm === undefined ? {} : { txPowerDbm: d.txPowerDbm }),
      ...(d.lossDb === undefined ? {} : { lossDb: d.lossDb }),
      ...(d.sensitivityDbm === undefined ? {} : { sensitivityDbm: d.sensitivityDbm }),
      config,
      peers: [],
      line: at.line(path),
    };
    devices.push(spec);
    byId.set(d.id, spec);
    euis.set(d.eui64, d.id);
  }
  const peerOf = (d: ScenarioDeviceSpec): ScenarioPeer => ({
    id: d.id,
    type: d.type,
    eui64: d.eui64,
    config: d.config,
  });
  const byEui = new Map(devices.map((d) => [d.eui64, d]));
  /** `uses` collects the devices a config names: the only peers its device is given. */
  const context = (base: Path, uses?: Set<string>): ResolveContext => ({
    device: (value, path) => {
      const eui = resolve(value, [...base, ...path]);
      const d = byEui.get(eui);
      if (d === undefined)
        throw at.error('SCENARIO_UNKNOWN_REFERENCE', [...base, ...path], `no device has EUI64 ${eui}`);
      uses?.add(d.id);
      return peerOf(d);
    },
    only: (types, path) => {
      const found = devices.filter((d) => types.includes(d.type));
      if (found.length !== 1)
        throw at.error(
          'SCENARIO_UNKNOWN_REFERENCE',
          [...base, ...path],
          `required: ${found.length === 0 ? `no ${types.join('/')} device to default to` : `${found.length} ${types.join('/')} devices, say which`}`,
        );
      uses?.add(found[0]!.id);
      return peerOf(found[0]!);
    },
    gbType: (type) => deviceType(type)?.gbType,
    fail: (path, message) => {
      throw at.error('SCENARIO_SCHEMA', [...base, ...path], message);
    },
  });
  const resolve = (value: unknown, path: Path): string => {
    if (typeof value === 'string') {
      const d = byId.get(value);
      if (d !== undefined) return d.eui64;
      if (EUI64_RE.test(value)) return value.toLowerCase();
    }
    throw at.error(
      'SCENARIO_UNKNOWN_REFERENCE',
      path,
      `no device ${JSON.stringify(value)} (devices: ${someOf([...byId.keys()])})`,
    );
  };

  for (const [i, d] of devices.entries()) {
    const def = deviceType(d.type)!;
    const uses = new Set<string>();
    if (def.resolveConfig) d.config = def.resolveConfig(d.config, context(['devices', i, 'config'], uses));
    d.peers = [...uses].filter((id) => id !== d.id);
  }

  // Medium: a matrix link's ends become EUI64s; checked again, as an id and an EUI64 may be one device.
  const medium = (top.medium ?? {}) as RadioBusConfig;
  if (medium.matrix !== undefined) {
    const device = context(['medium', 'matrix', 'links']).device;
    const links = medium.matrix.links.map((l, i) => ({
      ...l,
      from: device(l.from, [i, 'from']).eui64,
      to: device(l.to, [i, 'to']).eui64,
    }));
    medium.matrix = { ...medium.matrix, links };
    const issue = mediumModelIssue(medium);
    if (issue !== null) throw at.error('SCENARIO_SCHEMA', ['medium', ...issue.path], issue.message);
  }

  // Links: members become EUI64s of devices.
  const links = resolveLinks(
    (top.links ?? {}) as Record<string, LinkConfig>,
    (value, path) => context([]).device(value, path).eui64,
    (path, message) => {
      throw at.error('SCENARIO_SCHEMA', path, message);
    },
  );

  // Timeline.
  const timeline: TimelineEntry[] = [];
  for (const [i, raw] of top.timeline.entries()) {
    const path: Path = ['timeline', i];
    const e = at.parse(TimelineSchema, raw, path);
    const line = at.line(path);
    if (e.at > top.duration)
      throw at.error(
        'SCENARIO_BAD_TIME',
        [...path, 'at'],
        `${formatTime(e.at)} is after the end of the scenario (duration ${formatTime(top.duration)}): it would never happen`,
      );
    if (e.device === undefined && Object.hasOwn(LINK_ACTIONS, e.action)) {
      const args = at.parse(LINK_ACTIONS[e.action]!, e.args, [...path, 'args']);
      if (!Object.hasOwn(links, args.link))
        throw at.error(
          'SCENARIO_UNKNOWN_REFERENCE',
          [...path, 'args', 'link'],
          `no link ${JSON.stringify(args.link)} (links: ${Object.keys(links).join(', ') || 'none'})`,
        );
      timeline.push({ at: e.at, kind: 'link', link: args.link, change: linkChange(args), line });
      continue;
    }
    if (e.device === undefined) {
      const schema = BUS_ACTIONS[e.action];
      if (schema === undefined)
        throw at.error(
          'SCENARIO_UNKNOWN_ACTION',
          [...path, 'action'],
          `unknown action ${JSON.stringify(e.action)} without a device (radio faults: ${Object.keys(BUS_ACTIONS).join(', ')}; links: ${Object.keys(LINK_ACTIONS).join(', ')}; device actions need device:)`,
        );
      const args = at.parse(schema, e.args, [...path, 'args']) as z.output<typeof JamArgs>;
      const page = args.page ?? (args.band === 'GB868' ? 28 : 0);
      if (!isValidChannel(args.band, page, args.channel))
        throw at.error(
          'SCENARIO_SCHEMA',
          [...path, 'args', 'channel'],
          `page ${page} channel ${args.channel} is not on band ${args.band}`,
        );
      timeline.push({ at: e.at, kind: 'jam', args: { ...args, page }, line });
      continue;
    }
    const target = byId.get(e.device);
    if (target === undefined) resolve(e.device, [...path, 'device']);
    if ((RUNNER_ACTIONS as readonly string[]).includes(e.action)) {
      at.parse(noArgs, e.args, [...path, 'args']);
      const kind = e.action as (typeof RUNNER_ACTIONS)[number];
      timeline.push({ at: e.at, kind, device: target!.id, eui64: target!.eui64, line });
      continue;
    }
    const def = deviceType(target!.type)!;
    const schema = def.actions[e.action];
    if (schema === undefined)
      throw at.error(
        'SCENARIO_UNKNOWN_ACTION',
        [...path, 'action'],
        `device type ${target!.type} has no action ${JSON.stringify(e.action)} (actions: ${[...Object.keys(def.actions), ...RUNNER_ACTIONS].join(', ')})`,
      );
    const args = at.parse(schema, e.args, [...path, 'args']) as Record<string, unknown>;
    const command: Record<string, unknown> = { action: e.action };
    for (const [k, v] of Object.entries(args)) {
      const argPath = [...path, 'args', k];
      if (REFERENCE_KEYS.has(k) && Array.isArray(v))
        command[k] = v.map((x, j) => resolve(x, [...argPath, j]));
      else if (REFERENCE_KEYS.has(k)) command[k] = resolve(v, argPath);
      else command[k] = v;
    }
    const prepared = def.prepareCommand ? def.prepareCommand(command, context([...path, 'args'])) : command;
    timeline.push({
      at: e.at,
      kind: 'device',
      device: target!.id,
      eui64: target!.eui64,
      command: prepared,
      line,
    });
  }
  timeline.sort((a, b) => a.at - b.at);

  // Expectations.
  const resolveMatch = (m: Record<string, unknown>, path: Path): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(m)) {
      if (MATCH_REFERENCE_KEYS.has(k)) out[k] = resolve(v, [...path, k]);
      else if (k === 'event' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
        // A device's own event: fields naming a device by a known id get its EUI64.
        out[k] = Object.fromEntries(
          Object.entries(v).map(([ek, ev]) => [
            ek,
            DEVICE_EVENT_REFERENCE_KEYS.has(ek) && typeof ev === 'string' && byId.has(ev)
              ? byId.get(ev)!.eui64
              : ev,
          ]),
        );
      } else out[k] = v;
    }
    // A matcher naming an event or a field that does not exist would hold (never) or fail
    // (event) whatever the run does: refused here, against the trace event catalogue.
    const issue = checkMatch(out);
    if (issue !== null) throw at.error('SCENARIO_BAD_EVENT', [...path, ...issue.path], issue.message);
    return out;
  };
  const expect: Expectation[] = [];
  for (const [i, raw] of top.expect.entries()) {
    const path: Path = ['expect', i];
    const kinds = (Object.keys(EXPECTATIONS) as ExpectationKind[]).filter((k) => k in raw);
    if (kinds.length !== 1)
      throw at.error(
        'SCENARIO_SCHEMA',
        path,
        `an expectation has exactly one of ${Object.keys(EXPECTATIONS).join(', ')}${kinds.length > 1 ? ` (found ${kinds.join(', ')})` : ''}`,
      );
    const kind = kinds[0]!;
    const e = at.parse(EXPECTATIONS[kind], raw, path) as Record<string, unknown> &
      TimeWindow & { name?: string };
    if (e.after !== undefined && e.before !== undefined && e.after > e.before)
      throw at.error(
        'SCENARIO_BAD_TIME',
        [...path, 'after'],
        `after ${formatTime(e.after)} is later than before ${formatTime(e.before)}: no event can be in that window`,
      );
    const common: ExpectationCommon = {
      text: e.name ?? describeRaw(raw),
      line: at.line(path),
      ...(e.before === undefined ? {} : { before: e.before }),
      ...(e.after === undefined ? {} : { after: e.after }),
    };
    if (kind === 'order') {
      const matches = (e.order as Record<string, unknown>[]).map((m, j) =>
        resolveMatch(m, [...path, 'order', j]),
      );
      expect.push({ kind, matches, ...common });
    } else {
      const m = resolveMatch(e[kind] as Record<string, unknown>, [...path, kind]);
      if (kind === 'count') {
        const c = e as { min?: number; max?: number };
        if (c.min === undefined && c.max === undefined)
          throw at.error('SCENARIO_SCHEMA', [...path, 'count'], 'a count needs min and/or max');
        expect.push({
          kind,
          match: m,
          ...(c.min === undefined ? {} : { min: c.min }),
          ...(c.max === undefined ? {} : { max: c.max }),
          ...common,
        });
      } else expect.push({ kind, match: m, ...common });
    }
  }

  const risks = resolveRisks(
    top.risks,
    resolveMatch,
    (p) => at.line(p),
    (code, path, message) => {
      throw at.error(code, path, message);
    },
  );

  return {
    file,
    name: top.name ?? basename(file, extname(file)),
    nameLine: top.name === undefined ? null : at.line(['name']),
    ...(top.description === undefined ? {} : { description: top.description }),
    seed: String(top.seed),
    durationUs: top.duration,
    medium,
    links,
    devices,
    timeline,
    expect,
    risks,
    outputs: top.outputs,
    trace: top.trace,
  };
}

/** A list for a message: the first 20, then how many more (a scenario of homes has thousands). */
function someOf(ids: string[]): string {
  return ids.length <= 20 ? ids.join(', ') : `${ids.slice(0, 20).join(', ')} ... (${ids.length - 20} more)`;
}

/** Does a device type's config schema (a zod object) have an `installCode` field? */
function takesInstallCode(schema: z.ZodType | undefined): boolean {
  const shape = (schema as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape !== undefined && Object.hasOwn(shape, 'installCode');
}

function describeRaw(raw: Record<string, unknown>): string {
  return Object.entries(raw)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}
