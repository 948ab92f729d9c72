/**
 * A scenario device in a worker thread (`gbhan run --workers`): the same device-kind entry as
 * `gbhan device <type>`, its arguments checked the same way, but on the MessagePort its runner
 * handed it instead of a WebSocket. workerData: { type, argv, port }.
 */
import { type MessagePort, workerData } from 'node:worker_threads';
import { MessagePortTransport } from '@gbhan/radio-bus';
import { checkDeviceArgs } from './device-command.js';
import { deviceType } from './registry.js';
import './builtin.js';

const { type, argv, port } = workerData as { type: string; argv: string[]; port: MessagePort };
const def = deviceType(type);
if (def === undefined) throw new Error(`unknown device type ${type}`);
await def.runProcess(checkDeviceArgs(type, def, argv, true), new MessagePortTransport(port));
