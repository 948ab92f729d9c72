/**
 * Frames delivered per second through the bus with 20 clients, each its own process over
 * WebSocket, the same 20 as worker threads over MessagePorts (`gbhan run --workers`), and
 * the 20 spread over BENCH_THREADS (default 2, the cores here) worker threads, each still on
 * its own MessagePort (`gbhan run --threads 2`), against baselines measured in the same run:
 * - raw ws broadcast (server relays every message to the other 19, no waiting): the goal
 *   is bus/raw >= 0.5;
 * - the lock-step floor: the same sockets doing nothing but one message to each client and
 *   one reply back per round. A conservative lock-step cannot beat it (every delivery needs
 *   its receiver's idle reply before time moves), so floor/raw is the most bus/raw can be
 *   on this machine, and bus/floor is what the bus's own code costs;
 * - the same floor over MessagePorts to worker threads (floor-workers).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker } from 'node:worker_threads';
import { attachMessagePort, RadioBus, startBusServer } from '@gbhan/radio-bus';
import { WebSocketServer } from 'ws';

const CLIENTS = 20;
const FRAMES = Number(process.env.BENCH_FRAMES ?? 150);
const here = new URL('.', import.meta.url).pathname;

function child(script: string, args: string[]): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []),
      '--import',
      'tsx',
      `${here}support/${script}`,
      ...args,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}

/**
 * The bus with CLIENTS radios that `start` puts on it (resolving with a function that waits
 * for them to leave): rx deliveries per second from the first frame on.
 */
async function busDeliveries(
  start: (bus: RadioBus) => Promise<() => Promise<unknown>>,
): Promise<{ delivered: number; seconds: number }> {
  const bus = new RadioBus({ seed: 1, expectRadios: CLIENTS, idleTimeoutMs: 60_000 });
  let delivered = 0;
  let firstTx = 0;
  bus.onTrace((e) => {
    if (e.type === 'rx') delivered++;
    if (e.type === 'tx' && firstTx === 0) firstTx = performance.now();
  });
  const gone = await start(bus);
  await bus.runUntil(FRAMES * 100_000 + 10_000);
  const seconds = (performance.now() - firstTx) / 1000;
  bus.close();
  await gone();
  return { delivered, seconds };
}

/** The bus run with the 20 radios in processes of their own, over WebSocket. */
function busRun(): Promise<{ delivered: number; seconds: number }> {
  return busDeliveries(async (bus) => {
    const server = await startBusServer(bus);
    const procs = Array.from({ length: CLIENTS }, (_, i) =>
      child('bus-client.ts', [server.url, String(i), String(FRAMES)]),
    );
    return async () => {
      await Promise.all(procs.map((p) => new Promise((r) => p.on('exit', r))));
      await server.close();
    };
  });
}

function worker(script: string, data: Record<string, unknown>): { w: Worker; port: MessageChannel['port1'] } {
  const { port1, port2 } = new MessageChannel();
  const w = new Worker(new URL('./support/ts-worker.mjs', import.meta.url), {
    workerData: { ...data, port: port2, script: new URL(`./support/${script}`, import.meta.url).href },
    transferList: [port2],
  });
  return { w, port: port1 };
}

/**
 * The bus run with the 20 radios in `threads` worker threads of this process, each radio on
 * its own MessagePort: 20 threads is `gbhan run --workers`, fewer is `--threads`.
 */
function busThreadsRun(threads: number): Promise<{ delivered: number; seconds: number }> {
  return busDeliveries(async (bus) => {
    const workers = Array.from({ length: threads }, (_, t) => {
      const indices = Array.from({ length: CLIENTS }, (_, i) => i).filter((i) => i % threads === t);
      const channels = indices.map(() => new MessageChannel());
      const w = new Worker(new URL('./support/ts-worker.mjs', import.meta.url), {
        workerData: {
          ports: channels.map((c) => c.port2),
          indices,
          frames: FRAMES,
          script: new URL('./support/bus-worker.ts', import.meta.url).href,
        },
        transferList: channels.map((c) => c.port2),
      });
      for (const c of channels) attachMessagePort(bus, c.port1);
      return w;
    });
    return () => Promise.all(workers.map((w) => new Promise((r) => w.on('exit', r))));
  });
}
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const busWorkersRun = () => busThreadsRun(CLIENTS);
const busGroupedRun = () => busThreadsRun(THREADS);

