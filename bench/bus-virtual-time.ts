/**
 * Virtual-time speed-up: 10 in-process radios, each sending one 40-byte frame every 10 s,
 * for 60 simulated minutes. Reports simulated seconds per wall second (goal >= 10,000) and,
 * as the same-run baseline, the same traffic driven by one bare ManualClock with direct
 * function-call delivery (no bus, no lock-step, no medium).
 */
import { performance } from 'node:perf_hooks';
import { HOUR, ManualClock, SECOND } from '@gbhan/clock';
import { BusRadio, InProcessTransport, RadioBus } from '@gbhan/radio-bus';

const RADIOS = 10;
const PERIOD = 10 * SECOND;

async function busRun(): Promise<{ wallS: number; delivered: number }> {
  const bus = new RadioBus({ seed: 1 });
  let delivered = 0;
  const radios = [];
  for (let i = 0; i < RADIOS; i++) {
    const r = await BusRadio.connect(new InProcessTransport(bus), {
      eui64: (0x100 + i).toString(16).padStart(16, '0'),
      band: i % 2 ? 'GB868' : '2.4GHz',
      page: i % 2 ? 28 : 0,
      channel: i % 2 ? 5 : 15,
      position: { x: i, y: 0 },
    });
    r.onReceive(() => {
      delivered++;
    });
    const psdu = new Uint8Array(40).fill(i);
    const send = () => {
      void r.transmit(psdu);
      r.clock.setTimer(PERIOD, send);
    };
    r.clock.setTimerAt(i * 997_000, send);
    radios.push(r);
  }
  const t0 = performance.now();
  await bus.runUntil(HOUR);
  const wallS = (performance.now() - t0) / 1000;
  bus.close();
  return { wallS, delivered };
}

function bareRun(): { wallS: number; delivered: number } {
  const clock = new ManualClock();
  let delivered = 0;
  const handlers: ((p: Uint8Array) => void)[] = [];
  for (let i = 0; i < RADIOS; i++) {
    handlers.push(() => {
      delivered++;
    });
  }
  for (let i = 0; i < RADIOS; i++) {
    const psdu = new Uint8Array(40).fill(i);
    const send = () => {
      for (let j = i % 2; j < RADIOS; j += 2) if (j !== i) handlers[j]!(psdu);
      clock.setTimer(PERIOD, send);
    };
    clock.setTimerAt(i * 997_000, send);
  }
  const t0 = performance.now();
  clock.advanceTo(HOUR);
  return { wallS: (performance.now() - t0) / 1000, delivered };
}

/** Median of the runs (an odd count: the middle one). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// Alternate the two so that a noisy neighbour on the machine hits both alike (BENCH_RUNS, default 5).
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const bareWall: number[] = [];
const busWall: number[] = [];
let delivered = 0;
let bareDelivered = 0;
for (let i = 0; i < RUNS; i++) {
  const bare = bareRun();
  bareWall.push(bare.wallS);
  bareDelivered = bare.delivered;
  const bus = await busRun();
  busWall.push(bus.wallS);
  delivered = bus.delivered;
}
const simS = HOUR / SECOND;
const busS = median(busWall);
const bareS = median(bareWall);
console.log(
  `virtual time: ${RADIOS} radios, 1 frame/10 s each, ${simS} simulated s in ${busS.toFixed(3)} s wall (median of ${RUNS}; runs ${busWall.map((w) => Math.round(simS / w)).join(', ')}) = ${Math.round(simS / busS)} simulated s per wall s (goal >= 10000); ${delivered} frames delivered`,
);
console.log(
  `baseline bare clock, direct delivery: ${bareS.toFixed(4)} s wall (median of ${RUNS}) = ${Math.round(simS / bareS)} simulated s per wall s; ${bareDelivered} deliveries`,
);
console.log(`ratio bus/bare (medians): ${(bareS / busS).toFixed(4)}`);
