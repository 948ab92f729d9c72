/**
 * A device kind: everything a GB device package tells the scenario runner about its device
 * type, in one object its package exports - the scenario config schema, the timeline actions
 * as one zod discriminated union on `action` (the device's only control dispatcher, see
 * `dispatchControl`), its trace-event catalogue, in-process construction and the process
 * entry. The scenario package lists the kinds and adapts them with one generic adapter.
 */
import {
  type AnyTraceCatalogue,
  BusRadio,
  type ClientTransport,
  type RadioRegistration,
  WebSocketTransport,
} from '@gbhan/radio-bus';
import type { z } from 'zod';
import type { KeyExportHook } from './key-export.js';
import { FileNvStore, type NvStore } from './nvm.js';

/** What a device needs to come up, in-process or in its own process (it is JSON-serialisable). */
export interface DeviceSpec {
  /** The scenario's name for it (used in actions and expectations; the radio's `name`). */
  id: string;
  type: string;
  eui64: string;
  registration: RadioRegistration;
  /** `config` after the kind's schema and `resolveConfig` (what the device is built with). */
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

/** Another device of the scenario, as config and command hooks see it. */
export interface ScenarioPeer {
  id: string;
  type: string;
  eui64: string;
  /** Its parsed config. */
  config: unknown;
}

/**
 * Load-time help for a kind's hooks: look devices up by id (or EUI64) and report mistakes at a
 * path relative to the section being resolved (`config` of the device, `args` of the action),
 * as a scenario error with file, line and field.
 */
export interface ResolveContext {
  /** The device named by `value` (an id or an EUI64 of a scenario device). */
  device(value: unknown, path: (string | number)[]): ScenarioPeer;
  /** The one device of one of these types (e.g. the comms-hub), when the field naming it is left out. */
  only(types: string[], path: (string | number)[]): ScenarioPeer;
  /** The GB device type (Device Log) of a scenario device type: `ESME` for esme ... */
  gbType(type: string): string | undefined;
  fail(path: (string | number)[], message: string): never;
}

/** A device as built by its kind. */
export interface KindDevice {
  /** Power off and leave the bus (in-process, after the run). */
  close(): void;
  /** The bus went away (process mode): save what a power failure saves. */
  busClosed(): void;
}

export interface CreateOptions<C> {
  radio: BusRadio;
  nvm: NvStore;
  seed: string;
  /** The config after the kind's schema and `resolveConfig`. */
  config: C;
  onKeyExport: KeyExportHook;
  /** `powered:` of the scenario: a device that starts off waits for `power-on`. */
  autoPowerOn: boolean;
  manufacturer: DeviceSpec['manufacturer'];
}

/** Any discriminated union of `{action: literal, ...args}` objects. */
export type ActionUnion = z.ZodDiscriminatedUnion<z.ZodObject<{ action: z.ZodLiteral<string> }>[], 'action'>;

export interface DeviceKind<C = never, D extends KindDevice = KindDevice> {
  /** The scenario device type (`esme`). */
  type: string;
  /** The GB device type as the CHF Device Log holds it (`ESME`), if it has one. */
  gbType?: string;
  description: string;
  /** The scenario's `config:` section (YAML form: durations as text, devices by id). */
  config: z.ZodType;
  /** Turn the parsed config into the device's (EUI64s, `<name>Us`); default: as parsed. */
  resolveConfig?(config: unknown, ctx: ResolveContext): C;
  /** The actions as the device receives them: `power-on`, `power-off` and its own. */
  actions: ActionUnion;
  /** Scenario `args` schemas of actions whose YAML form is not the device's (output: the device's). */
  scenarioArgs?: Record<string, z.ZodType>;
  /** Complete a timeline command after its args schema (references are EUI64s by then). */
  prepareCommand?(command: Record<string, unknown>, ctx: ResolveContext): Record<string, unknown>;
  /** The package's trace-event catalogue (`src/trace-events.ts`). */
  traceEvents: AnyTraceCatalogue;
  /** Its devices take the run's manufacturer key (`DeviceSpec.manufacturer`): the meters. */
  usesManufacturerKey?: boolean;
  /** Options of `gbhan device <type>` beyond --bus, --state and --spec: flag -> what. */
  processOptions?: Record<string, string>;
  /** Build the device on its radio (in-process and in a process alike). */
  create(o: CreateOptions<C>): Promise<D>;
  /** Process mode only: a local service next to the device (e.g. the CH's `--wan-port`). */
  serve?(
    device: D,
    radio: BusRadio,
    option: (name: string) => string | undefined,
  ): Promise<{ close(): void } | null>;
}

/** The args schema of each action, by name: the union's option without `action`, or `scenarioArgs`. */
export function actionArgs(kind: Pick<DeviceKind, 'actions' | 'scenarioArgs'>): Record<string, z.ZodType> {
  const out: Record<string, z.ZodType> = {};
  for (const option of kind.actions.options) {
    const name = option.shape.action.value as string;
    out[name] = kind.scenarioArgs?.[name] ?? option.omit({ action: true });
  }
  return out;
}

type Refusal = { type: 'control-refused'; action: string; reason: string };

/** One handler per action of the union, each getting its own variant (and the command as received). */
export type ActionHandlers<A extends { action: string }> = {
  [K in A['action']]: (cmd: Extract<A, { action: K }>, received: Record<string, unknown>) => void;
};

/**
 * A control command (`radio.onControl`) through the kind's action union: parsed once, then
 * its handler. Never throws: a device that is off (but for `power-on`, `power-off` and
 * `whenOff`), an unknown action, bad arguments and a handler that throws are traced as
 * `control-refused` (declared in the stack's app catalogue) with the reason.
 */
export function dispatchControl<U extends ActionUnion>(
  received: Record<string, unknown>,
  o: {
    actions: U;
    host: { trace(event: Refusal): void };
    powered: boolean;
    handlers: ActionHandlers<z.output<U>>;
    whenOff?: readonly string[];
    /** An error the handler already traced (not traced again). */
    traced?: (e: Error) => boolean;
  },
): void {
  const action = String(received.action);
  const refuse = (reason: string) => o.host.trace({ type: 'control-refused', action, reason });
  try {
    const always = action === 'power-on' || action === 'power-off' || (o.whenOff ?? []).includes(action);
    const handlers = o.handlers as Record<string, (c: unknown, r: Record<string, unknown>) => void>;
    const handler = Object.hasOwn(handlers, action) ? handlers[action] : undefined;
    const r = o.actions.safeParse(received);
    if (!o.powered && !always) refuse('powered-off');
    else if (handler === undefined) refuse('unknown-action');
    else if (!r.success) {
      const issue = r.error.issues[0]!;
      refuse(`${action}: ${[...issue.path.map(String), issue.message].join(': ')}`);
    } else handler(r.data, received);
  } catch (e) {
    if (!o.traced?.(e as Error)) refuse((e as Error).message);
  }
}

/**
 * Connect a kind's device to the bus and build it. The bus is held until it is built: time
 * must not move while a package is still loading (a process run starts time as soon as every
 * device registered). Keys the stack reports go into the trace as `key-export`.
 */
export async function startKindDevice<C, D extends KindDevice>(
  kind: DeviceKind<C, D>,
  spec: DeviceSpec,
  transport: ClientTransport,
  nvm: NvStore,
): Promise<{ radio: BusRadio; device: D }> {
  const radio = await BusRadio.connect(transport, spec.registration);
  const release = radio.hold();
  try {
    const onKeyExport: KeyExportHook = ({ t: _t, ...k }) => {
      if (!radio.closed) radio.trace({ type: 'key-export', ...k });
    };
    const device = await kind.create({
      radio,
      nvm,
      seed: spec.seed,
      config: spec.config as C,
      onKeyExport,
      autoPowerOn: spec.registration.powered ?? true,
      manufacturer: spec.manufacturer,
    });
    return { radio, device };
  } finally {
    release();
  }
}

/**
 * The process entry of every kind: `gbhan device <type> --bus <url> --state <file> --spec
 * <json DeviceSpec> [kind options]` (the scenario's `gbhan device` checks the arguments
 * first). Resolves when the device has left the bus. With `transport` (a worker thread's
 * MessagePort), `--bus` is not used.
 */
export async function runKindProcess<C, D extends KindDevice>(
  kind: DeviceKind<C, D>,
  argv: string[],
  transport?: ClientTransport,
): Promise<void> {
  const option = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const bus = option('--bus');
  const state = option('--state');
  const specText = option('--spec');
  if ((bus === undefined && transport === undefined) || state === undefined || specText === undefined)
    throw new Error('a device process needs --bus, --state and --spec');
  const spec = JSON.parse(specText) as DeviceSpec;
  const { radio, device } = await startKindDevice(
    kind,
    spec,
    transport ?? new WebSocketTransport(bus!),
    new FileNvStore(state),
  );
  const service = kind.serve ? await kind.serve(device, radio, option) : null;
  await new Promise<void>((resolve) => radio.onClose(() => resolve()));
  device.busClosed();
  service?.close();
}
