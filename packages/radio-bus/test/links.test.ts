/**
 * Wired/IP links on the bus: delivery times (queueing + serialization + latency), loss with the
 * seeded PRNG, down and outages, the queue bound, membership, bad messages, controls, the same
 * trace in-process and over WebSocket, and (property) lock-step holding under random traffic.
 */
import { MILLISECOND, SECOND } from '@gbhan/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BusConfigError,
  type BusMessage,
  BusRadio,
  InProcessTransport,
  type LinkConfig,
  type LinkMessage,
  type LinkResult,
  RadioBus,
  type RadioBusConfig,
  startBusServer,
  WebSocketTransport,
} from '../src/index.js';
import type { BusTraceEvent } from '../src/trace.js';
import { eui, helloOf } from './harness.js';

type LinkEvent = Extract<BusTraceEvent, { type: 'link-delivered' | 'link-drop' | 'link-state' | 'link-set' }>;

/** A bus with in-process (or WebSocket) radios 1..n and what each got over links. */
async function linked(links: Record<string, LinkConfig>, n = 3, config: RadioBusConfig = {}, ws = false) {
  const bus = new RadioBus({ seed: 5, links, ...config });
  const trace: BusTraceEvent[] = [];
  bus.onTrace((e) => trace.push(e));
  const server = ws ? await startBusServer(bus) : null;
  const radios: BusRadio[] = [];
  const got: (LinkMessage & { at: number; to: number })[] = [];
  for (let i = 1; i <= n; i++) {
    const r = await BusRadio.connect(
      server ? new WebSocketTransport(server.url) : new InProcessTransport(bus),
      {
        eui64: eui(i),
        band: '2.4GHz',
        page: 0,
        channel: 11,
        position: { x: i, y: 0 },
      },
    );
    r.onLink((m) => {
      got.push({ ...m, at: r.clock.now(), to: i });
    });
    radios.push(r);
  }
  const linkEvents = () => trace.filter((e): e is LinkEvent => e.type.startsWith('link-'));
  /** Radio `from` sends `bytes` octets to radio `to` at virtual time `at`. */
  const sendAt = (at: number, from: number, to: number, bytes = 100, link = 'wlan') =>
    new Promise<LinkResult>((resolve) => {
      const r = radios[from - 1]!;
      r.clock.setTimerAt(at, () => {
        r.linkSend(link, eui(to), new Uint8Array(bytes).fill(from)).then(resolve);
      });
    });
  const stop = async () => {
    bus.close();
    await server?.close();
  };
  return { bus, trace, radios, got, linkEvents, sendAt, stop };
}

const pair = (extra: Partial<LinkConfig> = {}): Record<string, LinkConfig> => ({
  wlan: { members: [eui(1), eui(2)], ...extra },
});

