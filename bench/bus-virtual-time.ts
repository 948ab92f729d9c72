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

const bare = bareRun();
const bus = await busRun();
const simS = HOUR / SECOND;
console.log(
  `virtual time: ${RADIOS} radios, 1 frame/10 s each, ${simS} simulated s in ${bus.wallS.toFixed(3)} s wall = ${Math.round(simS / bus.wallS)} simulated s per wall s (goal >= 10000); ${bus.delivered} frames delivered`,
);
console.log(
  `baseline bare clock, direct delivery: ${bare.wallS.toFixed(4)} s wall = ${Math.round(simS / bare.wallS)} simulated s per wall s; ${bare.delivered} deliveries`,
);
console.log(`ratio bus/bare: ${(bare.wallS / bus.wallS).toFixed(4)}`);
