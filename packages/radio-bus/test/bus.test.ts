import { performance } from 'node:perf_hooks';
import { HOUR, MILLISECOND, SECOND } from '@gbhan/clock';
import { describe, expect, it } from 'vitest';
import { airtimeUs, OQPSK_2450, SUN_FSK_GB868 } from '../src/index.js';
import { macDataFrame } from './frames.js';
import { makeBus, txAt } from './harness.js';

const frame = (n: number, len = 1) => macDataFrame(n, 1, 0xffff, n, new Uint8Array(len).fill(n));

describe('channel isolation', () => {
  it('delivers only on the same band, page and channel; traces in-range radios elsewhere', async () => {
    const { bus, add, drops } = await makeBus();
    const a = await add(1, { channel: 15 });
    const same = await add(2, { channel: 15, position: { x: 3, y: 0 } });
    const other = await add(3, { channel: 20, position: { x: 3, y: 0 } });
    const sub = await add(4, { band: 'GB868', page: 28, channel: 15, position: { x: 3, y: 0 } });
    const page31 = await add(5, { band: 'GB868', page: 31, channel: 15, position: { x: 3, y: 0 } });
    const b868 = await add(6, { band: 'GB868', page: 28, channel: 15, position: { x: 4, y: 0 } });
    txAt(a, MILLISECOND, frame(1));
    txAt(sub, 10 * MILLISECOND, frame(4));
    await bus.runUntil(SECOND);
    bus.close();
    expect(same.received).toHaveLength(1);
    expect(other.received).toHaveLength(0);
    expect(sub.received).toHaveLength(0);
    expect(page31.received).toHaveLength(0);
    expect(b868.received).toHaveLength(1);
    expect(drops('wrong-channel').map((e) => e.radio)).toEqual([other.radio.eui64, page31.radio.eui64]);
  });

  it('moves a radio when it changes channel, and loses a frame it tuned into mid-way', async () => {
    const { bus, add, drops } = await makeBus();
    const a = await add(1, { channel: 11 });
    const b = await add(2, { channel: 12, position: { x: 2, y: 0 } });
    b.radio.clock.setTimerAt(MILLISECOND, () => b.radio.setChannel(0, 11));
    txAt(a, 2 * MILLISECOND, frame(1));
    // A frame starting at 3 ms while b retunes at 3.1 ms is lost to b.
    b.radio.clock.setTimerAt(3 * MILLISECOND + 100, () => b.radio.setChannel(0, 12));
    b.radio.clock.setTimerAt(3 * MILLISECOND + 200, () => b.radio.setChannel(0, 11));
    txAt(a, 3 * MILLISECOND, frame(2));
    await bus.runUntil(SECOND);
    bus.close();
    expect(b.received.map((f) => f.psdu[2])).toEqual([1]);
    expect(drops('wrong-channel')).toHaveLength(1);
  });
});