describe('delivery', () => {
  it('arrives at send time + serialization + latency; a second message waits one serialization time', async () => {
    // 100 octets at 100 kbit/s: 8 ms on the wire; 20 ms latency.
    const t = await linked(pair({ latency: 20, bandwidthBps: 100_000 }));
    const a = t.sendAt(1 * MILLISECOND, 1, 2);
    const b = t.sendAt(1 * MILLISECOND, 1, 2);
    await t.bus.runUntil(SECOND);
    expect(await a).toEqual({ status: 'delivered', t: 1000 + 8000 + 20_000 });
    expect(await b).toEqual({ status: 'delivered', t: 1000 + 2 * 8000 + 20_000 });
    expect(t.got.map((g) => [g.at, g.t, g.from, g.link, g.data.length, g.data[0]])).toEqual([
      [29_000, 29_000, eui(1), 'wlan', 100, 1],
      [37_000, 37_000, eui(1), 'wlan', 100, 1],
    ]);
    expect(t.linkEvents()).toEqual([
      {
        t: 29_000,
        type: 'link-delivered',
        link: 'wlan',
        msg: 0,
        from: eui(1),
        to: eui(2),
        octets: 100,
        delayUs: 28_000,
      },
      {
        t: 37_000,
        type: 'link-delivered',
        link: 'wlan',
        msg: 1,
        from: eui(1),
        to: eui(2),
        octets: 100,
        delayUs: 36_000,
      },
    ]);
    await t.stop();
  });

  it('keeps the two directions apart, and delivers at once with no latency or bandwidth', async () => {
    const t = await linked(pair({ bandwidthBps: 8000 })); // 100 octets: 100 ms
    const a = t.sendAt(0, 1, 2);
    const b = t.sendAt(0, 2, 1);
    const c = await linked(pair());
    const d = c.sendAt(5 * MILLISECOND, 1, 2);
    await Promise.all([t.bus.runUntil(SECOND), c.bus.runUntil(SECOND)]);
    expect((await a).t).toBe(100_000);
    expect((await b).t).toBe(100_000);
    expect(await d).toEqual({ status: 'delivered', t: 5000 });
    await t.stop();
    await c.stop();
  });

  it('links any set of members: each can send to each other', async () => {
    const t = await linked({ home: { members: [eui(1), eui(2), eui(3)], latency: 1 } });
    const r = [t.sendAt(0, 1, 3, 10, 'home'), t.sendAt(0, 3, 2, 10, 'home'), t.sendAt(0, 2, 1, 10, 'home')];
    await t.bus.runUntil(SECOND);
    expect((await Promise.all(r)).map((x) => x.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(t.got.map((g) => [g.from, g.to]).sort((x, y) => (x[1] as number) - (y[1] as number))).toEqual([
      [eui(2), 1],
      [eui(3), 2],
      [eui(1), 3],
    ]);
    await t.stop();
  });
});

describe('loss and the seeded PRNG', () => {
  async function lossy(seed: number) {
    const t = await linked(pair({ loss: 0.3, latency: { kind: 'uniform', minMs: 5, maxMs: 50 } }), 2, {
      seed,
    });
    const results = Array.from({ length: 400 }, (_, i) => t.sendAt(i * MILLISECOND, 1, 2, 20));
    await t.bus.runUntil(2 * SECOND);
    await Promise.all(results);
    const events = t.linkEvents();
    await t.stop();
    return events;
  }

  it('loses about the configured share, and the same seed gives the same delivery list', async () => {
    const one = await lossy(1);
    const lost = one.filter((e) => e.type === 'link-drop' && e.reason === 'loss').length;
    expect(one).toHaveLength(400);
    // 400 draws at p = 0.3: mean 120, sd 9.2; 4.5 sd either way.
    expect(lost).toBeGreaterThan(78);
    expect(lost).toBeLessThan(162);
    expect(await lossy(1)).toEqual(one);
    expect(await lossy(2)).not.toEqual(one);
    // FIFO (no reorder): delivery order is send order even with uniform latency.
    const delivered = one.filter((e) => e.type === 'link-delivered').map((e) => (e as { msg: number }).msg);
    expect(delivered).toEqual([...delivered].sort((a, b) => a - b));
  });

  it('with reorder, a shorter latency draw overtakes', async () => {
    const t = await linked(
      pair({ reorder: true, latency: { kind: 'lognormal', medianMs: 30, sigma: 1 } }),
      2,
    );
    const results = Array.from({ length: 50 }, (_, i) => t.sendAt(i * 100, 1, 2, 10));
    await t.bus.runUntil(10 * SECOND);
    await Promise.all(results);
    const order = t.linkEvents().map((e) => (e as { msg: number }).msg);
    expect(order).toHaveLength(50);
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
    await t.stop();
  });
});

describe('down, outages, queue, membership', () => {
  it('drops while down or in an outage, also a message in flight when the outage starts', async () => {
    const t = await linked(pair({ latency: 10, outages: [{ from: 20_000, to: 40_000 }] }));
    const inFlight = t.sendAt(15 * MILLISECOND, 1, 2); // would arrive at 25 ms: in the outage
    const during = t.sendAt(30 * MILLISECOND, 1, 2);
    const after = t.sendAt(40 * MILLISECOND, 1, 2);
    await t.bus.runUntil(SECOND);
    expect(await inFlight).toEqual({ status: 'dropped', reason: 'down', t: 25_000 });
    expect(await during).toEqual({ status: 'dropped', reason: 'down', t: 30_000 });
    expect(await after).toEqual({ status: 'delivered', t: 50_000 });
    expect(t.linkEvents().filter((e) => e.type === 'link-state')).toEqual([
      { t: 20_000, type: 'link-state', link: 'wlan', up: false, cause: 'outage' },
      { t: 40_000, type: 'link-state', link: 'wlan', up: true, cause: 'outage' },
    ]);
    await t.stop();
  });

  it('bounds each direction queue: one more is dropped as queue-full', async () => {
    const t = await linked(pair({ bandwidthBps: 8000, queue: 2 }));
    const r = [t.sendAt(0, 1, 2), t.sendAt(0, 1, 2), t.sendAt(0, 1, 2), t.sendAt(200_000, 1, 2)];
    await t.bus.runUntil(SECOND);
    expect(await Promise.all(r)).toEqual([
      { status: 'delivered', t: 100_000 },
      { status: 'delivered', t: 200_000 },
      { status: 'dropped', reason: 'queue-full', t: 0 },
      { status: 'delivered', t: 300_000 },
    ]);
    await t.stop();
  });

  it('refuses non-members, itself and unknown links, traced with the reason', async () => {
    const t = await linked(pair());
    const r = [t.sendAt(0, 3, 1), t.sendAt(0, 1, 3), t.sendAt(0, 1, 1), t.sendAt(0, 1, 2, 10, 'nope')];
    await t.bus.runUntil(SECOND);
    expect((await Promise.all(r)).map((x) => x.reason)).toEqual([
      'not-a-member',
      'not-a-member',
      'not-a-member',
      'unknown-link',
    ]);
    expect(t.linkEvents().map((e) => [e.type, (e as { reason?: string }).reason, e.link])).toEqual([
      ['link-drop', 'not-a-member', 'wlan'],
      ['link-drop', 'not-a-member', 'wlan'],
      ['link-drop', 'unknown-link', 'nope'],
      ['link-drop', 'not-a-member', 'wlan'],
    ]);
    await t.stop();
  });

  it('drops a message whose addressee left the bus (no-receiver)', async () => {
    const t = await linked(pair({ latency: 50 }));
    const r = t.sendAt(0, 1, 2);
    t.bus.schedule(10 * MILLISECOND, () => t.bus.detachRadio(eui(2), 'crashed'));
    await t.bus.runUntil(SECOND);
    expect(await r).toEqual({ status: 'dropped', reason: 'no-receiver', t: 50_000 });
    await t.stop();
  });
});

describe('controls', () => {
  it('link-state and link-set change the link at their virtual times, traced', async () => {
    const t = await linked(pair({ latency: 10 }));
    t.bus.linkState('wlan', false, 100 * MILLISECOND);
    t.bus.linkState('wlan', true, 200 * MILLISECOND);
    t.bus.linkSet('wlan', { latency: 30, loss: 0 }, 200 * MILLISECOND);
    const r = [t.sendAt(50_000, 1, 2), t.sendAt(150_000, 1, 2), t.sendAt(250_000, 1, 2)];
    await t.bus.runUntil(SECOND);
    expect(await Promise.all(r)).toEqual([
      { status: 'delivered', t: 60_000 },
      { status: 'dropped', reason: 'down', t: 150_000 },
      { status: 'delivered', t: 280_000 },
    ]);
    expect(t.linkEvents().filter((e) => e.type === 'link-state' || e.type === 'link-set')).toEqual([
      { t: 100_000, type: 'link-state', link: 'wlan', up: false, cause: 'control' },
      { t: 200_000, type: 'link-state', link: 'wlan', up: true, cause: 'control' },
      { t: 200_000, type: 'link-set', link: 'wlan', latency: { kind: 'fixed', ms: 30 }, loss: 0 },
    ]);
    expect(() => t.bus.linkState('nope', false)).toThrow(BusConfigError);
    expect(() => t.bus.linkSet('wlan', { loss: 2 })).toThrow(/links\.wlan\.loss/);
    await t.stop();
  });

  it('refuses a bad links config with a typed error naming the field', () => {
    const bad = (links: unknown) => () => new RadioBus({ links: links as Record<string, LinkConfig> });
    expect(bad({ w: { members: [eui(1)] } })).toThrow(/links\.w\.members: a link joins two or more/);
    expect(bad({ w: { members: [eui(1), eui(1)] } })).toThrow(/links\.w\.members\.1/);
    expect(bad({ w: { members: [eui(1), eui(2)], loss: 1.5 } })).toThrow(BusConfigError);
    expect(bad({ w: { members: [eui(1), eui(2)], outages: [{ from: 5, to: 5 }] } })).toThrow(
      /outages\.0\.to/,
    );
    expect(
      bad({ w: { members: [eui(1), eui(2)], latency: { kind: 'uniform', minMs: 5, maxMs: 1 } } }),
    ).toThrow(/latency/);
    expect(bad({ 'bad name!': { members: [eui(1), eui(2)] } })).toThrow(BusConfigError);
  });
});

describe('bad messages', () => {
  /** A raw in-process client: messages go straight to the bus's port, unvalidated. */
  function raw(bus: RadioBus) {
    const received: BusMessage[] = [];
    let closed = false;
    const port = bus.attach({ send: (m) => received.push(m), close: () => (closed = true) });
    return { port, received, closed: () => closed };
  }

  it('answers wrong types and oversize data with typed errors, and the bus carries on', async () => {
    const t = await linked(pair(), 2);
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'link-send', link: 5, to: eui(1), data: 'AA==' }, 'BUS_MALFORMED'],
      [{ type: 'link-send', link: 'wlan', to: 'x', data: 'AA==' }, 'BUS_MALFORMED'],
      [{ type: 'link-send', link: 'wlan', to: eui(1), data: '!!' }, 'BUS_MALFORMED'],
      [{ type: 'link-send', link: 'wlan', to: eui(1), data: 'AA==', id: -1 }, 'BUS_MALFORMED'],
      [{ type: 'link-send', link: 'wlan', to: eui(1), data: 'AA==', extra: 1 }, 'BUS_MALFORMED'],
      [
        { type: 'link-send', link: 'wlan', to: eui(1), data: Buffer.alloc(2049).toString('base64') },
        'BUS_LINK_DATA_TOO_LONG',
      ],
      [{ type: 'link-send', link: 'wlan', to: eui(1), data: '' }, 'BUS_LINK_DATA_TOO_LONG'],
    ];
    for (const [i, [msg, code]] of cases.entries()) {
      const c = raw(t.bus);
      c.port.receive(helloOf(10 + i));
      c.port.receive(msg);
      c.port.receive({ type: 'idle', next: null });
      await t.bus.runUntil((i + 1) * MILLISECOND);
      expect(
        c.received.find((m) => m.type === 'error'),
        JSON.stringify(msg),
      ).toMatchObject({ code });
      expect(c.closed()).toBe(true);
    }
    const ok = t.sendAt(20 * MILLISECOND, 1, 2, 2048);
    await t.bus.runUntil(SECOND);
    expect(await ok).toEqual({ status: 'delivered', t: 20_000 });
    await t.stop();
  });

  it('over a socket, a full 2 KiB payload fits in one message', async () => {
    const t = await linked(pair({ latency: 1 }), 2, {}, true);
    const ok = t.sendAt(0, 1, 2, 2048);
    await t.bus.runUntil(SECOND);
    expect(await ok).toEqual({ status: 'delivered', t: 1000 });
    expect(t.got[0]!.data).toEqual(new Uint8Array(2048).fill(1));
    await t.stop();
  });
});

