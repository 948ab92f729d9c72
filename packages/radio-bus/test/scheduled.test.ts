/**
 * Scheduled actions: a `tx` or `cca` sent with `at` is held by the bus and applied at the first
 * barrier of that instant, without its radio being woken for it; `confirm: false` spares the
 * `tx-done`; `cancel` withdraws one not yet applied. A raw port shows what a client is sent.
 */
import { describe, expect, it } from 'vitest';
import type { Port } from '../src/bus-connections.js';
import type { BusState } from '../src/bus-state.js';
import type { RadioBus } from '../src/index.js';
import type { BusMessage, ClientMessage } from '../src/protocol.js';
import { macDataFrame } from './frames.js';
import { eui, helloOf, makeBus } from './harness.js';

const MS = 1000;
const SECOND = 1_000_000;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const frame = (seq: number) => macDataFrame(seq, 0x1234, 0xffff, 0x0001, new Uint8Array(10));

/**
 * A client on a raw port: answers every bus message with what `react` returns, then `idle`
 * with the timer `next` gives (none by default, so a message it gets is a message, not a wake).
 */
function rawRadio(
  bus: RadioBus,
  n: number,
  react: (m: BusMessage) => ClientMessage[] = () => [],
  next: (m: BusMessage) => number | null = () => null,
) {
  const got: BusMessage[] = [];
  let port: Port;
  port = bus.attach({
    send: (m) => {
      got.push(m);
      queueMicrotask(() => {
        if (m.type === 'error') return;
        for (const a of react(m)) port.receive(a);
        port.receive({ type: 'idle', next: next(m), seen: got.filter((x) => x.type !== 'error').length });
      });
    },
    close: () => {},
  });
  port.receive(helloOf(n));
  return got;
}

/** The first time-0 message (the sync round): where a raw client sends what it schedules. */
const atStart = (m: BusMessage, actions: ClientMessage[]) => (m.type === 'time' && m.t === 0 ? actions : []);

const stateOf = (bus: RadioBus) => (bus as unknown as { s: BusState }).s;

