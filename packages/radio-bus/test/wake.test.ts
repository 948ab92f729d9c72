/**
 * `wake`: a device whose clock lags the bus (nothing was sent to it) asks to be brought to the
 * bus's instant. Non-real-time: the current instant. Real-time: the instant the wall clock has
 * reached, never at or past the next scheduled event, and only at a barrier (lock-step).
 */
import { performance } from 'node:perf_hooks';
import { SECOND } from '@gbhan/clock';
import { describe, expect, it } from 'vitest';
import { parseClientMessage } from '../src/index.js';
import { makeBus } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await sleep(1);
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('wake', () => {
  it('brings an idle radio to the current instant of a bus that ran on without it', async () => {
    const { bus, add } = await makeBus();
    const a = await add(1);
    const b = await add(2);
    b.radio.clock.setTimerAt(7 * SECOND, () => {});
    void bus.runUntil(Number.POSITIVE_INFINITY);
    await until(() => bus.time === 7 * SECOND, 'the bus to reach 7 s');
    expect(a.radio.clock.now()).toBe(0); // nothing was sent to a
    const release = await a.radio.wake();
    expect(a.radio.clock.now()).toBe(7 * SECOND);
    release();
    bus.close();
  });

  it('real time: moves to the paced instant, never to or past the next event, and waits for the barrier', async () => {
    // x1000: 1 ms of wall time is 1 s of virtual time.
    const { bus, add } = await makeBus({ realTime: { speed: 1000 }, idleTimeoutMs: 0 });
    const a = await add(1);
    const b = await add(2);
    let releaseB: (() => void) | null = null;
    b.radio.clock.setTimerAt(SECOND, () => {
      releaseB = b.radio.hold(); // b stays busy at 1 s: no barrier until it lets go
    });
    let fired = false;
    bus.schedule(5 * SECOND, () => {
      fired = true;
    });
    const before = performance.now();
    void bus.runUntil(Number.POSITIVE_INFINITY);
    const after = performance.now();
    await until(() => releaseB !== null, 'b to hold');
    await sleep(30); // the wall clock is now well past 5 s of virtual time
    let woken: (() => void) | null = null;
    const waking = a.radio.wake().then((r) => {
      woken = r;
    });
    await sleep(10);
    expect(woken).toBeNull(); // b is still busy at 1 s: the answer waits for the barrier
    expect(bus.time).toBe(SECOND);
    (releaseB as unknown as () => void)();
    await waking;
    // Just before the event at 5 s, which has not run yet.
    expect(a.radio.clock.now()).toBe(5 * SECOND - 1);
    expect(bus.time).toBe(5 * SECOND - 1);
    expect(fired).toBe(false);
    (woken as unknown as () => void)();
    await until(() => fired, 'the event at 5 s');

    // Nothing scheduled any more: the answer is the instant the wall clock has reached.
    const w0 = performance.now();
    const release = await a.radio.wake();
    const w1 = performance.now();
    const now = a.radio.clock.now();
    expect(now).toBeGreaterThanOrEqual(Math.floor((w0 - after) * 1_000_000));
    expect(now).toBeLessThanOrEqual(Math.ceil((w1 - before) * 1_000_000));
    expect(bus.time).toBe(now);
    release();
    bus.close();
  });

  it('real time: a timer set while woken runs at its own time, not after the far event pacing waited for', async () => {
    const { bus, add } = await makeBus({ realTime: { speed: 1 } });
    const a = await add(1);
    a.radio.clock.setTimerAt(60 * SECOND, () => {}); // pacing now sleeps towards a minute
    void bus.runUntil(Number.POSITIVE_INFINITY);
    await sleep(20);
    const release = await a.radio.wake();
    const woken = a.radio.clock.now();
    let ranAt = -1;
    a.radio.clock.setTimer(10_000, () => {
      ranAt = a.radio.clock.now();
    });
    release();
    await until(() => ranAt >= 0, 'the 10 ms timer'); // within 2 s of wall time, not a minute
    expect(ranAt).toBe(woken + 10_000);
    bus.close();
  });

  it('answers a radio that keeps asking once per instant, so time still moves', async () => {
    const { bus, add } = await makeBus();
    const a = await add(1);
    const b = await add(2);
    const seen: number[] = [];
    let stop = false;
    const asking = (async () => {
      while (!stop) {
        const release = await a.radio.wake();
        seen.push(a.radio.clock.now());
        release();
      }
    })().catch(() => {}); // the last wake is refused when the bus closes
    for (let s = 1; s <= 3; s++) b.radio.clock.setTimerAt(s * SECOND, () => {});
    await bus.runUntil(3 * SECOND);
    stop = true;
    expect(bus.time).toBe(3 * SECOND);
    // Each instant the bus reached while a asked got one answer.
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining([0, SECOND, 2 * SECOND]));
    bus.close();
    await asking;
  });

  it('rejects a pending wake when the radio is dropped, and a bad wake is malformed', async () => {
    const { bus, add } = await makeBus();
    const a = await add(1);
    const p = a.radio.wake();
    bus.detachRadio(a.radio.eui64, 'gone');
    await expect(p).rejects.toMatchObject({ name: 'BusClientError' });
    await expect(a.radio.wake()).rejects.toMatchObject({ code: 'BUS_CLIENT_CLOSED' });
    expect(() => parseClientMessage({ type: 'wake', id: -1 })).toThrow(/wake: field id/);
    expect(() => parseClientMessage({ type: 'wake' })).toThrow(/BUS_MALFORMED|field id/);
    expect(parseClientMessage({ type: 'wake', id: 3 })).toEqual({ type: 'wake', id: 3 });
    bus.close();
  });
});