describe('determinism across transports', () => {
  async function run(ws: boolean) {
    const t = await linked(
      {
        home: {
          members: [eui(1), eui(2), eui(3)],
          latency: { kind: 'lognormal', medianMs: 20, sigma: 0.8 },
          loss: 0.1,
          bandwidthBps: 1_000_000,
          reorder: true,
        },
        backhaul: {
          members: [eui(1), eui(3)],
          latency: { kind: 'uniform', minMs: 1, maxMs: 9 },
          queue: 4,
          bandwidthBps: 64_000,
        },
      },
      3,
      { seed: 9 },
      ws,
    );
    // Each radio answers what it gets on the other link: traffic that depends on deliveries.
    for (const [i, r] of t.radios.entries()) {
      r.onLink((m) => {
        if (m.data.length > 30) return;
        const other = m.link === 'home' ? 'backhaul' : 'home';
        const to = i === 0 ? eui(3) : eui(1);
        void r.linkSend(other, to, new Uint8Array(m.data.length + 5));
      });
    }
    for (let k = 0; k < 30; k++)
      void t.sendAt(k * 7 * MILLISECOND, (k % 3) + 1, ((k + 1) % 3) + 1, 1 + ((k * 37) % 60), 'home');
    t.bus.linkState('home', false, 90 * MILLISECOND);
    t.bus.linkState('home', true, 120 * MILLISECOND);
    await t.bus.runUntil(2 * SECOND);
    const trace = t.trace.map((e) => JSON.stringify(e)).join('\n');
    await t.stop();
    return trace;
  }

  it('gives the same trace in-process and over WebSocket', async () => {
    const inProcess = await run(false);
    const overSockets = await run(true);
    expect(overSockets).toBe(inProcess);
    expect(inProcess).toContain('"reason":"loss"');
    expect(inProcess).toContain('"link":"backhaul"');
  });
});

