/**
 * The bus over real WebSocket connections: lock-step with slow clients, bad input, clients
 * that vanish or never report idle, and determinism whatever order messages arrive in.
 */

import { MILLISECOND, SECOND } from '@gbhan/clock';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  BusRadio,
  buildPcap,
  type CapturedFrame,
  LINKTYPE_IEEE802_15_4_TAP,
  MAX_MESSAGE_BYTES,
  RadioBus,
  type RadioBusConfig,
  startBusServer,
  WebSocketTransport,
} from '../src/index.js';
import type { BusTraceEvent } from '../src/trace.js';
import { macDataFrame } from './frames.js';
import { eui } from './harness.js';

async function serve(config: RadioBusConfig = {}) {
  const bus = new RadioBus({ seed: 3, ...config });
  const trace: BusTraceEvent[] = [];
  bus.onTrace((e) => trace.push(e));
  const server = await startBusServer(bus);
  const connect = (n: number, extra: Record<string, unknown> = {}) =>
    BusRadio.connect(new WebSocketTransport(server.url), {
      eui64: eui(n),
      band: '2.4GHz',
      page: 0,
      channel: 11,
      position: { x: n, y: 0 },
      ...extra,
    });
  const stop = async () => {
    bus.close();
    await server.close();
  };
  return { bus, server, trace, connect, stop };
}

/** A raw socket that speaks whatever we tell it to. */
function rawClient(url: string) {
  const ws = new WebSocket(url);
  const received: { type: string; code?: string }[] = [];
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  ws.on('message', (d) => received.push(JSON.parse(d.toString())));
  const opened = new Promise<void>((resolve) => ws.on('open', () => resolve()));
  return { ws, received, closed, opened };
}

