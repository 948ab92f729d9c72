/**
 * A test's actions and matchers in the scenario's own terms: devices by id, action `args` as
 * in YAML, checked by the device type's schemas and completed by its `prepareCommand` (the
 * install code of a Device Log entry ...), exactly as the scenario loader does for a timeline.
 */
import {
  DEVICE_EVENT_REFERENCE_KEYS,
  deviceType,
  MATCH_REFERENCE_KEYS,
  REFERENCE_KEYS,
  type ResolveContext,
  type Scenario,
  type ScenarioPeer,
} from '@gbhan/scenario';
import { TestkitError } from './errors.js';

/** A scenario device by id or EUI64. */
export type DeviceRef = string;

function peer(scenario: Scenario, ref: unknown): ScenarioPeer {
  const d = scenario.devices.find((x) => x.id === ref || x.eui64 === ref);
  if (d === undefined)
    throw new TestkitError('TESTKIT_UNKNOWN_DEVICE', `no device ${JSON.stringify(ref)} in ${scenario.name}`);
  return { id: d.id, type: d.type, eui64: d.eui64, config: d.config };
}

function context(scenario: Scenario, where: string): ResolveContext {
  return {
    device: (value) => peer(scenario, value),
    only(types, path) {
      const found = scenario.devices.filter((d) => types.includes(d.type));
      if (found.length !== 1)
        throw new TestkitError(
          'TESTKIT_BAD_ACTION',
          `${where}.${path.join('.')}: name one of ${types.join(', ')}`,
        );
      return peer(scenario, found[0]!.id);
    },
    gbType: (type) => deviceType(type)?.gbType,
    fail(path, message) {
      throw new TestkitError('TESTKIT_BAD_ACTION', `${where}.${path.join('.')}: ${message}`);
    },
  };
}

/** The control command device `ref` receives for `action` with YAML-form `args`. */
export function buildCommand(
  scenario: Scenario,
  ref: DeviceRef,
  action: string,
  args: Record<string, unknown>,
): { eui64: string; command: Record<string, unknown> } {
  const target = peer(scenario, ref);
  const def = deviceType(target.type)!;
  const schema = def.actions[action];
  if (schema === undefined)
    throw new TestkitError(
      'TESTKIT_BAD_ACTION',
      `device type ${target.type} has no action ${JSON.stringify(action)} (actions: ${Object.keys(def.actions).join(', ')})`,
    );
  const r = schema.safeParse(args);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new TestkitError(
      'TESTKIT_BAD_ACTION',
      `${action}: args.${issue.path.map(String).join('.')}: ${issue.message}`,
    );
  }
  const command: Record<string, unknown> = { action };
  for (const [k, v] of Object.entries(r.data as Record<string, unknown>)) {
    if (!REFERENCE_KEYS.has(k)) command[k] = v;
    else command[k] = Array.isArray(v) ? v.map((x) => peer(scenario, x).eui64) : peer(scenario, v).eui64;
  }
  const prepared = def.prepareCommand
    ? def.prepareCommand(command, context(scenario, `${target.id} ${action}`))
    : command;
  return { eui64: target.eui64, command: prepared };
}

/** A matcher with device ids turned into EUI64s where the trace has EUI64s. */
export function resolveMatch(scenario: Scenario, m: Record<string, unknown>): Record<string, unknown> {
  const eui = (v: unknown) => scenario.devices.find((d) => d.id === v)?.eui64 ?? v;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (MATCH_REFERENCE_KEYS.has(k)) out[k] = eui(v);
    else if (k === 'event' && v !== null && typeof v === 'object' && !Array.isArray(v))
      out[k] = Object.fromEntries(
        Object.entries(v).map(([ek, ev]) => [ek, DEVICE_EVENT_REFERENCE_KEYS.has(ek) ? eui(ev) : ev]),
      );
    else out[k] = v;
  }
  return out;
}
