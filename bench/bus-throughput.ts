/**
 * Frames delivered per second through the bus with 20 WebSocket clients, each its own
 * process, against a raw ws broadcast (server relays every message to the other 19)
 * measured in the same run. Goal: ratio >= 0.5.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { HOUR } from '@gbhan/clock';
import { RadioBus, startBusServer } from '@gbhan/radio-bus';
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

async function busRun(): Promise<{ delivered: number; seconds: number }> {
  const bus = new RadioBus({ seed: 1, expectRadios: CLIENTS, idleTimeoutMs: 60_000 });
  let delivered = 0;
  let firstTx = 0;
  bus.onTrace((e) => {
    if (e.type === 'rx') delivered++;
    if (e.type === 'tx' && firstTx === 0) firstTx = performance.now();
  });
  const server = await startBusServer(bus);
  const procs = Array.from({ length: CLIENTS }, (_, i) =>
    child('bus-client.ts', [server.url, String(i), String(FRAMES)]),
  );
  await bus.runUntil(FRAMES * 100_000 + 10_000);
  const seconds = (performance.now() - firstTx) / 1000;
  bus.close();
  await Promise.all(procs.map((p) => new Promise((r) => p.on('exit', r))));
  await server.close();
  void HOUR;
  return { delivered, seconds };
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

const raw = await rawRun();
const bus = await busRun();
const rawRate = raw.delivered / raw.seconds;
const busRate = bus.delivered / bus.seconds;
console.log(
  `bus throughput: ${CLIENTS} process clients, ${bus.delivered} frames delivered in ${bus.seconds.toFixed(2)} s = ${Math.round(busRate)} frames/s`,
);
console.log(
  `baseline raw ws broadcast: ${raw.delivered} messages in ${raw.seconds.toFixed(2)} s = ${Math.round(rawRate)} messages/s`,
);
console.log(`ratio bus/raw: ${(busRate / rawRate).toFixed(2)} (goal >= 0.5)`);
