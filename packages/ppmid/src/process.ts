/**
 * Process entry of the PPMID: `gbhan device ppmid --bus ws://127.0.0.1:PORT --state FILE ...`
 * runs it in its own process, connected to the bus over WebSocket, its NVM in FILE (atomic
 * JSON), until the bus closes the connection.
 */
import { BusRadio, WebSocketTransport } from '@gbhan/radio-bus';
import { DeviceArgsError, parseDeviceArgs, peerOfType } from '@gbhan/runtime';
import { FileNvStore } from '@gbhan/stack';
import { Ppmid, type PpmidDeviceConfig } from './ppmid.js';

export async function runDeviceProcess(argv: string[]): Promise<void> {
  const args = parseDeviceArgs(argv);
  const chEui64 = (args.config.chEui64 as string | undefined) ?? peerOfType(args, /^(comms-hub|ch|chf)$/i);
  const esmeEui64 = (args.config.esmeEui64 as string | undefined) ?? peerOfType(args, /^esme$/i);
  if (typeof chEui64 !== 'string')
    throw new DeviceArgsError('the CH EUI64 is required (--ch, config.chEui64 or a comms-hub peer)');
  if (typeof esmeEui64 !== 'string')
    throw new DeviceArgsError('the ESME EUI64 is required (--esme, config.esmeEui64 or an esme peer)');
  if (typeof args.config.installCode !== 'string')
    throw new DeviceArgsError('--install-code (or config.installCode) is required');
  const nvm = new FileNvStore(args.state);
  const radio = await BusRadio.connect(new WebSocketTransport(args.bus), args.registration);
  const closed = new Promise<void>((resolve) => radio.onClose(() => resolve()));
  const device = new Ppmid({
    radio,
    nvm,
    seed: args.seed,
    config: { ...args.config, chEui64, esmeEui64 } as PpmidDeviceConfig,
  });
  await closed;
  device.runtime.busClosed();
}
