/** The head-end's delivery policy with a fake clock, a fake DCC and a fake PPMID link. */
import { ManualClock } from '@gbhan/clock';
import { describe, expect, it } from 'vitest';
import { type DccReply, HeadEndPolicy, type Home } from '../src/policy.js';
import type { HeadEndTraceEvent } from '../src/trace-events.js';

const MIN = 60_000_000;
const HOME: Home = { id: 'a', chEui64: 'c', meterEui64: 'm', ppmidEui64: 'p', wlan: 'wlan-a' };
const NO_PPMID: Home = { id: 'b', chEui64: 'c', meterEui64: 'm' };

function setup(o: { wanUp: () => boolean; ppmidAnswers?: boolean; maxAttempts?: number; refuse?: string }) {
  const clock = new ManualClock();
  const events: HeadEndTraceEvent[] = [];
  const dccCalls: { at: number; body: { request: Record<string, unknown>; build?: boolean } }[] = [];
  const sent: { at: number; bytes: Uint8Array }[] = [];
  let policy: HeadEndPolicy;
  policy = new HeadEndPolicy(
    {
      clock,
      dcc: async (_home, body) => {
        dccCalls.push({ at: clock.now(), body });
        if (o.refuse) return { ok: false, code: o.refuse, message: 'no such meter' } satisfies DccReply;
        if (body.build) return { ok: true, hex: '0000002a' } satisfies DccReply;
        return o.wanUp() ? { ok: true } : { ok: false, code: 'WAN_DOWN', message: 'the WAN is down' };
      },
      toPpmid: async (home, bytes) => {
        sent.push({ at: clock.now(), bytes });
        // The meter's response comes back through the PPMID a second later.
        if (o.ppmidAnswers) clock.setTimer(1_000_000, () => policy.fromPpmid(home, bytes));
        return { delivered: true };
      },
      trace: (e) => events.push(e),
    },
    { fallbackAfterUs: 10 * MIN, retryEveryUs: 5 * MIN, maxAttempts: o.maxAttempts ?? 12 },
    // The "counter" of the fake message: its last octet.
    (b) => (b.length > 0 ? String(b[b.length - 1]) : null),
  );
  const run = async (untilUs: number) => {
    for (let t = clock.now(); t <= untilUs; t += 500_000) {
      clock.advanceTo(t);
      await new Promise((r) => setImmediate(r));
    }
  };
  const outcomes = () => events.filter((e) => e.type === 'head-end-outcome');
  return { clock, policy: () => policy, events, dccCalls, sent, run, outcomes };
}

describe('HeadEndPolicy', () => {
  it('delivers by the WAN at once when the DCC accepts', async () => {
    const s = setup({ wanUp: () => true });
    s.policy().request(HOME, { request: 'top-up', code: '00000000000001000500' });
    await s.run(1_000_000);
    expect(s.outcomes()).toEqual([
      expect.objectContaining({ status: 'delivered', via: 'wan', attempts: 1, atUs: 0 }),
    ]);
    expect(s.dccCalls[0]!.body.request).toEqual({
      kind: 'top-up',
      target: 'm',
      code: '00000000000001000500',
    });
    expect(s.sent).toEqual([]);
  });

  it('falls back to the PPMID only once the WAN has failed for fallbackAfter, then delivers on its response', async () => {
    const s = setup({ wanUp: () => false, ppmidAnswers: true });
    s.policy().request(HOME, { request: 'supply-enable' });
    await s.run(20 * MIN);
    // Attempts at 0 and 5m by the WAN only; at 10m the WAN has failed for 10m: built and sent.
    expect(s.sent.map((x) => x.at)).toEqual([10 * MIN]);
    expect(s.dccCalls.filter((c) => c.body.build).map((c) => c.at)).toEqual([10 * MIN]);
    expect(s.outcomes()).toEqual([
      expect.objectContaining({ status: 'delivered', via: 'ppmid', attempts: 3, atUs: 10 * MIN + 1_000_000 }),
    ]);
  });

  it('retries every retryEvery with the same built bytes, and fails after maxAttempts', async () => {
    const s = setup({ wanUp: () => false, ppmidAnswers: false, maxAttempts: 4 });
    s.policy().request(HOME, { request: 'emergency-credit' });
    await s.run(60 * MIN);
    expect(s.dccCalls.filter((c) => !c.body.build).map((c) => c.at)).toEqual(
      [0, 5, 10, 15].map((m) => m * MIN),
    );
    // Built once; later attempts carry the same bytes (by the WAN as `gbcs {hex}` too).
    expect(s.dccCalls.filter((c) => c.body.build)).toHaveLength(1);
    expect(s.dccCalls.filter((c) => !c.body.build)[3]!.body.request).toEqual({
      kind: 'gbcs',
      hex: '0000002a',
    });
    expect(s.sent.map((x) => x.at)).toEqual([10 * MIN, 15 * MIN]);
    // It fails when the fifth attempt would have been due (20 min): the fourth's answer could still have come.
    expect(s.outcomes()).toEqual([
      expect.objectContaining({
        status: 'failed',
        via: null,
        attempts: 4,
        atUs: 20 * MIN,
        reason: 'no delivery after 4 attempts',
      }),
    ]);
  });

  it("the last attempt's late answer still counts as delivered", async () => {
    const s = setup({ wanUp: () => false, ppmidAnswers: false, maxAttempts: 3 });
    s.policy().request(HOME, { request: 'emergency-credit' });
    await s.run(10 * MIN + 500_000);
    expect(s.sent.map((x) => x.at)).toEqual([10 * MIN]);
    // The meter's response to the third (last) attempt comes back four minutes later.
    s.clock.setTimer(4 * MIN, () => s.policy().fromPpmid(HOME, s.sent[0]!.bytes));
    await s.run(30 * MIN);
    expect(s.outcomes()).toEqual([
      expect.objectContaining({ status: 'delivered', via: 'ppmid', attempts: 3 }),
    ]);
  });

  it('without an enhanced PPMID it keeps to the WAN and delivers when the WAN is back', async () => {
    let up = false;
    const s = setup({ wanUp: () => up });
    s.policy().request(NO_PPMID, { request: 'top-up', code: '00000000000001000500' });
    await s.run(30 * MIN);
    up = true;
    await s.run(40 * MIN);
    expect(s.sent).toEqual([]);
    expect(s.outcomes()).toEqual([expect.objectContaining({ status: 'delivered', via: 'wan', attempts: 8 })]);
    expect(s.policy().outcomes()[0]).toMatchObject({ status: 'delivered', atUs: 35 * MIN });
  });

  it('a request the DCC refuses outright (not a WAN failure) fails at once', async () => {
    const s = setup({ wanUp: () => true, refuse: 'WAN_UNKNOWN_DEVICE' });
    s.policy().request(HOME, { request: 'supply-disable' });
    await s.run(30 * MIN);
    expect(s.dccCalls).toHaveLength(1);
    expect(s.outcomes()).toEqual([
      expect.objectContaining({ status: 'failed', attempts: 1, reason: 'WAN_UNKNOWN_DEVICE: no such meter' }),
    ]);
  });
});
