/**
 * A device in a worker thread for the bus throughput benchmark (bench-radio.ts over the
 * MessagePort its bus handed it). workerData: { port, index, frames }
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { MessagePortTransport } from '@gbhan/radio-bus';
import { benchRadio } from './bench-radio.js';

const { port, index, frames } = workerData as { port: MessagePort; index: number; frames: number };
const heard = await benchRadio(new MessagePortTransport(port), index, frames);
parentPort!.postMessage({ index, heard });
