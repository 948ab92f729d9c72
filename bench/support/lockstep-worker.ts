/**
 * Lock-step floor over a MessagePort: answers every message with an `idle`-sized reply, the
 * least any conservative lock-step asks of a device. workerData: { port }
 */
import { type MessagePort, workerData } from 'node:worker_threads';

const { port } = workerData as { port: MessagePort };
port.on('message', (m: { type: string; t: number }) => {
  if (m.type === 'end') {
    port.close();
    return;
  }
  port.postMessage({ type: 'idle', next: m.t + 5000 });
});
