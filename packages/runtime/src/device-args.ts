/**
 * Command-line arguments of a device process (`gbhan device <type> --bus ws://... --state FILE
 * ...`): either `--spec <JSON DeviceSpec>` as the scenario runner passes it, or the single
 * flags. Bad arguments throw `DeviceArgsError` with a message for the user.
 * Shared by every device package's process entry (`runDeviceProcess`).
 */
import { parseArgs } from 'node:util';
import type { RadioRegistration } from '@gbhan/radio-bus';
import { isEui64 } from '@gbhan/zigbee';

export class DeviceArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceArgsError';
  }
}

export interface DeviceArgs {
  bus: string;
  state: string;
  type: string | undefined;
  eui64: string;
  seed: string;
  registration: RadioRegistration;
  /** The device's configuration object (from the spec or `--config`), plus flags merged in. */
  config: Record<string, unknown>;
  peers: { id: string; type: string; eui64: string }[];
}

export const DEVICE_ARGS_USAGE =
  '--bus ws://127.0.0.1:PORT --state FILE (--spec JSON | --eui64 HEX [--seed S] [--band 2.4GHz|GB868] [--page N] [--channel N] [--x M] [--y M] [--config JSON] [--install-code HEX] [--ch EUI64] [--esme EUI64])';

function json(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new DeviceArgsError(`${what} is not JSON`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new DeviceArgsError(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function int(text: string | undefined, what: string, dflt: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new DeviceArgsError(`${what} must be a number, got ${text}`);
  return n;
}

export function parseDeviceArgs(argv: string[]): DeviceArgs {
  let values: Record<string, string | undefined>;
  let positionals: string[];
  try {
    const r = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        bus: { type: 'string' },
        state: { type: 'string' },
        spec: { type: 'string' },
        type: { type: 'string' },
        eui64: { type: 'string' },
        seed: { type: 'string' },
        band: { type: 'string' },
        page: { type: 'string' },
        channel: { type: 'string' },
        x: { type: 'string' },
        y: { type: 'string' },
        name: { type: 'string' },
        config: { type: 'string' },
        'install-code': { type: 'string' },
        ch: { type: 'string' },
        esme: { type: 'string' },
        'wan-port': { type: 'string' },
      },
    });
    values = r.values as Record<string, string | undefined>;
    positionals = r.positionals;
  } catch (e) {
    throw new DeviceArgsError(`${(e as Error).message}\nusage: ${DEVICE_ARGS_USAGE}`);
  }
  if (!values.bus) throw new DeviceArgsError(`--bus is required\nusage: ${DEVICE_ARGS_USAGE}`);
  if (!/^wss?:\/\//.test(values.bus))
    throw new DeviceArgsError(`--bus must be a ws:// URL, got ${values.bus}`);
  if (!values.state) throw new DeviceArgsError(`--state is required\nusage: ${DEVICE_ARGS_USAGE}`);
  const spec = values.spec ? json(values.spec, '--spec') : {};
  const eui64 = String(values.eui64 ?? spec.eui64 ?? '').toLowerCase();
  if (!isEui64(eui64)) throw new DeviceArgsError(`an EUI64 (16 hex digits) is required, got '${eui64}'`);
  const specReg = (spec.registration ?? {}) as Partial<RadioRegistration>;
  const band = (values.band ?? specReg.band ?? '2.4GHz') as RadioRegistration['band'];
  if (band !== '2.4GHz' && band !== 'GB868')
    throw new DeviceArgsError(`--band must be 2.4GHz or GB868, got ${band}`);
  const registration: RadioRegistration = {
    ...specReg,
    eui64,
    band,
    page: int(values.page, '--page', specReg.page ?? (band === 'GB868' ? 28 : 0)),
    channel: int(values.channel, '--channel', specReg.channel ?? (band === 'GB868' ? 0 : 11)),
    position: {
      ...(specReg.position ?? { x: 0, y: 0 }),
      ...(values.x !== undefined ? { x: int(values.x, '--x', 0) } : {}),
      ...(values.y !== undefined ? { y: int(values.y, '--y', 0) } : {}),
    },
    ...(values.name !== undefined ? { name: values.name } : {}),
  };
  const config: Record<string, unknown> = {
    ...((spec.config as Record<string, unknown> | undefined) ?? {}),
    ...(values.config ? json(values.config, '--config') : {}),
  };
  if (values['install-code']) config.installCode = values['install-code'];
  if (values.ch) config.chEui64 = values.ch.toLowerCase();
  if (values.esme) config.esmeEui64 = values.esme.toLowerCase();
  if (values['wan-port']) config.wanPort = int(values['wan-port'], '--wan-port', 0);
  const peers = Array.isArray(spec.peers) ? (spec.peers as DeviceArgs['peers']) : [];
  return {
    bus: values.bus,
    state: values.state,
    type: values.type ?? positionals[0] ?? (typeof spec.type === 'string' ? spec.type : undefined),
    eui64,
    seed: String(values.seed ?? spec.seed ?? '1'),
    registration,
    config,
    peers,
  };
}

/** A peer's EUI64 by type (`comms-hub`/`ch`, `esme` ...), for configs that leave it out. */
export function peerOfType(args: DeviceArgs, pattern: RegExp): string | undefined {
  return args.peers.find((p) => pattern.test(p.type))?.eui64;
}
