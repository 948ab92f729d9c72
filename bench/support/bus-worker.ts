/**
 * Devices in one worker thread for the bus throughput benchmark (one or several): each its own
 * bench-radio.ts on its own MessagePort. workerData: { ports, indices, frames }
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { MessagePortTransport } from '@gbhan/radio-bus';
import { benchRadio } from './bench-radio.js';

const { ports, indices, frames } = workerData as { ports: MessagePort[]; indices: number[]; frames: number };
const heard = await Promise.all(
  ports.map((p, i) => benchRadio(new MessagePortTransport(p), indices[i]!, frames)),
);
parentPort!.postMessage({ indices, heard });
