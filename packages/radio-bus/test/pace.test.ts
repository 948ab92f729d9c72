/**
 * The live view's clock controls on the bus: holding time stops virtual time under real-time
 * pacing, and `setRealTime` before releasing restarts pacing from the current instant (no race
 * to make up the wall time spent paused); a speed change takes effect while time runs.
 */
import { MILLISECOND, SECOND } from '@gbhan/clock';
import { describe, expect, it } from 'vitest';
import { makeBus } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pausing and re-pacing a real-time bus', () => {
  it('a hold stops virtual time; after setRealTime + release it runs paced from there', async () => {
    const { bus, add } = await makeBus({ realTime: { speed: 1 } });
    const a = await add(1);
    // a timer every 10 ms of virtual time, so the bus time moves in small steps
    const tick = () => a.radio.clock.setTimer(10 * MILLISECOND, tick);
    tick();
    const run = bus.runUntil(10 * SECOND);
    await sleep(150);
    expect(bus.pacedTime()).not.toBeNull();
    const release = bus.holdTime();
    await sleep(20);
    const paused = bus.time;
    expect(bus.pacedTime()).toBeNull();
    await sleep(300);
    expect(bus.time).toBe(paused);
    bus.setRealTime({ speed: 1 });
    release();
    await sleep(100);
    // Paced from the instant of the release: about 100 ms on, not the 400 ms of wall time since the hold.
    expect(bus.time - paused).toBeGreaterThan(40 * MILLISECOND);
    expect(bus.time - paused).toBeLessThan(250 * MILLISECOND);
    // As fast as possible from now: the rest of the 10 s goes in far less wall time.
    const before = performance.now();
    bus.setRealTime(null);
    await run;
    expect(performance.now() - before).toBeLessThan(3000);
    expect(bus.time).toBe(10 * SECOND);
    bus.close();
  });

  it('refuses a speed that is not above 0', async () => {
    const { bus } = await makeBus();
    expect(() => bus.setRealTime({ speed: 0 })).toThrow(/realTime.speed/);
    expect(() => bus.setRealTime({ speed: Number.NaN })).toThrow(/realTime.speed/);
    bus.close();
  });
});