describe('collisions and half duplex', () => {
  it('destroys both frames when they overlap at a receiver that hears both', async () => {
    const { bus, add, drops } = await makeBus();
    const a = await add(1, { position: { x: 0, y: 0 } });
    const b = await add(2, { position: { x: 10, y: 0 } });
    const c = await add(3, { position: { x: 5, y: 0 } });
    txAt(a, MILLISECOND, frame(1, 50));
    txAt(b, MILLISECOND + 100, frame(2, 50));
    await bus.runUntil(SECOND);
    bus.close();
    expect(c.received).toHaveLength(0);
    expect(drops('collision').filter((e) => e.radio === c.radio.eui64)).toHaveLength(2);
    // a and b were each transmitting while the other's frame arrived.
    expect(drops('receiver-busy')).toHaveLength(2);
  });

  it('lets back-to-back frames through and keeps a capture threshold optional', async () => {
    const { bus, add } = await makeBus({ captureThresholdDb: 6 });
    const a = await add(1, { position: { x: 0, y: 0 } });
    const far = await add(2, { position: { x: 60, y: 0 } });
    const c = await add(3, { position: { x: 2, y: 0 } });
    const end =
      MILLISECOND +
      airtimeUs(frame(1, 50).length, { shrBytes: 5, phrBytes: 1, usPerByte: 32, maxPsduBytes: 127 });
    txAt(a, MILLISECOND, frame(1, 50));
    txAt(far, MILLISECOND + 200, frame(2, 50));
    txAt(a, end + 1000, frame(3));
    await bus.runUntil(SECOND);
    bus.close();
    // a is ~21 dB stronger than far at c: with a 6 dB capture threshold a's frame survives.
    expect(c.received.map((f) => f.psdu[2])).toEqual([1, 3]);
  });

  it('hidden terminal: a receiver between two radios that cannot hear each other loses both', async () => {
    const { bus, add } = await makeBus();
    const a = await add(1, { position: { x: 0, y: 0 } });
    const b = await add(2, { position: { x: 300, y: 0 } });
    const mid = await add(3, { position: { x: 150, y: 0 } });
    const aSaysBusy: boolean[] = [];
    a.radio.clock.setTimerAt(MILLISECOND + 50, () => {
      a.radio.cca().then((busy) => aSaysBusy.push(busy));
    });
    txAt(a, MILLISECOND + 100, frame(1));
    txAt(b, MILLISECOND, frame(2));
    await bus.runUntil(SECOND);
    bus.close();
    expect(aSaysBusy).toEqual([false]);
    expect(mid.received).toHaveLength(0);
  });

  it('CCA reports an audible frame in progress', async () => {
    const { bus, add } = await makeBus();
    const a = await add(1);
    const b = await add(2, { position: { x: 5, y: 0 } });
    const seen: boolean[] = [];
    txAt(a, MILLISECOND, frame(1, 60));
    b.radio.clock.setTimerAt(MILLISECOND + 500, () => {
      b.radio.cca().then((busy) => seen.push(busy));
    });
    b.radio.clock.setTimerAt(10 * MILLISECOND, () => {
      b.radio.cca().then((busy) => seen.push(busy));
    });
    await bus.runUntil(SECOND);
    bus.close();
    expect(seen).toEqual([true, false]);
  });

  it('refuses a second transmission while the first is on the air', async () => {
    const { bus, add } = await makeBus();
    const a = await add(1);
    const results: string[] = [];
    a.radio.clock.setTimerAt(MILLISECOND, () => {
      a.radio.transmit(frame(1, 30)).then((r) => results.push(r.status));
      a.radio.transmit(frame(2, 30)).then((r) => results.push(r.status));
    });
    await bus.runUntil(SECOND);
    bus.close();
    expect(results.sort()).toEqual(['busy', 'sent']);
  });
});

describe('power, loss and jamming', () => {
  it('a powered-off receiver hears nothing, and hears again when powered on', async () => {
    const { bus, add, drops } = await makeBus();
    const a = await add(1);
    const b = await add(2, { position: { x: 5, y: 0 }, powered: false });
    txAt(a, MILLISECOND, frame(1));
    b.radio.clock.setTimerAt(5 * MILLISECOND, () => b.radio.setPower(true));
    txAt(a, 10 * MILLISECOND, frame(2));
    await bus.runUntil(SECOND);
    bus.close();
    expect(b.received.map((f) => f.psdu[2])).toEqual([2]);
    expect(drops('receiver-off')).toHaveLength(1);
  });

  it('random loss follows its rate and the seed', async () => {
    const run = async (seed: number) => {
      const { bus, add, drops } = await makeBus({ lossRate: 0.3, seed });
      const a = await add(1);
      const b = await add(2, { position: { x: 5, y: 0 } });
      for (let i = 0; i < 400; i++) txAt(a, (i + 1) * 10 * MILLISECOND, frame(i & 0xff));
      await bus.runUntil(10 * SECOND);
      bus.close();
      return { got: b.received.length, lost: drops('loss').length };
    };
    const r1 = await run(1);
    const r2 = await run(1);
    const r3 = await run(2);
    expect(r1).toEqual(r2);
    expect(r1.got + r1.lost).toBe(400);
    expect(r1.lost).toBeGreaterThan(80);
    expect(r1.lost).toBeLessThan(160);
    expect(r3).not.toEqual(r1);
  });

  it('jams a channel near the jammer for its time window only', async () => {
    const { bus, add, drops, trace } = await makeBus({
      jammers: [
        {
          band: '2.4GHz',
          page: 0,
          channel: 11,
          position: { x: 0, y: 5 },
          txPowerDbm: 0,
          startUs: 2 * MILLISECOND,
          endUs: 50 * MILLISECOND,
        },
      ],
    });
    const a = await add(1);
    const b = await add(2, { position: { x: 5, y: 0 } });
    txAt(a, MILLISECOND, frame(1, 5));
    txAt(a, 10 * MILLISECOND, frame(2));
    txAt(a, 60 * MILLISECOND, frame(3));
    await bus.runUntil(SECOND);
    bus.close();
    expect(b.received.map((f) => f.psdu[2])).toEqual([1, 3]);
    expect(drops('jammed')).toHaveLength(1);
    expect(trace.filter((e) => e.type === 'jam').map((e) => e.t)).toEqual([
      2 * MILLISECOND,
      50 * MILLISECOND,
    ]);
  });
});

