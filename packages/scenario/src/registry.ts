/**
 * Device types a scenario can name. A type brings its configuration schema, the timeline
 * actions it accepts (each with a schema for its arguments, so a bad action or argument is a
 * load-time error with a line), an in-process factory and a process entry for `--processes`.
 * Adding a device package to scenarios is one `registerDeviceType` call (see builtin.ts).
 */

import type { ClientTransport, RadioRegistration } from '@gbhan/radio-bus';
import type { NvStore } from '@gbhan/stack';
import { z } from 'zod';

/** What a device needs to come up, in-process or in its own process (it is JSON-serialisable). */
export interface DeviceSpec {
  /** The scenario's name for it (used in actions and expectations; the radio's `name`). */
  id: string;
  type: string;
  eui64: string;
  registration: RadioRegistration;
  /** `config` after the type's schema (defaults applied, durations in microseconds). */
  config: unknown;
  /** Every device of the scenario, for types that need to know their peers (EUI64s, types). */
  peers: { id: string; type: string; eui64: string }[];
  seed: string;
  /**
   * The run's manufacturer key (meters' optical port): the public key (hex), and the secret
   * for the scenario's `optical unlock` tool - in memory in-process, as a file path for a
   * process (never on its command line). Never in the trace.
   */
  manufacturer?: { publicKey: string; secretKey?: string; secretKeyFile?: string };
}

export interface DeviceContext extends DeviceSpec {
  transport: ClientTransport;
  /** Non-volatile state file (process runs), or null: keep it in memory. */
  statePath: string | null;
  /** In-process: the device's NVM to start from (kept by the runner across a crash and restart). */
  nvm?: NvStore;
}

export interface ScenarioDevice {
  /** Leave the bus; called after the run (in-process). */
  close(): void | Promise<void>;
}

/** Another device of the scenario, as config and command hooks see it. */
export interface ScenarioPeer {
  id: string;
  type: string;
  eui64: string;
  /** Its parsed config. */
  config: unknown;
}

/**
 * Load-time help for a type's hooks: look devices up by id (or EUI64) and report mistakes at a
 * path relative to the section being resolved (`config` of the device, `args` of the action),
 * as a ScenarioError with file, line and field.
 */
export interface ResolveContext {
  /** The device named by `value` (an id or an EUI64 of a scenario device). */
  device(value: unknown, path: (string | number)[]): ScenarioPeer;
  /** The one device of one of these types (e.g. the comms-hub), when the field naming it is left out. */
  only(types: string[], path: (string | number)[]): ScenarioPeer;
  fail(path: (string | number)[], message: string): never;
}

export interface DeviceTypeDefinition {
  description: string;
  /** Validates the device's `config:` section; its output is what `create` gets. */
  configSchema: z.ZodType;
  /**
   * The timeline actions this type accepts and the schema of each one's `args` (its output,
   * merged with `{action}`, is the command the device receives through `radio.onControl`).
   */
  actions: Record<string, z.ZodType>;
  /** Replace device references in the parsed config by what the device needs (EUI64s, install codes ...). */
  resolveConfig?(config: unknown, ctx: ResolveContext): unknown;
  /**
   * Complete a timeline command (after its args schema; `device`/`peer`/`target` ids are already
   * EUI64s), e.g. add the install code of the device a Device Log update names.
   */
  prepareCommand?(command: Record<string, unknown>, ctx: ResolveContext): Record<string, unknown>;
  /** Its devices take the run's manufacturer key (`DeviceSpec.manufacturer`): the meters. */
  usesManufacturerKey?: boolean;
  create(ctx: DeviceContext): Promise<ScenarioDevice>;
  /**
   * The arguments after `gbhan device <type>` for a process run. Default: `--bus <url>
   * --state <file> --spec <json DeviceSpec>`, which `runProcess` receives back.
   */
  processArgs?(spec: DeviceSpec, bus: string, statePath: string): string[];
  /** The process entry: `gbhan device <type> ...argv`; resolves when the device has left the bus. */
  runProcess(argv: string[]): Promise<void>;
  /**
   * With the default process arguments: checks `config` of a `--spec` (the loader's output
   * form, durations in microseconds) and fills in defaults; default: any JSON object.
   */
  specConfigSchema?: z.ZodType;
  /** Options of `gbhan device <type>` beyond --bus, --state and --spec, for its help: flag -> what. */
  processOptions?: Record<string, string>;
}

const registry = new Map<string, DeviceTypeDefinition>();

export function registerDeviceType(type: string, definition: DeviceTypeDefinition): void {
  registry.set(type, definition);
}

export function deviceType(type: string): DeviceTypeDefinition | undefined {
  return registry.get(type);
}

export function deviceTypes(): string[] {
  return [...registry.keys()].sort();
}

export function defaultProcessArgs(spec: DeviceSpec, bus: string, statePath: string): string[] {
  return ['--bus', bus, '--state', statePath, '--spec', JSON.stringify(spec)];
}

/** Any arguments (for device types whose actions are validated by the device itself). */
export const anyArgs = z.record(z.string(), z.unknown()).default({});
/** No arguments. */
export const noArgs = z.strictObject({}).default({});
