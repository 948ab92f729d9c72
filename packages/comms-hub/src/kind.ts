/**
 * The Communications Hub as a device kind (scenario type `comms-hub`): its scenario config,
 * its actions (the one union `CommsHub.control` dispatches on), its trace events, how it is
 * built and its process entry (`gbhan device comms-hub ... [--wan-port N]`). The device code
 * is loaded when a hub is built.
 */

import { DeviceArgsError } from '@gbhan/runtime';
import {
  action,
  commonConfig,
  type DeviceKind,
  duration,
  installCode,
  powerActions,
  ref,
  u16,
} from '@gbhan/stack';
import { z } from 'zod';
import type { CommsHub, CommsHubConfig } from './comms-hub.js';
import { COMMS_HUB_TRACE_EVENTS } from './trace-events.js';

const CommsHubSchema = z.strictObject({
  ...commonConfig,
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
  /** SECMP0038: route GBCS commands an enhanced PPMID passes onto the HAN (default false: refused, today's rule). */
  secmp0038: z.boolean().optional(),
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

const party = z.enum(['supplier', 'supplier2', 'acb', 'network-operator']);
/** Which Supplier signs; `forge` makes the command wrong on purpose (tests of the meter's checks). */
const gbcsOptions = {
  as: z.enum(['supplier', 'supplier2']).optional(),
  forge: z
    .strictObject({
      signAs: party.optional(),
      macAs: party.optional(),
      counter: z.union([z.number().int().min(0), z.string().regex(/^\d+$/)]).optional(),
      flipBit: z.number().int().min(0).optional(),
    })
    .optional(),
};

/** The hub's actions as it receives them (devices as EUI64s). */
export const COMMS_HUB_ACTIONS = z.discriminatedUnion('action', [
  ...powerActions,
  action('wan-down'),
  action('wan-up'),
  action('permit-join', { seconds: z.number().int().min(0).max(255).optional() }),
  /** A DCC Device Log update; the scenario names the device, the hub gets its EUI64, type and code. */
  action('update-device-log', {
    op: z.enum(['add', 'remove']),
    eui64: z.string(),
    deviceType: z.string().optional(),
    installCode: z.string().optional(),
  }),
  action('read-meter', { target: z.string(), live: z.boolean().optional() }),
  action('read-credit', { target: z.string() }),
  action('top-up', { target: z.string(), code: z.string(), ...gbcsOptions }),
  action('set-clock', { target: z.string(), epochSeconds: z.number().int().optional(), ...gbcsOptions }),
  action('supply', { target: z.string(), state: z.enum(['enable', 'disable']), ...gbcsOptions }),
  action('emergency-credit', { target: z.string(), ...gbcsOptions }),
  /** Raw GBCS bytes (hex), sent to the recipient the message names. */
  action('gbcs', { hex: z.string().regex(/^([0-9a-fA-F]{2})+$/, 'hex digits') }),
  /** The last GBCS command sent to `target`, sent again byte for byte (a replay). */
  action('gbcs-replay', { target: z.string() }),
  action('interpan-report'),
]);
export type CommsHubAction = z.output<typeof COMMS_HUB_ACTIONS>;

const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export const commsHubKind: DeviceKind<CommsHubConfig, CommsHub> = {
  type: 'comms-hub',
  gbType: 'CHF',
  description: 'Communications Hub (CHF: coordinator, trust centre, Device Log, WAN side; GPF)',
  processOptions: { '--wan-port <port>': 'serve a local JSON endpoint on 127.0.0.1 that plays the DCC' },
  config: CommsHubSchema,
  resolveConfig(config, ctx) {
    const { deviceLog, interPanWindow, tunnel, ...c } = config as z.output<typeof CommsHubSchema>;
    const out: Record<string, unknown> = { ...c };
    if (deviceLog !== undefined)
      out.deviceLog = deviceLog.map((entry, i) => {
        const e = typeof entry === 'string' ? { device: entry } : entry;
        const path = typeof entry === 'string' ? ['deviceLog', i] : ['deviceLog', i, 'device'];
        const peer = ctx.device(e.device, path);
        const code = e.installCode ?? (peer.config as { installCode?: string }).installCode;
        if (code === undefined) ctx.fail(path, `device ${peer.id} has no installCode to log`);
        return {
          eui64: peer.eui64,
          deviceType: e.deviceType ?? ctx.gbType(peer.type) ?? peer.type,
          installCode: code,
        };
      });
    if (interPanWindow !== undefined) out.interPanWindowUs = interPanWindow;
    if (tunnel !== undefined)
      out.tunnel = defined({
        responseTimeoutUs: tunnel.responseTimeout,
        retryUs: tunnel.retry,
        busyRetryUs: tunnel.busyRetry,
      });
    return out as CommsHubConfig;
  },
  actions: COMMS_HUB_ACTIONS,
  scenarioArgs: {
    'update-device-log': z.strictObject({
      op: z.enum(['add', 'remove']),
      device: ref,
      deviceType: z.string().optional(),
      installCode: installCode.optional(),
    }),
  },
  prepareCommand(command, ctx) {
    if (command.action !== 'update-device-log') return command;
    const { device, ...rest } = command;
    if (command.op === 'remove') return { ...rest, eui64: device };
    const peer = ctx.device(device, ['device']);
    const code =
      (command.installCode as string | undefined) ?? (peer.config as { installCode?: string }).installCode;
    if (code === undefined)
      ctx.fail(['device'], `device ${peer.id} has no installCode: give args.installCode`);
    return {
      ...rest,
      eui64: peer.eui64,
      deviceType: (command.deviceType as string | undefined) ?? ctx.gbType(peer.type) ?? peer.type,
      installCode: code,
    };
  },
  traceEvents: COMMS_HUB_TRACE_EVENTS,
  async create({ radio, nvm, seed, config, onKeyExport, autoPowerOn }) {
    const { CommsHub } = await import('./comms-hub.js');
    return new CommsHub({ radio, nvm, seed, ...(config ? { config } : {}), onKeyExport, autoPowerOn });
  },
  // `--wan-port N`: a local JSON endpoint plays the DCC (wall-clock driven, so such a run is
  // not reproducible; scenarios use timeline commands instead).
  async serve(hub, radio, option) {
    const port = option('--wan-port');
    if (port === undefined) return null;
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new DeviceArgsError(`--wan-port must be 1..65535, got ${port}`);
    const { startWanEndpoint } = await import('./wan-endpoint.js');
    return startWanEndpoint(hub, radio, n);
  },
};