describe('a dual-band radio', () => {
  it("moves across bands with set-channel: the new band's radios, airtime and duty cycle", async () => {
    // Suspended after 2 frames of 9 ms in an hour: the meter must survive a visit to 2.4 GHz.
    const { bus, add, trace } = await makeBus({
      dutyCycle: { limitedPercent: 0.0004, criticalPercent: 0.0005, suspendedPercent: 0.0006 },
    });
    const a = await add(1, { channel: 11 });
    const near24 = await add(2, { channel: 11, position: { x: 3, y: 0 } });
    const near868 = await add(3, { band: 'GB868', page: 28, channel: 3, position: { x: 3, y: 0 } });
    const psdu = frame(1, 100);
    const results: { status: string; airtimeUs: number; band: string }[] = [];
    const send = (at: number) =>
      a.radio.clock.setTimerAt(at, () => {
        const band = a.radio.registration.band;
        a.radio.transmit(psdu).then((r) => results.push({ status: r.status, airtimeUs: r.airtimeUs, band }));
      });
    send(MILLISECOND);
    a.radio.clock.setTimerAt(10 * MILLISECOND, () => a.radio.setChannel(28, 3, 'GB868'));
    send(20 * MILLISECOND);
    send(40 * MILLISECOND);
    send(60 * MILLISECOND); // past Suspended: refused
    a.radio.clock.setTimerAt(80 * MILLISECOND, () => a.radio.setChannel(0, 11, '2.4GHz'));
    send(90 * MILLISECOND); // 2.4 GHz has no duty cycle
    a.radio.clock.setTimerAt(110 * MILLISECOND, () => a.radio.setChannel(28, 3, 'GB868'));
    send(120 * MILLISECOND); // back on GB868: the same rolling hour, still refused
    await bus.runUntil(SECOND);
    bus.close();
    const air24 = airtimeUs(psdu.length, OQPSK_2450);
    const air868 = airtimeUs(psdu.length, SUN_FSK_GB868);
    expect(results).toEqual([
      { status: 'sent', airtimeUs: air24, band: '2.4GHz' },
      { status: 'sent', airtimeUs: air868, band: 'GB868' },
      { status: 'sent', airtimeUs: air868, band: 'GB868' },
      { status: 'duty-cycle', airtimeUs: 0, band: 'GB868' },
      { status: 'sent', airtimeUs: air24, band: '2.4GHz' },
      { status: 'duty-cycle', airtimeUs: 0, band: 'GB868' },
    ]);
    expect(near24.received).toHaveLength(2);
    expect(near868.received).toHaveLength(2);
    expect(a.radio.registration).toMatchObject({ band: 'GB868', page: 28, channel: 3 });
    expect(trace.filter((e) => e.type === 'channel').map((e) => (e as { band?: string }).band)).toEqual([
      'GB868',
      '2.4GHz',
      'GB868',
    ]);
  });
});

