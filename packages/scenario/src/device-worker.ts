/**
 * Scenario devices in worker threads (`gbhan run --workers`): the same device-kind entry as
 * `gbhan device <type>`, its arguments checked the same way, but on a MessagePort its runner
 * handed it instead of a WebSocket.
 *
 * - One device per thread: workerData { type, argv, port }; the thread ends with the device.
 * - Several devices per thread (`--threads N`): workerData { group: true }; the runner posts
 *   { op: 'start', key, type, argv, port } and { op: 'kill', key } and hears
 *   { op: 'exit', key, code, error? } when a device has left the bus. Devices of one thread
 *   share its event loop, so a bus round wakes each thread once, not each device.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { MessagePortTransport } from '@gbhan/radio-bus';
import { checkDeviceArgs } from './device-command.js';
import { deviceType } from './registry.js';
import './builtin.js';

/** What the runner posts to a thread of several devices. */
export type GroupCommand =
  | { op: 'start'; key: number; type: string; argv: string[]; port: MessagePort }
  | { op: 'kill'; key: number };
/** What such a thread posts back when a device has left the bus (code 1: it failed). */
export interface GroupExit {
  op: 'exit';
  key: number;
  code: number;
  error?: string;
}

async function runDevice(type: string, argv: string[], transport: MessagePortTransport): Promise<void> {
  const def = deviceType(type);
  if (def === undefined) throw new Error(`unknown device type ${type}`);
  await def.runProcess(checkDeviceArgs(type, def, argv, true), transport);
}

const data = workerData as { group?: boolean; type: string; argv: string[]; port: MessagePort };
if (data.group !== true) {
  await runDevice(data.type, data.argv, new MessagePortTransport(data.port));
} else {
  const running = new Map<number, MessagePortTransport>();
  const exit = (m: GroupExit) => parentPort!.postMessage(m);
  parentPort!.on('message', (m: GroupCommand) => {
    if (m.op === 'kill') {
      // The bus has already taken the radio off the air (crash, end of run): drop the device
      // as a killed process ends, without its own shutdown.
      const t = running.get(m.key);
      if (t === undefined) return;
      running.delete(m.key);
      t.close();
      exit({ op: 'exit', key: m.key, code: 0 });
      return;
    }
    const transport = new MessagePortTransport(m.port);
    running.set(m.key, transport);
    runDevice(m.type, m.argv, transport).then(
      () => {
        if (running.delete(m.key)) exit({ op: 'exit', key: m.key, code: 0 });
      },
      (e: unknown) => {
        if (!running.delete(m.key)) return;
        exit({
          op: 'exit',
          key: m.key,
          code: 1,
          error: e instanceof Error ? (e.stack ?? e.message) : String(e),
        });
      },
    );
  });
}
