/**
 * Lock-step floors between threads: 20 worker threads, one small message to each per round
 * and one reply from each, the next round once all replied (what any conservative lock-step
 * asks), over worker_threads MessagePorts (what `gbhan run --workers` uses) and over a
 * SharedArrayBuffer, the threads woken by Atomics.waitAsync (they keep their event loop) or
 * blocked in Atomics.wait between event-loop turns (faster, but a blocked thread serves no
 * I/O): neither is built as a transport; this measures what they could gain. Each worker
 * yields (setImmediate or a microtask) before answering, as BusRadio does.
 * Alternated, medians of BENCH_REPEAT (5) runs of BENCH_ROUNDS (1,000) rounds.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';

const CLIENTS = 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const MSG = { type: 'rx', t: 1, start: 0, psdu: Buffer.alloc(60, 1).toString('base64'), rssi: -40, lqi: 255 };

/** Atomics.waitAsync is in Node 20 (V8) but not in the ES2022 lib this repo compiles against. */
type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

// Worker sources are plain CommonJS (eval): no TypeScript loader needed in the threads.
const SAB_WORKER = `
const { workerData } = require('node:worker_threads');
const flags = new Int32Array(workerData.flags);
const done = new Int32Array(workerData.done);
const keep = setInterval(() => {}, 1 << 30); // waitAsync alone does not keep a thread alive
(async () => {
  let seen = 0;
  for (;;) {
    const w = Atomics.waitAsync(flags, 0, seen);
    if (w.async) await w.value;
    const v = Atomics.load(flags, 0);
    if (v < 0) return clearInterval(keep);
    seen = v;
    JSON.parse(workerData.text);
    await new Promise((r) => setImmediate(r));
    Atomics.add(done, 0, 1);
    Atomics.notify(done, 0);
  }
})();`;
const BLOCKING_WORKER = `
const { workerData } = require('node:worker_threads');
const flags = new Int32Array(workerData.flags);
const done = new Int32Array(workerData.done);
let seen = 0;
function loop() {
  Atomics.wait(flags, 0, seen); // blocks this thread, between event-loop turns
  const v = Atomics.load(flags, 0);
  if (v < 0) return;
  seen = v;
  JSON.parse(workerData.text);
  Promise.resolve().then(() => {
    Atomics.add(done, 0, 1);
    Atomics.notify(done, 0);
    setImmediate(loop);
  });
}
setImmediate(loop);`;
const PORT_WORKER = `
const { workerData } = require('node:worker_threads');
const port = workerData.port;
port.on('message', (m) => {
  if (m === 'end') return port.close();
  setImmediate(() => port.postMessage({ type: 'idle', next: 1 }));
});`;

async function sabFloor(source: string): Promise<number> {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const flags = Array.from({ length: CLIENTS }, () => new Int32Array(new SharedArrayBuffer(4)));
  const workers = flags.map(
    (f) =>
      new Worker(source, {
        eval: true,
        workerData: { flags: f.buffer, done: done.buffer, text: JSON.stringify(MSG) },
      }),
  );
  await Promise.all(workers.map((w) => new Promise((r) => w.once('online', r))));
  const keep = setInterval(() => {}, 1 << 30);
  const t0 = performance.now();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const f of flags) {
      Atomics.store(f, 0, round);
      Atomics.notify(f, 0);
    }
    for (;;) {
      const cur = Atomics.load(done, 0);
      if (cur >= round * CLIENTS) break;
      const w = waitAsync(done, 0, cur);
      if (w.async) await w.value;
    }
  }
  const rate = (ROUNDS * CLIENTS) / ((performance.now() - t0) / 1000);
  clearInterval(keep);
  for (const f of flags) {
    Atomics.store(f, 0, -1);
    Atomics.notify(f, 0);
  }
  await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
  return rate;
}

async function portFloor(): Promise<number> {
  const ports: MessagePort[] = [];
  const workers = Array.from({ length: CLIENTS }, () => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1);
    return new Worker(PORT_WORKER, { eval: true, workerData: { port: port2 }, transferList: [port2] });
  });
  await Promise.all(workers.map((w) => new Promise((r) => w.once('online', r))));
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let round = 0;
    let pending = 0;
    const next = () => {
      if (round++ === ROUNDS) return resolve();
      pending = CLIENTS;
      for (const p of ports) p.postMessage(MSG);
    };
    for (const p of ports)
      p.on('message', () => {
        if (--pending === 0) next();
      });
    next();
  });
  const rate = (ROUNDS * CLIENTS) / ((performance.now() - t0) / 1000);
  for (const p of ports) p.postMessage('end');
  await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
  return rate;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const sab: number[] = [];
const blocking: number[] = [];
const port: number[] = [];
for (let i = 0; i < REPEAT; i++) {
  port.push(await portFloor());
  sab.push(await sabFloor(SAB_WORKER));
  blocking.push(await sabFloor(BLOCKING_WORKER));
}
const p = median(port);
console.log(
  `lock-step floor, ${CLIENTS} worker threads, medians of ${REPEAT}: MessagePort ${Math.round(p)} deliveries/s;` +
    ` SharedArrayBuffer + Atomics.waitAsync ${Math.round(median(sab))}/s (ratio ${(median(sab) / p).toFixed(2)});` +
    ` SharedArrayBuffer + blocking Atomics.wait ${Math.round(median(blocking))}/s (ratio ${(median(blocking) / p).toFixed(2)})`,
);