describe('GB868 duty cycle', () => {
  it('walks Limited -> Critical -> Suspended over a rolling hour, refuses past 2.5 %, recovers', async () => {
    const { bus, add, trace } = await makeBus();
    const a = await add(1, { band: 'GB868', page: 28, channel: 3 });
    const psdu = frame(1, 100);
    const air = airtimeUs(psdu.length, SUN_FSK_GB868); // 9040 us
    const states: string[] = [];
    a.radio.onDutyCycle((d) => {
      states.push(d.state);
    });
    const statuses: string[] = [];
    // About 11 frames a second: ~10 % of an hour if the bus never refused any.
    let sent = 0;
    const burst = () => {
      a.radio.transmit(psdu).then((r) => statuses.push(r.status));
      sent++;
      if (sent < 12_000) a.radio.clock.setTimer(Math.floor(SECOND / 12) + air, burst);
    };
    a.radio.clock.setTimerAt(SECOND, burst);
    await bus.runUntil(3 * HOUR);
    bus.close();
    expect(states.slice(0, 3)).toEqual(['limited', 'critical', 'suspended']);
    expect(statuses.filter((s) => s === 'duty-cycle').length).toBeGreaterThan(0);
    const dutyEvents = trace.filter((e) => e.type === 'duty-cycle');
    // Never more than 2.5 % of any hour was spent transmitting.
    const tx = trace.filter((e) => e.type === 'tx').map((e) => e.t);
    let maxInHour = 0;
    let lo = 0;
    for (let hi = 0; hi < tx.length; hi++) {
      while (tx[hi]! - tx[lo]! >= HOUR) lo++;
      maxInHour = Math.max(maxInHour, (hi - lo + 1) * air);
    }
    expect((maxInHour / HOUR) * 100).toBeLessThanOrEqual(2.5);
    // After the sender stops, its state falls back to normal as airtime leaves the window.
    expect(dutyEvents.at(-1)).toMatchObject({ type: 'duty-cycle', state: 'normal' });
  });
});

describe('DutyCycleMeter', () => {
  it('counts exactly the airtime inside the rolling hour (against a brute-force sum)', async () => {
    const { DutyCycleMeter, DEFAULT_DUTY_CYCLE } = await import('../src/index.js');
    const m = new DutyCycleMeter(DEFAULT_DUTY_CYCLE);
    const bursts: [number, number][] = [];
    let t = 0;
    for (let i = 0; i < 3000; i++) {
      t += 1000 + ((i * 7919) % 5_000_000);
      const air = 500 + ((i * 104729) % 9000);
      m.record(t, air);
      bursts.push([t, t + air]);
      const now = t + ((i * 31) % 20_000);
      const from = now - HOUR;
      const brute = bursts.reduce((s, [a, b]) => s + Math.max(0, Math.min(b, now) - Math.max(a, from)), 0);
      expect(m.usedUs(now)).toBe(brute);
      t = now;
    }
  });
});

describe('timers at the edges', () => {
  it('fires a timer set for the very first instant', async () => {
    const { bus, add } = await makeBus();
    const a = await add(1);
    let fired = -1;
    a.radio.clock.setTimerAt(0, () => {
      fired = a.radio.clock.now();
    });
    await bus.runUntil(SECOND);
    bus.close();
    expect(fired).toBe(0);
  });

  it('disconnects a client that keeps asking to be woken at the same instant', async () => {
    const { bus, add, trace } = await makeBus();
    const good = await add(1);
    let fired = 0;
    good.radio.clock.setTimerAt(SECOND, () => {
      fired++;
    });
    // A broken device: answers every wake-up with "wake me now" again.
    const port = bus.attach({
      send: (msg) => queueMicrotask(() => port.receive({ type: 'idle', next: msg.t })),
      close: () => {},
    });
    port.receive({
      type: 'hello',
      version: 1,
      eui64: 'ffff000000000001',
      band: '2.4GHz',
      page: 0,
      channel: 11,
      position: { x: 0, y: 0 },
    });
    await bus.runUntil(2 * SECOND);
    bus.close();
    expect(fired).toBe(1);
    expect(trace.some((e) => e.type === 'error' && e.code === 'BUS_TIME_STUCK')).toBe(true);
  });
});