describe('property: random link traffic keeps lock-step', () => {
  it('time never goes backwards and every message is delivered or dropped exactly once', async () => {
    const send = fc.record({
      at: fc.integer({ min: 0, max: 200_000 }),
      from: fc.integer({ min: 1, max: 3 }),
      to: fc.integer({ min: 1, max: 3 }),
      bytes: fc.integer({ min: 1, max: 600 }),
      link: fc.constantFrom('a', 'b', 'x'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(send, { maxLength: 40 }),
        fc.integer({ min: 0, max: 1000 }),
        async (sends, seed) => {
          const t = await linked(
            {
              a: {
                members: [eui(1), eui(2), eui(3)],
                latency: { kind: 'lognormal', medianMs: 10, sigma: 1 },
                loss: 0.2,
                bandwidthBps: 200_000,
                queue: 3,
                reorder: seed % 2 === 0,
                outages: [{ from: 50_000, to: 80_000 }],
              },
              b: { members: [eui(1), eui(2)], latency: { kind: 'uniform', minMs: 0, maxMs: 30 } },
            },
            3,
            { seed },
          );
          const clocks: number[][] = t.radios.map(() => []);
          for (const [i, r] of t.radios.entries()) r.onLink(() => void clocks[i]!.push(r.clock.now()));
          const results = sends.map((s) => t.sendAt(s.at, s.from, s.to, s.bytes, s.link));
          await t.bus.runUntil(5 * SECOND);
          const done = await Promise.all(results);
          const times = t.trace.map((e) => e.t);
          const outcomes = t
            .linkEvents()
            .filter((e) => e.type === 'link-delivered' || e.type === 'link-drop');
          const msgs = outcomes.map((e) => (e as { msg: number }).msg).sort((x, y) => x - y);
          await t.stop();
          expect(times).toEqual([...times].sort((x, y) => x - y));
          for (const c of clocks) expect(c).toEqual([...c].sort((x, y) => x - y));
          expect(msgs).toEqual(sends.map((_, i) => i));
          expect(done.every((d) => d.status === 'delivered' || d.reason !== 'closed')).toBe(true);
          const delivered = outcomes.filter((e) => e.type === 'link-delivered').length;
          expect(done.filter((d) => d.status === 'delivered')).toHaveLength(delivered);
        },
      ),
      { numRuns: 25, seed: 42 },
    );
  });
});