/**
 * One message to every client per round, the next round once all have answered, FRAMES x
 * CLIENTS rounds: the least a conservative lock-step asks. `encode` runs once per round.
 */
async function lockstepRounds<M>(
  clients: { send(m: M): void; onReply(fn: () => void): void }[],
  encode: (msg: object) => M,
): Promise<{ delivered: number; seconds: number }> {
  const rounds = FRAMES * CLIENTS;
  const psdu = Buffer.alloc(60, 1).toString('base64');
  let delivered = 0;
  let round = 0;
  let pending = 0;
  const started = performance.now();
  await new Promise<void>((done) => {
    const next = () => {
      if (round++ === rounds) return done();
      pending = CLIENTS;
      const t = round * 5000;
      // The shape of the bus's own rx message: receivers of one frame, one round.
      const m = encode({ type: 'rx', t, start: t - 2112, psdu, rssi: -40, lqi: 255 });
      for (const c of clients) c.send(m);
    };
    for (const c of clients)
      c.onReply(() => {
        delivered++;
        if (--pending === 0) next();
      });
    next();
  });
  const seconds = (performance.now() - started) / 1000;
  // Each round reaches every client; the bus delivers each frame to the other 19.
  return { delivered: Math.round((delivered * (CLIENTS - 1)) / CLIENTS), seconds };
}

/** The lock-step floor over MessagePorts to 20 worker threads. */
async function floorWorkersRun(): Promise<{ delivered: number; seconds: number }> {
  const pairs = Array.from({ length: CLIENTS }, () => worker('lockstep-worker.ts', {}));
  const r = await lockstepRounds(
    pairs.map(({ port }) => ({
      send: (m: object) => port.postMessage(m),
      onReply: (fn: () => void) => port.on('message', fn),
    })),
    (msg) => msg,
  );
  for (const { port } of pairs) port.postMessage({ type: 'end', t: 0 });
  await Promise.all(pairs.map(({ w }) => new Promise((r) => w.on('exit', r))));
  return r;
}

async function rawRun(): Promise<{ delivered: number; seconds: number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  const expected = FRAMES * (CLIENTS - 1);
  let delivered = 0;
  let done = 0;
  let started = 0;
  const finished = new Promise<void>((resolve) => {
    wss.on('connection', (ws) => {
      ws.on('message', (data) => {
        const text = data.toString();
        if (text === 'done') {
          if (++done === CLIENTS) resolve();
          return;
        }
        for (const c of wss.clients) {
          if (c !== ws) {
            c.send(text);
            delivered++;
          }
        }
      });
      if (wss.clients.size === CLIENTS) {
        started = performance.now();
        for (const c of wss.clients) c.send('go');
      }
    });
  });
  const procs = Array.from({ length: CLIENTS }, (_, i) =>
    child('raw-client.ts', [`ws://127.0.0.1:${port}`, String(i), String(FRAMES), String(expected)]),
  );
  await finished;
  const seconds = (performance.now() - started) / 1000;
  for (const c of wss.clients) c.close();
  await Promise.all(procs.map((p) => new Promise((r) => p.on('exit', r))));
  wss.close();
  return { delivered, seconds };
}

