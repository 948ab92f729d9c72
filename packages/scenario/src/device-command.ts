/** `gbhan device <type> ...`: one device in this process, on a bus server (`--processes` runs). */
import { CliError } from './bus-command.js';
import { deviceType, deviceTypes } from './registry.js';
import './builtin.js';

export async function runDeviceCommand(type: string, argv: string[]): Promise<void> {
  const def = deviceType(type);
  if (def === undefined)
    throw new CliError(`unknown device type ${type} (known: ${deviceTypes().join(', ')})`);
  await def.runProcess(argv);
}