describe('an open-ended run', () => {
  it('waits for clients instead of spinning when nothing is scheduled and there is no end time', async () => {
    const { bus, add } = await makeBus();
    void bus.runUntil(Number.POSITIVE_INFINITY);
    // The event loop is still ours: a radio can join later and its timers run.
    await new Promise((r) => setImmediate(r));
    const a = await add(1);
    let fired = 0;
    a.radio.clock.setTimerAt(5 * SECOND, () => {
      fired++;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(fired).toBe(1);
    expect(bus.time).toBe(5 * SECOND);
    bus.close();
  });
});

describe('device trace events and controller commands', () => {
  it('stamps device events with virtual time and delivers scheduled commands at their time', async () => {
    const { bus, add, trace } = await makeBus();
    const a = await add(1);
    const got: { t: number; command: Record<string, unknown> }[] = [];
    a.radio.onControl((command) => {
      got.push({ t: a.radio.clock.now(), command });
      a.radio.trace({ type: 'obeyed', what: command.action });
    });
    bus.scheduleControl(a.radio.eui64, 3 * SECOND, { action: 'power-off' });
    bus.scheduleControl('00000000000000ff', 4 * SECOND, { action: 'nobody-home' });
    await bus.runUntil(5 * SECOND);
    bus.close();
    expect(got).toEqual([{ t: 3 * SECOND, command: { action: 'power-off' } }]);
    expect(trace.filter((e) => e.type === 'control' || e.type === 'device')).toEqual([
      {
        t: 3 * SECOND,
        type: 'control',
        radio: a.radio.eui64,
        command: { action: 'power-off' },
        delivered: true,
      },
      { t: 3 * SECOND, type: 'device', radio: a.radio.eui64, event: { type: 'obeyed', what: 'power-off' } },
      {
        t: 4 * SECOND,
        type: 'control',
        radio: '00000000000000ff',
        command: { action: 'nobody-home' },
        delivered: false,
      },
    ]);
  });
});

describe('device trace events are snapshots', () => {
  it('an in-process event is what a socket would carry: later changes to its objects do not show', async () => {
    const { bus, add, trace } = await makeBus();
    const a = await add(1);
    const counters = { processed: 1 };
    a.radio.clock.setTimer(SECOND, () => {
      a.radio.trace({ type: 'report', frames: { x: counters }, gone: undefined });
      counters.processed = 99; // the device's live counter moves on
    });
    await bus.runUntil(2 * SECOND);
    bus.close();
    expect(trace.filter((e) => e.type === 'device')).toEqual([
      {
        t: SECOND,
        type: 'device',
        radio: a.radio.eui64,
        event: { type: 'report', frames: { x: { processed: 1 } } },
      },
    ]);
  });
});

describe('work done while time stands still', () => {
  it('sees timers set between two runUntil calls, without the caller waiting for idle reports', async () => {
    const { bus, add } = await makeBus();
    const a = await add(1);
    await bus.runUntil(SECOND);
    let fired = -1;
    // Set from test code while every radio is idle: the next runUntil must not run past it.
    a.radio.clock.setTimer(10 * MILLISECOND, () => {
      fired = a.radio.clock.now();
    });
    await bus.runUntil(2 * SECOND);
    bus.close();
    expect(fired).toBe(SECOND + 10 * MILLISECOND);
  });
});

describe('controller hooks', () => {
  it('runs scheduled callbacks at their time, holds time, and detaches a radio as if it died', async () => {
    const { bus, add, trace } = await makeBus();
    const a = await add(1);
    const seen: number[] = [];
    let release: (() => void) | null = null;
    bus.schedule(2 * SECOND, () => {
      seen.push(bus.time);
      expect(bus.detachRadio(a.radio.eui64, 'crashed')).toBe(true);
      release = bus.holdTime();
      // Time stays at 2 s until the hold is released, even with nothing else to do.
      setTimeout(() => {
        seen.push(bus.time);
        release!();
      }, 20);
    });
    await bus.runUntil(5 * SECOND);
    bus.close();
    expect(seen).toEqual([2 * SECOND, 2 * SECOND]);
    expect(a.radio.closed).toBe(true);
    expect(trace.find((e) => e.type === 'detach')).toMatchObject({ t: 2 * SECOND, reason: 'crashed' });
    expect(bus.detachRadio('0000000000000099', 'x')).toBe(false);
  });
});

describe('real-time pacing', () => {
  it('starts pacing when the expected radios have registered, not when runUntil is called', async () => {
    const { bus, add } = await makeBus({ realTime: { speed: 1 }, expectRadios: 2 });
    const a = await add(1);
    let registered = 0;
    let firedAfter = -1;
    a.radio.clock.setTimerAt(100 * MILLISECOND, () => {
      firedAfter = performance.now() - registered;
    });
    const run = bus.runUntil(200 * MILLISECOND);
    // Virtual time has not started: these 300 ms of wall time are not owed to it.
    await new Promise((r) => setTimeout(r, 300));
    registered = performance.now();
    await add(2);
    await run;
    const elapsed = performance.now() - registered;
    bus.close();
    // At x1, 100 ms of virtual time after the start take 100 ms of wall time (less the
    // pacing's half-millisecond tolerance and a timer firing up to a millisecond early).
    expect(firedAfter).toBeGreaterThanOrEqual(98);
    expect(elapsed).toBeGreaterThanOrEqual(198);
  });
});