/** One message per client per round, round after round, same deliveries as the bus run. */
async function floorRun(): Promise<{ delivered: number; seconds: number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  const procs = Array.from({ length: CLIENTS }, () =>
    child('lockstep-client.ts', [`ws://127.0.0.1:${port}`]),
  );
  const clients: import('ws').WebSocket[] = [];
  await new Promise<void>((ready) =>
    wss.on('connection', (ws) => {
      clients.push(ws);
      if (clients.length === CLIENTS) ready();
    }),
  );
  const r = await lockstepRounds(
    clients.map((c) => ({
      send: (m: string) => c.send(m),
      onReply: (fn: () => void) => c.on('message', fn),
    })),
    (msg) => JSON.stringify(msg),
  );
  for (const c of clients) c.send(JSON.stringify({ type: 'end', t: 0 }));
  await Promise.all(procs.map((p) => new Promise((r) => p.on('exit', r))));
  wss.close();
  return r;
}

// The machine is shared and noisy: alternate the runs and take each one's median rate.
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const ALL_RUNS = [
  ['raw', rawRun],
  ['floor', floorRun],
  ['bus', busRun],
  ['floor-workers', floorWorkersRun],
  ['bus-workers', busWorkersRun],
  ['bus-grouped', busGroupedRun],
] as const;
// BENCH_ONLY=bus-workers (comma-separated) runs only those (e.g. with BENCH_PROF for a profile).
const only = process.env.BENCH_ONLY?.split(',');
const RUNS = ALL_RUNS.filter(([name]) => only === undefined || only.includes(name));
const rates = Object.fromEntries(ALL_RUNS.map(([name]) => [name, [] as number[]])) as Record<
  (typeof RUNS)[number][0],
  number[]
>;
for (let i = 0; i < REPEAT; i++) {
  for (const [name, run] of RUNS) {
    const r = await run();
    rates[name].push(r.delivered / r.seconds);
    console.log(`  ${name} run ${i + 1}: ${r.delivered} deliveries in ${r.seconds.toFixed(2)} s`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
if (only !== undefined) {
  for (const [name, xs] of Object.entries(rates))
    if (xs.length > 0) console.log(`${name}: median ${Math.round(median(xs))}/s`);
  process.exit(0);
}
const rawRate = median(rates.raw);
const floorRate = median(rates.floor);
const busRate = median(rates.bus);
const floorWorkersRate = median(rates['floor-workers']);
const busWorkersRate = median(rates['bus-workers']);
const busGroupedRate = median(rates['bus-grouped']);
console.log(`medians of ${REPEAT} runs each (${FRAMES} frames per client):`);
console.log(
  `bus throughput: ${CLIENTS} process clients over WebSocket, ${Math.round(busRate)} frames delivered/s`,
);
console.log(
  `bus throughput: ${CLIENTS} worker-thread clients over MessagePorts, ${Math.round(busWorkersRate)} frames delivered/s`,
);
console.log(`baseline raw ws broadcast: ${Math.round(rawRate)} messages/s`);
console.log(
  `baseline lock-step floor: WebSocket ${Math.round(floorRate)}/s, MessagePort ${Math.round(floorWorkersRate)}/s`,
);
console.log(
  `bus throughput: ${CLIENTS} clients in ${THREADS} worker threads, each on its own MessagePort, ${Math.round(busGroupedRate)} frames delivered/s`,
);
console.log(`ratio bus/raw, ${THREADS} threads: ${(busGroupedRate / rawRate).toFixed(2)} (goal >= 0.5)`);
console.log(`ratio bus/raw, a thread per device: ${(busWorkersRate / rawRate).toFixed(2)}`);
console.log(`ratio bus/raw, WebSocket processes: ${(busRate / rawRate).toFixed(2)}`);
console.log(
  `ratio floor/raw: ${(floorRate / rawRate).toFixed(2)} WebSocket, ${(floorWorkersRate / rawRate).toFixed(2)} MessagePort (the most a conservative lock-step reaches here)`,
);
console.log(
  `ratio bus/floor: ${(busRate / floorRate).toFixed(2)} WebSocket, ${(busWorkersRate / floorWorkersRate).toFixed(2)} MessagePort (the bus's own overhead)`,
);
