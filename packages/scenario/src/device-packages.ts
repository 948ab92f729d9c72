/**
 * The GB devices as scenario device types: `comms-hub` (@gbhan/comms-hub), `esme` and `gsme`
 * (@gbhan/meter), `ppmid` (@gbhan/ppmid). Each is the package's device class on a bus radio
 * with an NVM (in memory in-process, the `--state` file in a process), driven by the timeline
 * through `radio.onControl`.
 *
 * In-process and process runs build the device with the same code (`startDevice`), only the
 * transport and the NVM differ, so their traces cannot drift apart. Keys the stack reports
 * (network key, install-code and CBKE link keys) go into the trace as
 * `{type:'key-export', kind, origin, key, reporter, peer?}` for the run's Wireshark key file.
 * The packages are imported when a device of theirs is created, so runs without them do not
 * load them.
 */
import {
  BusRadio,
  bandOfPage,
  type ClientTransport,
  isValidChannel,
  WebSocketTransport,
} from '@gbhan/radio-bus';
import type { KeyExportHook, NvStore } from '@gbhan/stack';
import { z } from 'zod';
import { CliError } from './bus-command.js';
import {
  type DeviceSpec,
  type DeviceTypeDefinition,
  noArgs,
  type ResolveContext,
  registerDeviceType,
  type ScenarioDevice,
} from './registry.js';
import { duration } from './schema.js';
import { traceScenario } from './trace-events.js';

const u16 = z.number().int().min(0).max(0xffff);
const hex = (what: string) => z.string().regex(/^([0-9a-fA-F]{2})+$/, `${what}: hex digits`);
const installCode = hex('install code with its CRC');
/** A device named by its scenario id (or EUI64); resolved to the EUI64 at load. */
const ref = z.string();

