/**
 * The bus over real WebSocket connections: lock-step with slow clients, bad input, clients
 * that vanish or never report idle, and determinism whatever order messages arrive in.
 */

import { randomBytes } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import { performance } from 'node:perf_hooks';
import { MILLISECOND, SECOND } from '@gbhan/clock';
import { describe, expect, it, onTestFinished } from 'vitest';
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
import { eui, helloOf } from './harness.js';

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

/** Radio 1 sends 100 frames, 10 ms apart from 1 ms; returns how many radio 2 got. */
function traffic(a: BusRadio, b: BusRadio): () => number {
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
  return () => got;
}

/** `helloOf` as a socket client sends it: JSON text. */
function hello(n: number, over: Record<string, unknown> = {}): string {
  return JSON.stringify(helloOf(n, over));
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
    ['a hello with a bad EUI64', (ws) => ws.send(hello(0, { eui64: 'xyz' })), 'BUS_MALFORMED'],
    ['a hello with an extra field', (ws) => ws.send(hello(99, { evil: 1 })), 'BUS_MALFORMED'],
    ['a hello for another protocol version', (ws) => ws.send(hello(98, { version: 9 })), 'BUS_VERSION'],
    [
      'a hello on a channel the band does not have',
      (ws) => ws.send(hello(97, { band: 'GB868' })),
      'BUS_BAD_CHANNEL',
    ],
    ['a duplicate EUI64', (ws) => ws.send(hello(1)), 'BUS_DUPLICATE_EUI64'],
    [
      'an oversize PSDU',
      (ws) => {
        ws.send(hello(96));
        ws.send(JSON.stringify({ type: 'tx', id: 0, psdu: Buffer.alloc(200).toString('base64') }));
        ws.send(JSON.stringify({ type: 'idle', next: null }));
      },
      'BUS_PSDU_TOO_LONG',
    ],
    [
      'a set-channel to an unknown band',
      (ws) => {
        ws.send(hello(95));
        ws.send(JSON.stringify({ type: 'set-channel', page: 28, channel: 3, band: 'LTE' }));
      },
      'BUS_MALFORMED',
    ],
    [
      'a set-channel across bands to a page the band does not have',
      (ws) => {
        ws.send(hello(94));
        ws.send(JSON.stringify({ type: 'set-channel', page: 0, channel: 11, band: 'GB868' }));
        ws.send(JSON.stringify({ type: 'idle', next: null }));
      },
      'BUS_BAD_CHANNEL',
    ],
  ];

  it('answers each bad message with its error code and disconnects only that client; others lose no frames', async () => {
    const { bus, server, connect, stop, trace } = await serve();
    const got = traffic(await connect(1), await connect(2));
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
    expect(got()).toBe(100);
    expect(trace.filter((e) => e.type === 'error').map((e) => (e as { code: string }).code)).toEqual(
      cases.map((c) => c[2]),
    );
  });

  it('drops a client that vanishes mid-run from the lock-step without stalling time', async () => {
    const { bus, server, connect, stop, trace } = await serve();
    const a = await connect(1);
    const ghost = rawClient(server.url);
    await ghost.opened;
    ghost.ws.send(hello(5));
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
    stuck.ws.send(hello(6));
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

describe('hostile and broken clients', () => {
  /** Fails the test instead of hanging it when the bus never gets rid of a bad client. */
  function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }

  async function until(cond: () => boolean, ms = 5000): Promise<void> {
    const end = performance.now() + ms;
    while (!cond()) {
      if (performance.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** serve(), torn down even when the test fails: a bad client left running starves the next tests. */
  async function serveHostile(config: RadioBusConfig) {
    const s = await serve(config);
    let stopped: Promise<void> | null = null;
    const stop = () => {
      stopped ??= s.stop();
      return stopped;
    };
    onTestFinished(stop);
    return { ...s, stop };
  }

  const errorOf = (trace: BusTraceEvent[], radio: string) =>
    trace.find((e) => e.type === 'error' && e.radio === radio) as { t: number; code: string } | undefined;

  it('drops a client that keeps working at one instant (a cca and an idle for every message)', async () => {
    const { bus, server, connect, stop, trace } = await serveHostile({ maxActionsPerInstant: 500 });
    const got = traffic(await connect(1), await connect(2));
    const c = rawClient(server.url);
    await c.opened;
    let id = 0;
    c.ws.on('message', (d) => {
      if (JSON.parse(d.toString()).type === 'error') return;
      c.ws.send(JSON.stringify({ type: 'cca', id: id++ }));
      c.ws.send(JSON.stringify({ type: 'idle', next: null }));
    });
    c.ws.send(hello(7));
    await within(bus.runUntil(2 * SECOND), 10_000, 'the run');
    await c.closed;
    await stop();
    // It held time at the instant it arrived until its 501st cca there.
    const attached = trace.find((e) => e.type === 'attach' && e.radio === eui(7))!;
    expect(errorOf(trace, eui(7))).toMatchObject({ code: 'BUS_INSTANT_LIMIT', t: attached.t });
    expect(c.received.at(-1)).toMatchObject({ type: 'error', code: 'BUS_INSTANT_LIMIT' });
    expect(got()).toBe(100);
  });

  it('drops a client that sends actions without ever reporting idle', async () => {
    // No idle timeout: only the bound on pending actions can stop this client.
    const { bus, server, connect, stop, trace } = await serveHostile({
      maxPendingActions: 100,
      idleTimeoutMs: 0,
    });
    const got = traffic(await connect(1), await connect(2));
    const c = rawClient(server.url);
    await c.opened;
    let sent = 0;
    const flood = () => {
      if (c.ws.readyState !== WebSocket.OPEN) return;
      for (let i = 0; i < 50; i++) c.ws.send(JSON.stringify({ type: 'cca', id: sent++ }));
      setImmediate(flood);
    };
    c.ws.send(hello(8));
    flood();
    await within(bus.runUntil(2 * SECOND), 10_000, 'the run');
    await c.closed;
    await stop();
    expect(errorOf(trace, eui(8))).toMatchObject({ code: 'BUS_ACTION_BACKLOG' });
    expect(c.received.at(-1)).toMatchObject({ type: 'error', code: 'BUS_ACTION_BACKLOG' });
    expect(got()).toBe(100);
  });

  it('drops a client that does not read its socket once its unread backlog passes the bound', async () => {
    // The action bounds are off: only the send backlog can stop this client.
    const { bus, server, connect, stop, trace } = await serveHostile({
      maxSendBacklogBytes: 64 * 1024,
      maxActionsPerInstant: 0,
      maxPendingActions: 0,
      // Big frames: the kernel's socket buffers (megabytes) fill before the bus's backlog grows.
      timing: { '2.4GHz': { maxPsduBytes: 2047 } },
    });
    const a = await connect(1);
    const b = await connect(2);
    const c = rawClient(server.url);
    c.ws.on('error', () => {});
    await c.opened;
    c.ws.send(hello(9));
    await until(() => c.received.length > 0);
    // From now on it answers idle blindly and never reads: every frame it hears piles up.
    c.ws.pause();
    const blindIdle = setInterval(() => {
      if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify({ type: 'idle', next: null }));
    }, 1);
    onTestFinished(() => clearInterval(blindIdle));
    // Radio 1 sends 2 KB frames until 20 after the drop; radio 2 must get every one.
    let sent = 0;
    let got = 0;
    let stopAt = Number.POSITIVE_INFINITY;
    b.onReceive(() => {
      got++;
    });
    const payload = new Uint8Array(2000);
    const tick = () => {
      a.transmit(macDataFrame(sent++ & 0xff, 1, 0xffff, 1, payload));
      if (stopAt === Number.POSITIVE_INFINITY && errorOf(trace, eui(9))) stopAt = sent + 20;
      if (sent < stopAt) a.clock.setTimer(70 * MILLISECOND, tick);
    };
    a.clock.setTimerAt(MILLISECOND, tick);
    await within(bus.runUntil(3600 * SECOND), 30_000, 'the run');
    c.ws.terminate();
    await stop();
    expect(errorOf(trace, eui(9))).toMatchObject({ code: 'BUS_SEND_BACKLOG' });
    expect(trace.find((e) => e.type === 'detach' && e.radio === eui(9))).toMatchObject({
      reason: 'BUS_SEND_BACKLOG',
    });
    expect(sent).toBe(stopAt);
    expect(got).toBe(sent);
  });

  it('times out a client that never reports idle within 10 % of the timeout', async () => {
    const timeoutMs = 300;
    const { bus, server, connect, stop, trace } = await serveHostile({ idleTimeoutMs: timeoutMs });
    const wall: Record<string, number> = {};
    bus.onTrace((e) => {
      if ((e.type === 'attach' || e.type === 'error') && e.radio === eui(10))
        wall[e.type] = performance.now();
    });
    const a = await connect(1);
    // The good radio keeps the bus waiting for 150 ms (less than the timeout) early in the run,
    // so a watchdog is already running when the stuck client arrives.
    a.clock.setTimerAt(MILLISECOND, () => {
      const release = a.hold();
      setTimeout(release, 150);
    });
    let fired = 0;
    a.clock.setTimerAt(SECOND, () => {
      fired++;
    });
    const run = bus.runUntil(2 * SECOND);
    await new Promise((r) => setTimeout(r, 50));
    const stuck = rawClient(server.url);
    await stuck.opened;
    stuck.ws.send(hello(10));
    await within(run, 10_000, 'the run');
    await stuck.closed;
    await stop();
    expect(fired).toBe(1);
    expect(errorOf(trace, eui(10))).toMatchObject({ code: 'BUS_IDLE_TIMEOUT' });
    // The stuck radio awaits from its welcome, sent as it attaches.
    const late = wall.error! - wall.attach!;
    expect(late).toBeGreaterThanOrEqual(timeoutMs);
    expect(late).toBeLessThanOrEqual(1.1 * timeoutMs + 50);
  });

  /** A WebSocket frame written by hand: FIN, text, masked or not (ws refuses unmasked client frames). */
  function frame(text: string, masked: boolean): Buffer {
    const payload = Buffer.from(text);
    const len = payload.length < 126 ? [payload.length] : [126, payload.length >> 8, payload.length & 0xff];
    const head = Buffer.from([0x81, (masked ? 0x80 : 0) | len[0]!, ...len.slice(1)]);
    if (!masked) return Buffer.concat([head, payload]);
    const mask = randomBytes(4);
    return Buffer.concat([head, mask, payload.map((b, i) => b ^ mask[i % 4]!)]);
  }

  it('reports WebSocket protocol violations as BUS_WS_PROTOCOL and oversize frames as BUS_OVERSIZE', async () => {
    const { bus, server, connect, stop, trace } = await serveHostile({});
    const got = traffic(await connect(1), await connect(2));
    // A raw TCP client: handshake, a proper (masked) hello, then an unmasked frame.
    const sock = connectTcp(server.port, '127.0.0.1');
    const sockClosed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => {});
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const response: Buffer[] = [];
    sock.on('data', (d) => response.push(d));
    sock.write(
      [
        'GET / HTTP/1.1',
        'Host: 127.0.0.1',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n'),
    );
    await until(() => Buffer.concat(response).includes('\r\n\r\n'));
    expect(Buffer.concat(response).toString('latin1')).toMatch(/^HTTP\/1\.1 101/);
    sock.write(frame(hello(11), true));
    await until(() => trace.some((e) => e.type === 'attach' && e.radio === eui(11)));
    // It never answers its welcome: the run waits on it until the bad frame ends it.
    const run = bus.runUntil(2 * SECOND);
    await new Promise((r) => setTimeout(r, 20));
    expect(got()).toBe(0);
    sock.write(frame(JSON.stringify({ type: 'idle', next: null }), false));
    await sockClosed;
    // A frame past the socket's payload limit (16 x the message limit): ws cuts it, as oversize.
    const big = rawClient(server.url);
    big.ws.on('error', () => {});
    await big.opened;
    big.ws.send('x'.repeat(16 * MAX_MESSAGE_BYTES + 1));
    await big.closed;
    await within(run, 10_000, 'the run');
    await stop();
    expect(errorOf(trace, eui(11))).toMatchObject({ code: 'BUS_WS_PROTOCOL' });
    expect(trace.filter((e) => e.type === 'error').map((e) => (e as { code: string }).code)).toEqual([
      'BUS_WS_PROTOCOL',
      'BUS_OVERSIZE',
    ]);
    expect(got()).toBe(100);
  });
});
