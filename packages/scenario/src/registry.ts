/**
 * Device types a scenario can name. A type brings its configuration schema, the timeline
 * actions it accepts (each with a schema for its arguments, so a bad action or argument is a
 * load-time error with a line), an in-process factory and a process entry for `--processes`.
 * A device package's `DeviceKind` becomes one through `kindType` (kind-adapter.ts); builtin.ts
 * lists them.
 */

import type { ClientTransport } from '@gbhan/radio-bus';
import type { DeviceSpec, NvStore, ResolveContext } from '@gbhan/stack';
import { z } from 'zod';

export type { DeviceSpec, ResolveContext, ScenarioPeer } from '@gbhan/stack';

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

export interface DeviceTypeDefinition {
  description: string;
  /** The GB device type (Device Log) of its devices, if any. */
  gbType?: string;
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
   * --state <file> --spec -` (the runner writes the JSON DeviceSpec on stdin when the
   * arguments have a `-`); `runProcess` receives them with the spec in place of the `-`.
   */
  processArgs?(spec: DeviceSpec, bus: string, statePath: string): string[];
  /**
   * The process entry: `gbhan device <type> ...argv`; resolves when the device has left the bus.
   * In a worker thread (`gbhan run --workers`) `transport` is its MessagePort and `--bus` unused.
   */
  runProcess(argv: string[], transport?: ClientTransport): Promise<void>;
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

/** `--spec -`: the runner writes the spec (JSON) on the device process's stdin. */
export const SPEC_ON_STDIN = '-';

/** `--bus <url> --state <file> --spec -`: the spec itself goes on stdin (it can be large). */
export function defaultProcessArgs(_spec: DeviceSpec, bus: string, statePath: string): string[] {
  return ['--bus', bus, '--state', statePath, '--spec', SPEC_ON_STDIN];
}

/** Any arguments (for device types whose actions are validated by the device itself). */
export const anyArgs = z.record(z.string(), z.unknown()).default({});
/** No arguments. */
export const noArgs = z.strictObject({}).default({});