describe('a scheduled tx', () => {
  it('goes on the air at its instant without waking its radio, and without tx-done when confirm is false', async () => {
    const { bus, add, trace } = await makeBus();
    const rx = await add(2, { position: { x: 5, y: 0 } });
    const got = rawRadio(bus, 1, (m) =>
      atStart(m, [{ type: 'tx', id: 0, psdu: b64(frame(1)), at: 2 * MS, confirm: false }]),
    );
    await bus.runUntil(SECOND);
    bus.close();
    const tx = trace.filter((e) => e.type === 'tx' && e.radio === eui(1));
    expect(tx).toHaveLength(1);
    expect(tx[0]!.t).toBe(2 * MS);
    expect(rx.received).toHaveLength(1);
    expect(rx.received[0]!.startUs).toBe(2 * MS);
    // Nothing reached it between the start and the end of the run: no wake, no tx-done.
    expect(got.filter((m) => m.t > 0 && m.t < SECOND)).toEqual([]);
  });

  it('with confirm left out, is answered by tx-done at the end of its airtime', async () => {
    const { bus } = await makeBus();
    const got = rawRadio(bus, 1, (m) => atStart(m, [{ type: 'tx', id: 5, psdu: b64(frame(1)), at: 3 * MS }]));
    await bus.runUntil(SECOND);
    bus.close();
    const between = got.filter((m) => m.t > 0 && m.t < SECOND);
    expect(between).toHaveLength(1);
    expect(between[0]).toMatchObject({ type: 'tx-done', id: 5, status: 'sent' });
    expect(between[0]!.t).toBeGreaterThan(3 * MS);
  });

  it('is applied before anything its radio sends at that instant: a retune there comes after it', async () => {
    const { bus, add, trace } = await makeBus();
    const a = await add(1);
    const listener = await add(2, { position: { x: 5, y: 0 } });
    a.radio.clock.setTimerAt(1 * MS, () => {
      a.radio.transmitAt(frame(1), 2 * MS);
    });
    a.radio.clock.setTimerAt(2 * MS, () => a.radio.setChannel(0, 12));
    await bus.runUntil(SECOND);
    bus.close();
    const tx = trace.filter((e) => e.type === 'tx' && e.radio === eui(1));
    expect(tx).toHaveLength(1);
    expect(tx[0]).toMatchObject({ t: 2 * MS, channel: 11 });
    expect(listener.received).toHaveLength(1);
  });

  it('is withdrawn by cancel before its instant; a cancel after it went changes nothing', async () => {
    const { bus, add, trace } = await makeBus();
    const a = await add(1);
    a.radio.clock.setTimerAt(1 * MS, () => {
      const first = a.radio.transmitAt(frame(1), 5 * MS);
      const second = a.radio.transmitAt(frame(2), 3 * MS);
      a.radio.clock.setTimerAt(2 * MS, () => first.cancel());
      a.radio.clock.setTimerAt(4 * MS, () => second.cancel());
    });
    await bus.runUntil(SECOND);
    bus.close();
    const tx = trace.filter((e) => e.type === 'tx' && e.radio === eui(1));
    expect(tx.map((e) => e.t)).toEqual([3 * MS]);
    expect(trace.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('of a radio that left is not applied', async () => {
    const { bus, trace } = await makeBus();
    rawRadio(bus, 1, (m) =>
      atStart(m, [{ type: 'tx', id: 0, psdu: b64(frame(1)), at: 5 * MS, confirm: false }, { type: 'bye' }]),
    );
    await bus.runUntil(SECOND);
    bus.close();
    expect(trace.some((e) => e.type === 'detach' && e.radio === eui(1))).toBe(true);
    expect(trace.filter((e) => e.type === 'tx')).toEqual([]);
  });
});

describe('a scheduled cca', () => {
  it('is answered at its instant with the channel then, the radio not woken before', async () => {
    const { bus, add } = await makeBus();
    const a = await add(2, { position: { x: 5, y: 0 } });
    // Radio 2 transmits a 60-byte frame from 1 ms (~2.3 ms on the air).
    a.radio.clock.setTimerAt(
      1 * MS,
      () => void a.radio.transmit(macDataFrame(1, 1, 0xffff, 2, new Uint8Array(60))),
    );
    const got = rawRadio(bus, 1, (m) =>
      atStart(m, [
        { type: 'cca', id: 1, at: 2 * MS },
        { type: 'cca', id: 2, at: 10 * MS },
      ]),
    );
    await bus.runUntil(SECOND);
    bus.close();
    const between = got.filter((m) => m.t > 0 && m.t < SECOND && m.type !== 'rx');
    expect(between).toEqual([
      { type: 'cca-result', t: 2 * MS, id: 1, busy: true },
      { type: 'cca-result', t: 10 * MS, id: 2, busy: false },
    ]);
  });

  it('withdrawn by the client, is never answered', async () => {
    const { bus, add } = await makeBus();
    const a = await add(1);
    const answers: boolean[] = [];
    a.radio.clock.setTimerAt(1 * MS, () => {
      const kept = a.radio.ccaAt(3 * MS);
      const dropped = a.radio.ccaAt(3 * MS);
      kept.busy.then((b) => answers.push(b));
      dropped.busy.then(() => answers.push(true));
      dropped.cancel();
    });
    await bus.runUntil(SECOND);
    bus.close();
    expect(answers).toEqual([false]);
  });
});

describe('bounds on scheduled actions', () => {
  it('one scheduled before the current instant ends the connection with BUS_SCHEDULE_PAST', async () => {
    const { bus, trace } = await makeBus();
    const got = rawRadio(
      bus,
      1,
      (m) => (m.type === 'time' && m.t === 5 * MS ? [{ type: 'cca', id: 0, at: MS }] : []),
      (m) => (m.t < 5 * MS ? 5 * MS : null),
    );
    await bus.runUntil(SECOND);
    bus.close();
    const error = trace.find((e) => e.type === 'error' && e.radio === eui(1));
    expect(error).toMatchObject({ code: 'BUS_SCHEDULE_PAST' });
    expect(got.at(-1)).toMatchObject({ type: 'error', code: 'BUS_SCHEDULE_PAST' });
  });

  it('more than maxPendingActions waiting end the connection with BUS_ACTION_BACKLOG', async () => {
    const { bus, trace } = await makeBus({ maxPendingActions: 10, maxActionsPerInstant: 0 });
    let round = 0;
    // One scheduled cca per microsecond (each followed by idle), far ahead: only the bound on
    // scheduled actions can count them.
    rawRadio(
      bus,
      1,
      (m) => (m.type === 'time' && round++ < 20 ? [{ type: 'cca', id: round, at: 900 * MS + round }] : []),
      (m) => m.t + 1,
    );
    await bus.runUntil(SECOND);
    bus.close();
    expect(trace.find((e) => e.type === 'error' && e.radio === eui(1))).toMatchObject({
      code: 'BUS_ACTION_BACKLOG',
    });
  });

  it('scheduling far ahead and cancelling again and again does not grow the bus queue', async () => {
    const { bus } = await makeBus();
    let id = 0;
    let largest = 0;
    rawRadio(
      bus,
      1,
      (m) => {
        if (m.type !== 'time' || id >= 5000) return [];
        largest = Math.max(largest, stateOf(bus).queue.size);
        id++;
        // One kept at the head of the queue, so the withdrawn ones behind it are not simply
        // dropped as they come due.
        const kept: ClientMessage[] = id === 1 ? [{ type: 'cca', id: 0, at: 1e11 }] : [];
        return [
          ...kept,
          { type: 'tx', id, psdu: b64(frame(1)), at: 1e12 + id, confirm: false },
          { type: 'cancel', id },
        ];
      },
      (m) => (id < 5000 ? m.t + 1 : null),
    );
    await bus.runUntil(SECOND);
    bus.close();
    expect(id).toBe(5000);
    expect(largest).toBeLessThan(200);
  });
});
