/**
 * Process entry of the meters: `gbhan device esme|gsme --bus ws://127.0.0.1:PORT --state FILE
 * ...` runs one meter in its own process, connected to the bus over WebSocket, its NVM in
 * FILE (atomic JSON), until the bus closes the connection.
 */
import { BusRadio, WebSocketTransport } from '@gbhan/radio-bus';
import { DeviceArgsError, parseDeviceArgs, peerOfType } from '@gbhan/runtime';
import { FileNvStore } from '@gbhan/stack';
import { Esme, type EsmeDeviceConfig, Gsme, type GsmeDeviceConfig } from './devices.js';

export type MeterType = 'esme' | 'gsme';

export async function runDeviceProcess(argv: string[], type?: MeterType): Promise<void> {
  const args = parseDeviceArgs(argv);
  const t = (type ?? args.type ?? '').toLowerCase();
  if (t !== 'esme' && t !== 'gsme') throw new DeviceArgsError(`device type must be esme or gsme, got '${t}'`);
  const chEui64 = (args.config.chEui64 as string | undefined) ?? peerOfType(args, /^(comms-hub|ch|chf)$/i);
  if (typeof chEui64 !== 'string')
    throw new DeviceArgsError('the CH EUI64 is required (--ch, config.chEui64 or a comms-hub peer)');
  if (typeof args.config.installCode !== 'string')
    throw new DeviceArgsError('--install-code (or config.installCode) is required');
  const nvm = new FileNvStore(args.state);
  const radio = await BusRadio.connect(new WebSocketTransport(args.bus), args.registration);
  const closed = new Promise<void>((resolve) => radio.onClose(() => resolve()));
  const device =
    t === 'esme'
      ? new Esme({ radio, nvm, seed: args.seed, config: { ...args.config, chEui64 } as EsmeDeviceConfig })
      : new Gsme({ radio, nvm, seed: args.seed, config: { ...args.config, chEui64 } as GsmeDeviceConfig });
  await closed;
  device.runtime.busClosed();
}

export const runEsmeProcess = (argv: string[]): Promise<void> => runDeviceProcess(argv, 'esme');
export const runGsmeProcess = (argv: string[]): Promise<void> => runDeviceProcess(argv, 'gsme');