const common = {
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
const joiner = {
  ...common,
  installCode,
  /** The Communications Hub (default: the scenario's only comms-hub). */
  ch: ref.optional(),
  /** Time between join attempts while no network takes it. */
  joinRetry: duration.optional(),
};

const CommsHubSchema = z.strictObject({
  ...common,
  panId: u16.optional(),
  /** Seconds joining stays permitted at power-on (default 255: whenever on). */
  permitJoinSeconds: z.number().int().min(0).max(255).optional(),
  /** Devices in the Device Log at first power-on: device ids (type and install code from the device). */
  deviceLog: z
    .array(
      z.union([
        ref,
        z.strictObject({
          device: ref,
          deviceType: z.string().optional(),
          installCode: installCode.optional(),
        }),
      ]),
    )
    .optional(),
  /** Inter-PAN window from each power-on (default 60m, GBCS); `unlimited` = SECMP0037. */
  interPanWindow: z.union([duration, z.literal('unlimited')]).optional(),
  tunnel: z
    .strictObject({
      responseTimeout: duration.optional(),
      retry: duration.optional(),
      busyRetry: duration.optional(),
    })
    .optional(),
});
/** Meter device triage: the optical port's manufacturer key and unlock timeout. */
const triage = {
  /** Manufacturer P-256 public key (hex); default: the run's manufacturer key. */
  manufacturerPublicKey: hex('manufacturer public key').optional(),
  opticalUnlockTimeout: duration.optional(),
};
const optical = z.strictObject({
  command: z.enum(['status', 'challenge', 'unlock', 'reset-han', 'read-diagnostics', 'leave-facility']),
  /** unlock: a given value (hex) instead of the run's manufacturer tool signing. */
  signature: z.string().optional(),
});
const EsmeSchema = z.strictObject({
  ...joiner,
  ...triage,
  loadW: z.number().min(0).optional(),
  initialWh: z.number().min(0).optional(),
  prepayment: z
    .strictObject({
      initialCredit: z.number().optional(),
      pricePerKwh: z.number().optional(),
      emergencyCreditLimit: z.number().optional(),
      emergencyCreditThreshold: z.number().optional(),
      lowCreditThreshold: z.number().optional(),
      maxCredit: z.number().optional(),
    })
    .optional(),
});
const GsmeSchema = z.strictObject({
  ...joiner,
  ...triage,
  flowLitresPerHour: z.number().min(0).optional(),
  initialLitres: z.number().min(0).optional(),
  reportPeriod: duration.optional(),
  pollPeriod: duration.optional(),
});
const PpmidSchema = z.strictObject({
  ...joiner,
  /** The ESME it serves (default: the scenario's only esme). */
  esme: ref.optional(),
  readPeriod: duration.optional(),
  readGas: z.boolean().optional(),
  /** SECMP0037: not in the Device Log, pair over Inter-PAN (like an HHT) before joining. */
  pairOverInterPan: z.boolean().optional(),
});

const HhtSchema = z.strictObject({
  ...common,
  installCode,
  /** The CH to commission (default: the best hub the scan hears). */
  ch: ref.optional(),
  /** The ESME of the installer action `read-meter`. */
  esme: ref.optional(),
  /** Channels of the active scan (2.4 GHz and/or GB868 pages of the radio's band). */
  scanChannels: common.channels,
  /** Pair at power-on instead of waiting for the `pair` action. */
  autoPair: z.boolean().optional(),
});

const AttackerSchema = z.strictObject({
  ...common,
  /** The CH to attack (default: the first hub the scan hears). */
  target: ref.optional(),
  targetPanId: u16.optional(),
  capture: z.boolean().optional(),
  /** An insider: its install code, logged in the target CH's Device Log; `join` gets it the network key. */
  installCode: installCode.optional(),
});

const GB_TYPES: Record<string, string> = {
  esme: 'ESME',
  gsme: 'GSME',
  ppmid: 'PPMID',
  'comms-hub': 'CHF',
  hht: 'HHT',
};
const power = { 'power-on': noArgs, 'power-off': noArgs };

/** The joiners' config: the CH (and ESME) references as EUI64s. */
function resolveJoiner(config: unknown, ctx: ResolveContext): unknown {
  const c = { ...(config as Record<string, unknown>) };
  c.chEui64 = (c.ch === undefined ? ctx.only(['comms-hub'], ['ch']) : ctx.device(c.ch, ['ch'])).eui64;
  delete c.ch;
  return c;
}

/** Build one device of a package type on a radio. */
type Factory = (o: {
  radio: BusRadio;
  nvm: NvStore;
  seed: string;
  config: Record<string, unknown>;
  onKeyExport: KeyExportHook;
  /** `powered:` of the scenario: a device that starts off waits for `power-on`. */
  autoPowerOn: boolean;
  manufacturer: DeviceSpec['manufacturer'];
}) => Promise<{ close(): void; busClosed(): void }>;

async function startDevice(
  spec: DeviceSpec,
  transport: ClientTransport,
  nvm: NvStore,
  factory: Factory,
): Promise<{ radio: BusRadio; device: { close(): void; busClosed(): void } }> {
  const radio = await BusRadio.connect(transport, spec.registration);
  // Hold the lock-step until the device is built and powered on: the bus must not move time
  // while a package is still loading (a process run starts time as soon as all registered).
  const release = radio.hold();
  try {
    const onKeyExport: KeyExportHook = ({ t: _t, ...k }) => {
      if (!radio.closed) traceScenario(radio, { type: 'key-export', ...k });
    };
    const device = await factory({
      radio,
      nvm,
      seed: spec.seed,
      config: spec.config as Record<string, unknown>,
      onKeyExport,
      autoPowerOn: spec.registration.powered ?? true,
      manufacturer: spec.manufacturer,
    });
    return { radio, device };
  } finally {
    release();
  }
}

/** Extra process-mode service next to a device (the CH's local WAN endpoint). */
type Serve = (
  device: { close(): void; busClosed(): void },
  radio: BusRadio,
  opt: (name: string) => string | undefined,
) => Promise<{ close(): void } | null>;

function packageType(
  d: Omit<DeviceTypeDefinition, 'create' | 'runProcess'> & { factory: Factory; serve?: Serve },
): DeviceTypeDefinition {
  return {
    ...d,
    async create(ctx): Promise<ScenarioDevice> {
      const { MemoryNvStore, FileNvStore } = await import('@gbhan/stack');
      const nvm = ctx.nvm ?? (ctx.statePath === null ? new MemoryNvStore() : new FileNvStore(ctx.statePath));
      const { device } = await startDevice(ctx, ctx.transport, nvm, d.factory);
      return { close: () => device.close() };
    },
    async runProcess(argv): Promise<void> {
      const opt = (name: string) => {
        const i = argv.indexOf(name);
        return i >= 0 ? argv[i + 1] : undefined;
      };
      const bus = opt('--bus');
      const state = opt('--state');
      const specText = opt('--spec');
      if (bus === undefined || state === undefined || specText === undefined)
        throw new Error('a device process needs --bus, --state and --spec');
      const { FileNvStore } = await import('@gbhan/stack');
      const spec = JSON.parse(specText) as DeviceSpec;
      const { radio, device } = await startDevice(
        spec,
        new WebSocketTransport(bus),
        new FileNvStore(state),
        d.factory,
      );
      const service = d.serve ? await d.serve(device, radio, opt) : null;
      await new Promise<void>((resolve) => radio.onClose(() => resolve()));
      device.busClosed();
      service?.close();
    },
  };
}

/**
 * `gbhan device esme|gsme ... --optical-port N`: the meter's optical port as a local JSON
 * endpoint for `gbhan optical --port N <command>` (wall-clock driven, like `--wan-port`).
 */
const serveOptical: Serve = async (device, radio, opt) => {
  const port = opt('--optical-port');
  if (port === undefined) return null;
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new CliError(`--optical-port must be 1..65535, got ${port}`);
  const { startOpticalEndpoint } = await import('@gbhan/meter');
  const { triage } = device as unknown as { triage: Parameters<typeof startOpticalEndpoint>[0] };
  return startOpticalEndpoint(triage, radio, n);
};

/**
 * A meter's share of the run's manufacturer key: its public key (unless the meter's config
 * names another manufacturer's) and the tool for `optical unlock` without a signature.
 */
async function meterManufacturer(
  m: DeviceSpec['manufacturer'],
): Promise<{ publicKey?: string; tool?: import('@gbhan/meter').ManufacturerTool }> {
  if (m === undefined) return {};
  const meter = await import('@gbhan/meter');
  const pair =
    m.secretKey !== undefined
      ? meter.parseManufacturerSecretKey(m.secretKey)
      : m.secretKeyFile !== undefined
        ? meter.readManufacturerSecretKeyFile(m.secretKeyFile)
        : null;
  return { publicKey: m.publicKey, ...(pair ? { tool: new meter.ManufacturerTool(pair.secretKey) } : {}) };
}

/**
 * A meter's constructor options from its scenario config: the run's manufacturer public key
 * (the meter's own `manufacturerPublicKey`, if given, wins), `durations` turned into `<name>Us`,
 * and the run's triage tool when there is one.
 */
async function meterOptions(
  config: Record<string, unknown>,
  manufacturer: DeviceSpec['manufacturer'],
  durations: readonly string[],
) {
  const m = await meterManufacturer(manufacturer);
  const rest = { ...config };
  const inUs: Record<string, number | undefined> = {};
  for (const k of durations) {
    inUs[`${k}Us`] = us(rest[k]);
    delete rest[k];
  }
  const c = { ...defined({ manufacturerPublicKey: m.publicKey }), ...defined(rest), ...defined(inUs) };
  return { config: c, ...(m.tool ? { manufacturerTool: m.tool } : {}) };
}

const us = (v: unknown) => (typeof v === 'number' ? v : undefined);
function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function registerDevicePackages(): void {
  registerDeviceType(
    'comms-hub',
    packageType({
      description: 'Communications Hub (CHF: coordinator, trust centre, Device Log, WAN side; GPF)',
      processOptions: { '--wan-port <port>': 'serve a local JSON endpoint on 127.0.0.1 that plays the DCC' },
      configSchema: CommsHubSchema,
      actions: {
        ...power,
        'wan-down': noArgs,
        'wan-up': noArgs,
        'permit-join': z.strictObject({ seconds: z.number().int().min(0).max(255).optional() }),
        'update-device-log': z.strictObject({
          op: z.enum(['add', 'remove']),
          device: ref,
          deviceType: z.string().optional(),
          installCode: installCode.optional(),
        }),
        'read-meter': z.strictObject({ target: ref, live: z.boolean().optional() }),
        'read-credit': z.strictObject({ target: ref }),
        'top-up': z.strictObject({ target: ref, code: z.string() }),
        'interpan-report': noArgs,
      },
      resolveConfig(config, ctx) {
        const c = { ...(config as z.output<typeof CommsHubSchema>) } as Record<string, unknown>;
        const log = (c.deviceLog ?? []) as (
          | string
          | { device: string; deviceType?: string; installCode?: string }
        )[];
        if (c.deviceLog !== undefined) {
          c.deviceLog = log.map((entry, i) => {
            const e = typeof entry === 'string' ? { device: entry } : entry;
            const path = typeof entry === 'string' ? ['deviceLog', i] : ['deviceLog', i, 'device'];
            const peer = ctx.device(e.device, path);
            const code = e.installCode ?? (peer.config as { installCode?: string }).installCode;
            if (code === undefined) ctx.fail(path, `device ${peer.id} has no installCode to log`);
            return {
              eui64: peer.eui64,
              deviceType: e.deviceType ?? GB_TYPES[peer.type] ?? peer.type,
              installCode: code,
            };
          });
        }
        if (typeof c.interPanWindow === 'number') c.interPanWindowUs = c.interPanWindow;
        else if (c.interPanWindow === 'unlimited') c.interPanWindowUs = 'unlimited';
        delete c.interPanWindow;
        const t = c.tunnel as { responseTimeout?: number; retry?: number; busyRetry?: number } | undefined;
        if (t !== undefined)
          c.tunnel = defined({
            responseTimeoutUs: t.responseTimeout,
            retryUs: t.retry,
            busyRetryUs: t.busyRetry,
          });
        return c;
      },
      prepareCommand(command, ctx) {
        if (command.action !== 'update-device-log') return command;
        const { device, ...rest } = command;
        if (command.op === 'remove') return { ...rest, eui64: device };
        const peer = ctx.device(device, ['device']);
        const code =
          (command.installCode as string | undefined) ??
          (peer.config as { installCode?: string }).installCode;
        if (code === undefined)
          ctx.fail(['device'], `device ${peer.id} has no installCode: give args.installCode`);
        return {
          ...rest,
          eui64: peer.eui64,
          deviceType: (command.deviceType as string | undefined) ?? GB_TYPES[peer.type] ?? peer.type,
          installCode: code,
        };
      },
      factory: async ({ radio, nvm, seed, config, onKeyExport, autoPowerOn }) => {
        const { CommsHub } = await import('@gbhan/comms-hub');
        const c = config as ConstructorParameters<typeof CommsHub>[0]['config'];
        return new CommsHub({ radio, nvm, seed, ...(c ? { config: c } : {}), onKeyExport, autoPowerOn });
      },
      // `gbhan device comms-hub ... --wan-port N`: a local JSON endpoint plays the DCC (wall-clock
      // driven, so such a run is not reproducible; scenarios use timeline commands instead).
      serve: async (device, radio, opt) => {
        const port = opt('--wan-port');
        if (port === undefined) return null;
        const n = Number(port);
        if (!Number.isInteger(n) || n < 1 || n > 65535)
          throw new CliError(`--wan-port must be 1..65535, got ${port}`);
        const { CommsHub, startWanEndpoint } = await import('@gbhan/comms-hub');
        return startWanEndpoint(device as InstanceType<typeof CommsHub>, radio, n);
      },
    }),
  );

  registerDeviceType(
    'esme',
    packageType({
      description: 'electricity smart meter (Metering, Prepayment, GB-HGRP tunnel server)',
      processOptions: { '--optical-port <port>': 'serve the optical port on 127.0.0.1 for `gbhan optical`' },
      configSchema: EsmeSchema,
      usesManufacturerKey: true,
      actions: {
        ...power,
        'set-load': z.strictObject({ watts: z.number().min(0) }),
        'emergency-credit': noArgs,
        'top-up': z.strictObject({ code: z.string() }),
        optical,
      },
      resolveConfig: resolveJoiner,
      factory: async ({ radio, nvm, seed, config, onKeyExport, autoPowerOn, manufacturer }) => {
        const { Esme } = await import('@gbhan/meter');
        const o = await meterOptions(config, manufacturer, ['joinRetry', 'opticalUnlockTimeout']);
        const esme = new Esme({
          radio,
          nvm,
          seed,
          ...o,
          config: o.config as ConstructorParameters<typeof Esme>[0]['config'],
          onKeyExport,
          autoPowerOn,
        });
        return { close: () => esme.close(), busClosed: () => esme.runtime.busClosed(), triage: esme.triage };
      },
      serve: serveOptical,
    }),
  );

  registerDeviceType(
    'gsme',
    packageType({
      description: 'gas smart meter (sleepy, reports to the GPF)',
      processOptions: { '--optical-port <port>': 'serve the optical port on 127.0.0.1 for `gbhan optical`' },
      configSchema: GsmeSchema,
      usesManufacturerKey: true,
      actions: {
        ...power,
        'set-flow': z.strictObject({ litresPerHour: z.number().min(0) }),
        wake: noArgs,
        optical,
      },
      resolveConfig: resolveJoiner,
      factory: async ({ radio, nvm, seed, config, onKeyExport, autoPowerOn, manufacturer }) => {
        const { Gsme } = await import('@gbhan/meter');
        const o = await meterOptions(config, manufacturer, [
          'joinRetry',
          'reportPeriod',
          'pollPeriod',
          'opticalUnlockTimeout',
        ]);
        const gsme = new Gsme({
          radio,
          nvm,
          seed,
          ...o,
          config: o.config as ConstructorParameters<typeof Gsme>[0]['config'],
          onKeyExport,
          autoPowerOn,
        });
        return { close: () => gsme.close(), busClosed: () => gsme.runtime.busClosed(), triage: gsme.triage };
      },
      serve: serveOptical,
    }),
  );

  registerDeviceType(
    'ppmid',
    packageType({
      description: 'Prepayment Meter Interface Device (reads the ESME, shows credit, tops up)',
      configSchema: PpmidSchema,
      actions: {
        ...power,
        'top-up': z.strictObject({ code: z.string() }),
        'read-meter': noArgs,
        'emergency-credit': noArgs,
      },
      resolveConfig(config, ctx) {
        const c = resolveJoiner(config, ctx) as Record<string, unknown>;
        c.esmeEui64 = (
          c.esme === undefined ? ctx.only(['esme'], ['esme']) : ctx.device(c.esme, ['esme'])
        ).eui64;
        delete c.esme;
        return c;
      },
      factory: async ({ radio, nvm, seed, config, onKeyExport, autoPowerOn }) => {
        const { Ppmid } = await import('@gbhan/ppmid');
        const { joinRetry, readPeriod, ...rest } = config;
        const c = {
          ...rest,
          ...defined({ joinRetryUs: us(joinRetry), readPeriodUs: us(readPeriod) }),
        } as ConstructorParameters<typeof Ppmid>[0]['config'];
        const ppmid = new Ppmid({ radio, nvm, seed, config: c, onKeyExport, autoPowerOn });
        return { close: () => ppmid.close(), busClosed: () => ppmid.runtime.busClosed() };
      },
    }),
  );

  registerDeviceType(
    'hht',
    packageType({
      description:
        "installer's Hand Held Terminal (scan, Inter-PAN CBKE + install-code hand-over, join, meter read)",
      configSchema: HhtSchema,
      actions: {
        ...power,
        pair: noArgs,
        scan: noArgs,
        'read-meter': z.strictObject({ peer: ref.optional() }),
      },
      resolveConfig(config, ctx) {
        const c = { ...(config as Record<string, unknown>) };
        if (c.ch !== undefined) c.chEui64 = ctx.device(c.ch, ['ch']).eui64;
        if (c.esme !== undefined) c.esmeEui64 = ctx.device(c.esme, ['esme']).eui64;
        delete c.ch;
        delete c.esme;
        return c;
      },
      factory: async ({ radio, nvm, seed, config, onKeyExport, autoPowerOn }) => {
        const { Hht } = await import('@gbhan/hht');
        const c = config as unknown as ConstructorParameters<typeof Hht>[0]['config'];
        return new Hht({ radio, nvm, seed, config: c, onKeyExport, autoPowerOn });
      },
    }),
  );

  registerDeviceType(
    'attacker',
    packageType({
      description:
        'rogue radio: scan, Initiate Key Establishment floods, malformed Inter-PAN, foreign certificates, replays',
      configSchema: AttackerSchema,
      actions: {
        ...power,
        scan: noArgs,
        flood: z.strictObject({
          count: z.number().int().min(1).max(10_000).optional(),
          interval: duration.optional(),
          spoof: z.number().int().min(0).max(1024).optional(),
          certificate: z.enum(['unknown-issuer', 'foreign']).optional(),
        }),
        malformed: z.strictObject({ kinds: z.array(z.string()).optional() }),
        'unknown-issuer': noArgs,
        'foreign-certificate': z.strictObject({ peer: ref.optional() }),
        replay: z.strictObject({ count: z.number().int().min(1).optional() }),
        join: noArgs,
        insider: z.strictObject({
          target: ref,
          attacks: z.array(z.enum(['nwk-leave', 'mgmt-leave', 'spoofed-leave', 'transport-key'])).optional(),
        }),
      },
      resolveConfig(config, ctx) {
        const c = { ...(config as Record<string, unknown>) };
        if (c.target !== undefined) c.targetEui64 = ctx.device(c.target, ['target']).eui64;
        delete c.target;
        if (c.installCode !== undefined && c.targetEui64 === undefined)
          ctx.fail(['installCode'], 'an insider needs target (its CH)');
        return c;
      },
      factory: async ({ radio, nvm, seed, config, onKeyExport, autoPowerOn }) => {
        const { Attacker } = await import('@gbhan/attacker');
        const c = config as ConstructorParameters<typeof Attacker>[0]['config'];
        return new Attacker({ radio, nvm, seed, ...(c ? { config: c } : {}), onKeyExport, autoPowerOn });
      },
    }),
  );
}