describe('lock-step over sockets', () => {
  it('waits for a slow client before advancing, so events stay in virtual-time order', async () => {
    const { bus, connect, stop, trace } = await serve();
    const slow = await connect(1);
    const fast = await connect(2);
    const log: string[] = [];
    slow.clock.setTimerAt(10 * MILLISECOND, () => {
      const release = slow.hold();
      // The slow device takes 80 ms of wall time to decide to transmit.
      setTimeout(() => {
        slow.transmit(macDataFrame(1, 1, 0xffff, 1, Uint8Array.of(7)));
        release();
      }, 80);
    });
    fast.onReceive(() => {
      log.push(`rx@${fast.clock.now()}`);
    });
    fast.clock.setTimerAt(10 * MILLISECOND + 700, () => log.push(`timer@${fast.clock.now()}`));
    await bus.runUntil(SECOND);
    await stop();
    // The 12-byte frame takes (6 + 12) x 32 = 576 us; it must arrive before fast's 10.7 ms timer.
    expect(log).toEqual([`rx@${10 * MILLISECOND + 576}`, `timer@${10 * MILLISECOND + 700}`]);
    const times = trace.map((e) => e.t);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('keeps each client clock in step with the bus across many rounds', async () => {
    const { bus, connect, stop } = await serve();
    const radios = await Promise.all([1, 2, 3, 4].map((n) => connect(n)));
    const seen = new Map<string, number[]>();
    for (const r of radios) {
      seen.set(r.eui64, []);
      r.onReceive((f) => {
        seen.get(r.eui64)!.push(f.endUs);
        expect(r.clock.now()).toBe(f.endUs);
      });
      let i = 0;
      const tick = () => {
        r.transmit(macDataFrame(i++ & 0xff, 1, 0xffff, 1, Uint8Array.of(1)));
        if (i < 20) r.clock.setTimer(7 * MILLISECOND + Number.parseInt(r.eui64, 16) * 1000, tick);
      };
      r.clock.setTimerAt(Number.parseInt(r.eui64, 16) * 1000, tick);
    }
    await bus.runUntil(2 * SECOND);
    await stop();
    for (const times of seen.values()) {
      expect(times.length).toBeGreaterThan(10);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    }
  });
});

describe('bad input', () => {
  const cases: [string, (ws: WebSocket) => void, string][] = [
    ['not JSON', (ws) => ws.send('{nope'), 'BUS_MALFORMED'],
    ['a JSON array', (ws) => ws.send('[1,2]'), 'BUS_MALFORMED'],
    ['an unknown type', (ws) => ws.send(JSON.stringify({ type: 'teleport' })), 'BUS_UNKNOWN_TYPE'],
    ['an oversize message', (ws) => ws.send('x'.repeat(MAX_MESSAGE_BYTES + 1)), 'BUS_OVERSIZE'],
    ['a binary frame', (ws) => ws.send(Buffer.from([1, 2, 3])), 'BUS_MALFORMED'],
    [
      'tx before hello',
      (ws) => ws.send(JSON.stringify({ type: 'tx', id: 1, psdu: 'AAA=' })),
      'BUS_NOT_REGISTERED',
    ],
    [
      'a hello with a bad EUI64',
      (ws) =>
        ws.send(
          JSON.stringify({
            type: 'hello',
            version: 1,
            eui64: 'xyz',
            band: '2.4GHz',
            page: 0,
            channel: 11,
            position: { x: 0, y: 0 },
          }),
        ),
      'BUS_MALFORMED',
    ],
    [
      'a hello with an extra field',
      (ws) =>
        ws.send(
          JSON.stringify({
            type: 'hello',
            version: 1,
            eui64: eui(99),
            band: '2.4GHz',
            page: 0,
            channel: 11,
            position: { x: 0, y: 0 },
            evil: 1,
          }),
        ),
      'BUS_MALFORMED',
    ],
    [
      'a hello for another protocol version',
      (ws) =>
        ws.send(
          JSON.stringify({
            type: 'hello',
            version: 9,
            eui64: eui(98),
            band: '2.4GHz',
            page: 0,
            channel: 11,
            position: { x: 0, y: 0 },
          }),
        ),
      'BUS_VERSION',
    ],
    [
      'a hello on a channel the band does not have',
      (ws) =>
        ws.send(
          JSON.stringify({
            type: 'hello',
            version: 1,
            eui64: eui(97),
            band: 'GB868',
            page: 0,
            channel: 11,
            position: { x: 0, y: 0 },
          }),
        ),
      'BUS_BAD_CHANNEL',
    ],
    [
      'a duplicate EUI64',
      (ws) =>
        ws.send(
          JSON.stringify({
            type: 'hello',
            version: 1,
            eui64: eui(1),
            band: '2.4GHz',
            page: 0,
            channel: 11,
            position: { x: 0, y: 0 },
          }),
        ),
      'BUS_DUPLICATE_EUI64',
    ],
    [
      'an oversize PSDU',
      (ws) => {
        ws.send(
          JSON.stringify({
            type: 'hello',
            version: 1,
            eui64: eui(96),
            band: '2.4GHz',
            page: 0,
            channel: 11,
            position: { x: 0, y: 0 },
          }),
        );
        ws.send(JSON.stringify({ type: 'tx', id: 0, psdu: Buffer.alloc(200).toString('base64') }));
        ws.send(JSON.stringify({ type: 'idle', next: null }));
      },
      'BUS_PSDU_TOO_LONG',
    ],
    [
      'a set-channel to an unknown band',
      (ws) => {
        ws.send(
          JSON.stringify({
            type: 'hello',
            version: 1,
            eui64: eui(95),
            band: '2.4GHz',
            page: 0,
            channel: 11,
            position: { x: 0, y: 0 },
          }),
        );
        ws.send(JSON.stringify({ type: 'set-channel', page: 28, channel: 3, band: 'LTE' }));
      },
      'BUS_MALFORMED',
    ],
    [
      'a set-channel across bands to a page the band does not have',
      (ws) => {
        ws.send(
          JSON.stringify({
            type: 'hello',
            version: 1,
            eui64: eui(94),
            band: '2.4GHz',
            page: 0,
            channel: 11,
            position: { x: 0, y: 0 },
          }),
        );
        ws.send(JSON.stringify({ type: 'set-channel', page: 0, channel: 11, band: 'GB868' }));
        ws.send(JSON.stringify({ type: 'idle', next: null }));
      },
      'BUS_BAD_CHANNEL',
    ],
  ];

  it('answers each bad message with its error code and disconnects only that client; others lose no frames', async () => {
    const { bus, server, connect, stop, trace } = await serve();
    const a = await connect(1);
    const b = await connect(2);
    let got = 0;
    b.onReceive(() => {
      got++;
    });
    let n = 0;
    const tick = () => {
      a.transmit(macDataFrame(n++ & 0xff, 1, 0xffff, 1, Uint8Array.of(0)));
      if (n < 100) a.clock.setTimer(10 * MILLISECOND, tick);
    };
    a.clock.setTimerAt(MILLISECOND, tick);
    const run = bus.runUntil(2 * SECOND);
    for (const [name, misbehave, code] of cases) {
      const c = rawClient(server.url);
      await c.opened;
      misbehave(c.ws);
      await c.closed;
      expect(c.received.at(-1), name).toMatchObject({ type: 'error', code });
    }
    await run;
    await stop();
    expect(got).toBe(100);
    expect(trace.filter((e) => e.type === 'error').map((e) => (e as { code: string }).code)).toEqual(
      cases.map((c) => c[2]),
    );
  });

  it('drops a client that vanishes mid-run from the lock-step without stalling time', async () => {
    const { bus, server, connect, stop, trace } = await serve();
    const a = await connect(1);
    const ghost = rawClient(server.url);
    await ghost.opened;
    ghost.ws.send(
      JSON.stringify({
        type: 'hello',
        version: 1,
        eui64: eui(5),
        band: '2.4GHz',
        page: 0,
        channel: 11,
        position: { x: 0, y: 0 },
      }),
    );
    // The ghost never reports idle; it just disappears after 100 ms of wall time.
    setTimeout(() => ghost.ws.terminate(), 100);
    let fired = 0;
    a.clock.setTimerAt(5 * SECOND, () => {
      fired++;
    });
    await bus.runUntil(10 * SECOND);
    await stop();
    expect(fired).toBe(1);
    expect(trace.find((e) => e.type === 'detach' && e.radio === eui(5))).toMatchObject({
      reason: 'socket closed',
    });
  });

  it('times out a client that never reports idle, reports it, and carries on', async () => {
    const { bus, server, connect, stop, trace } = await serve({ idleTimeoutMs: 200 });
    const a = await connect(1);
    const stuck = rawClient(server.url);
    await stuck.opened;
    stuck.ws.send(
      JSON.stringify({
        type: 'hello',
        version: 1,
        eui64: eui(6),
        band: '2.4GHz',
        page: 0,
        channel: 11,
        position: { x: 0, y: 0 },
      }),
    );
    let fired = 0;
    a.clock.setTimerAt(SECOND, () => {
      fired++;
    });
    const started = Date.now();
    await bus.runUntil(2 * SECOND);
    await stuck.closed;
    await stop();
    expect(fired).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(stuck.received.at(-1)).toMatchObject({ type: 'error', code: 'BUS_IDLE_TIMEOUT' });
    expect(trace.some((e) => e.type === 'error' && e.code === 'BUS_IDLE_TIMEOUT' && e.radio === eui(6))).toBe(
      true,
    );
  });

  it('survives a flood of garbage connections', async () => {
    const { bus, server, connect, stop } = await serve();
    const a = await connect(1);
    const b = await connect(2);
    let got = 0;
    b.onReceive(() => {
      got++;
    });
    a.clock.setTimerAt(MILLISECOND, () => {
      a.transmit(macDataFrame(1, 1, 0xffff, 1, Uint8Array.of(0)));
    });
    const floods = Array.from({ length: 30 }, async (_, i) => {
      const c = rawClient(server.url);
      await c.opened;
      c.ws.send(
        i % 2 ? Buffer.from(Array.from({ length: 64 }, (_, k) => (k * 37 + i) & 0xff)) : `garbage ${i}`,
      );
      await c.closed;
    });
    await Promise.all(floods);
    await bus.runUntil(SECOND);
    await stop();
    expect(got).toBe(1);
  });
});

describe('determinism', () => {
  /** Six radios, both bands, loss and shadowing on: a run that consumes plenty of randomness. */
  async function scenario(over: 'ws' | 'inproc', seed: number) {
    const bus = new RadioBus({
      seed,
      lossRate: 0.1,
      bands: { '2.4GHz': { shadowingSigmaDb: 4 }, GB868: { shadowingSigmaDb: 4 } },
      expectRadios: 6,
    });
    const trace: string[] = [];
    const frames: CapturedFrame[] = [];
    bus.onTrace((e) => trace.push(JSON.stringify(e)));
    bus.onFrame((f) => frames.push(f));
    const server = over === 'ws' ? await startBusServer(bus) : null;
    const { InProcessTransport } = await import('../src/transport.js');
    const radios = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) =>
        BusRadio.connect(server ? new WebSocketTransport(server.url) : new InProcessTransport(bus), {
          eui64: eui(n),
          band: n <= 3 ? '2.4GHz' : 'GB868',
          page: n <= 3 ? 0 : 28,
          channel: n <= 3 ? 11 : 2,
          position: { x: n * 40, y: 0 },
        }),
      ),
    );
    for (const r of radios) {
      let i = 0;
      const id = Number.parseInt(r.eui64, 16);
      r.onReceive((f) => {
        // Reply to every third frame heard: traffic that depends on what was delivered.
        if (f.psdu[2]! % 3 === 0)
          r.transmit(macDataFrame((f.psdu[2]! + 1) & 0xff, 1, 0xffff, id, Uint8Array.of(id)));
      });
      const tick = () => {
        r.transmit(macDataFrame(i++ & 0xff, 1, 0xffff, id, Uint8Array.of(id, i & 0xff)));
        if (i < 40) r.clock.setTimer(20 * MILLISECOND + id * 333, tick);
      };
      r.clock.setTimerAt(id * 1000, tick);
    }
    await bus.runUntil(3 * SECOND);
    bus.close();
    await server?.close();
    return { trace: trace.join('\n'), pcap: Buffer.from(buildPcap(LINKTYPE_IEEE802_15_4_TAP, frames)) };
  }

  it('same seed, same trace and capture bytes: over sockets and in-process alike', async () => {
    const ws1 = await scenario('ws', 11);
    const ws2 = await scenario('ws', 11);
    const ip = await scenario('inproc', 11);
    const other = await scenario('inproc', 12);
    expect(ws1.pcap.equals(ws2.pcap)).toBe(true);
    expect(ws1.trace).toBe(ws2.trace);
    expect(ip.pcap.equals(ws1.pcap)).toBe(true);
    expect(ip.trace).toBe(ws1.trace);
    expect(other.trace).not.toBe(ip.trace);
    expect(ws1.trace).toContain('"reason":"loss"');
  });
});
