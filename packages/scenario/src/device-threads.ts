/**
 * Devices in worker threads. `gbhan run --workers`: a thread per device. `gbhan run
 * --threads N`: the scenario's devices spread over N worker threads, each device
 * still its own MessagePort on the bus. A lock-step round then wakes each thread once rather
 * than each device (a thread wake-up is what a round costs: bench/bus-throughput.ts), at the
 * price of isolation: devices of one thread share its heap, and an exception one of them
 * does not catch ends the thread and with it the others (the run fails either way).
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { GroupCommand, GroupExit } from './device-worker.js';

/** One device of a thread, as the runner ends it (the shape of a process's handle). */
export interface ThreadDevice {
  readonly exitCode: number | null;
  kill(): void;
  /** Resolves with 0 when the device has left the bus, 1 when it failed (the reason goes to `onStderr`). */
  readonly exit: Promise<number>;
}

interface Host {
  worker: Worker;
  running: Map<number, { done(code: number, error?: string): void }>;
  stopping: boolean;
}

/**
 * `gbhan run --workers`: one device in a thread of its own, ended with `Worker.terminate()`
 * (the thread's exit code is the device's: an exception it does not catch is exit 1).
 */
export function startDeviceThread(
  entry: URL,
  type: string,
  argv: string[],
  onStderr: (text: string) => void,
): { device: ThreadDevice; port: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(entry, {
    workerData: { type, argv, port: port2 },
    transferList: [port2],
    stderr: true,
  });
  worker.stderr.on('data', (d) => onStderr(String(d)));
  worker.on('error', (e) => onStderr(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`));
  let exitCode: number | null = null;
  const exit = new Promise<number>((resolve) =>
    worker.on('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const device: ThreadDevice = {
    get exitCode() {
      return exitCode;
    },
    kill: () => void worker.terminate(),
    exit,
  };
  return { device, port: port1 };
}

export class DeviceThreads {
  private readonly hosts: Host[] = [];
  private readonly hostOf = new Map<string, Host>();
  private next = 0;
  private key = 0;

  constructor(
    private readonly entry: URL,
    private readonly threads: number,
  ) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be >= 1, got ${threads}`);
  }

  /**
   * Start device `id` in its thread (round robin in start order; a restart goes back to the
   * thread it had) and return its handle and the bus end of its MessagePort.
   */
  start(
    id: string,
    type: string,
    argv: string[],
    onStderr: (text: string) => void,
  ): { device: ThreadDevice; port: MessagePort } {
    let host = this.hostOf.get(id);
    if (host === undefined) {
      const i = this.next++ % this.threads;
      host = this.hosts[i] ?? this.newHost();
      this.hostOf.set(id, host);
    }
    const key = this.key++;
    const { port1, port2 } = new MessageChannel();
    let exitCode: number | null = null;
    const h = host;
    const exit = new Promise<number>((resolve) => {
      h.running.set(key, {
        done: (code, error) => {
          if (exitCode !== null) return;
          exitCode = code;
          h.running.delete(key);
          if (error !== undefined) onStderr(`${error}\n`);
          resolve(code);
        },
      });
    });
    const cmd: GroupCommand = { op: 'start', key, type, argv, port: port2 };
    host.worker.postMessage(cmd, [port2]);
    const device: ThreadDevice = {
      get exitCode() {
        return exitCode;
      },
      kill: () => {
        if (exitCode === null) h.worker.postMessage({ op: 'kill', key } satisfies GroupCommand);
      },
      exit,
    };
    return { device, port: port1 };
  }

  /** End every thread (after their devices have left the bus). */
  async close(): Promise<void> {
    for (const h of this.hosts) h.stopping = true;
    await Promise.all(this.hosts.map((h) => h.worker.terminate()));
  }

  private newHost(): Host {
    const worker = new Worker(this.entry, { workerData: { group: true }, stderr: true });
    const host: Host = { worker, running: new Map(), stopping: false };
    let stderr = '';
    worker.stderr.on('data', (d) => {
      stderr += d;
    });
    worker.on('message', (m: GroupExit) => host.running.get(m.key)?.done(m.code, m.error));
    // An exception no device caught ends the thread: every device still in it fails with it.
    worker.on('error', (e) => {
      stderr += `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`;
    });
    worker.on('exit', (code) => {
      for (const d of [...host.running.values()]) d.done(host.stopping ? 0 : code || 1, stderr || undefined);
    });
    this.hosts.push(host);
    return host;
  }
}
