/**
 * The meter's own GBCS checks (`GbcsEndpoint`) on a recording host with a real in-memory NVM:
 * a genuine command runs once, its originator counter already in NVM when it runs; a replay,
 * every forgery the DCC can make, a supplier the meter was not installed for and a command to
 * another device are each refused - traced, Security-Logged with the GB alert code, never run;
 * the trust anchors are the ones written at manufacture, whatever a later config says; and no
 * bytes at all (truncated, one bit flipped, random) make `receive` throw or run anything.
 */
import {
  Dcc,
  type DccRequest,
  deviceGbcsKeys,
  flipBit,
  type RefusalReason,
  remoteParties,
  toHex,
  useCase,
  type VerifiedCommand,
} from '@gbhan/gbcs';
import type { DeviceTraceEvent } from '@gbhan/stack';
import { HostDouble } from '@gbhan/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GBCS_REFUSAL_ALERT,
  GbcsEndpoint,
  type GbcsOutcome,
  runGbcsDeviceConfig,
} from '../src/gbcs-endpoint.js';

const SEED = 'gbcs-endpoint-1';
const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const OTHER = '00124b0000e5e5e6';
const NV_COUNTERS = 'gbcs.originatorCounters';
const NV_ANCHORS = 'gbcs.trustAnchors';
/** 2026-01-01T00:00:00Z in Unix ms: the DCC's counters start here. */
const T0 = 1_767_225_600_000;

const parties = remoteParties(SEED);
const SUPPLIER = toHex(parties.supplier.systemTitle);
const SUPPLIER2 = toHex(parties.supplier2.systemTitle);

function newDcc(): Dcc {
  return new Dcc({
    parties,
    deviceKeys: (eui64) => {
      const k = deviceGbcsKeys(SEED, eui64);
      return { dsPublic: k.ds.publicKey, kaPublic: k.ka.publicKey };
    },
  });
}

type Run = { useCase: string; counter: bigint; countersInNvm: Record<string, string> | undefined };
type LogEntry = {
  event: string;
  detail: Record<string, string | number | boolean> | undefined;
  alert?: number;
};

/** An ESME's endpoint on a recording host: every execution and Security Log record kept. */
function meter(o: { host?: HostDouble; supplier?: 'supplier' | 'supplier2' } = {}) {
  const host = o.host ?? new HostDouble(ESME);
  const runs: Run[] = [];
  const log: LogEntry[] = [];
  const execute = (cmd: VerifiedCommand): GbcsOutcome => {
    // What a power cut at this instant would leave in NVM.
    runs.push({
      useCase: cmd.useCase.name,
      counter: cmd.counter,
      countersInNvm: host.nvm.read<Record<string, string>>(NV_COUNTERS),
    });
    return { payload: Uint8Array.of(0xc4, 0x01, 0x00, 0x00), result: 'done' };
  };
  const endpoint = new GbcsEndpoint(
    host,
    runGbcsDeviceConfig(SEED, ESME, o.supplier),
    {
      record: (event, detail, alert) =>
        log.push({ event, detail, ...(alert === undefined ? {} : { alert }) }),
    },
    execute,
  );
  const refusals = () =>
    host.tracesOf('gbcs-command-refused') as (DeviceTraceEvent & { reason: string; alertCode: number })[];
  return { host, endpoint, runs, log, refusals };
}

const TOP_UP: DccRequest = { useCase: 'CS01a', utrn: '00000000000001000500' };
const DISABLE: DccRequest = { useCase: 'ECS43' };
const SET_CLOCK: DccRequest = { useCase: 'ECS70', epochSeconds: 1_767_226_000 };

describe('GbcsEndpoint: a genuine command', () => {
  it('runs once, with its counter already in NVM when it runs; the same bytes again are stale', () => {
    const m = meter();
    const dcc = newDcc();
    const cmd = dcc.command(ESME, TOP_UP, { nowUnixMs: T0 });
    expect(m.endpoint.receive(CH, cmd.bytes, 'tunnel')).not.toBeNull();
    expect(m.runs).toEqual([
      { useCase: 'CS01a', counter: cmd.counter, countersInNvm: { [SUPPLIER]: cmd.counter.toString() } },
    ]);
    expect(m.endpoint.counters()).toEqual({ [SUPPLIER]: cmd.counter.toString() });
    expect(m.host.tracesOf('gbcs-command-executed')).toEqual([
      {
        type: 'gbcs-command-executed',
        from: CH,
        via: 'tunnel',
        useCase: 'CS01a',
        originator: SUPPLIER,
        counter: cmd.counter.toString(),
        result: 'done',
      },
    ]);

    // The replay: refused, not run, and the stored counter is unchanged.
    expect(m.endpoint.receive(CH, cmd.bytes, 'tunnel')).toBeNull();
    expect(m.runs).toHaveLength(1);
    expect(m.refusals().map((r) => r.reason)).toEqual(['stale-counter']);
    expect(m.endpoint.counters()).toEqual({ [SUPPLIER]: cmd.counter.toString() });
  });

  it('a replay after a power cycle (a new endpoint on the same NVM) is still stale', () => {
    const m = meter();
    const dcc = newDcc();
    const cmd = dcc.command(ESME, DISABLE, { nowUnixMs: T0 });
    expect(m.endpoint.receive(CH, cmd.bytes, 'tunnel')).not.toBeNull();
    const rebooted = meter({ host: m.host });
    expect(rebooted.endpoint.receive(CH, cmd.bytes, 'tunnel')).toBeNull();
    expect(rebooted.runs).toEqual([]);
    expect(rebooted.refusals().map((r) => r.reason)).toEqual(['stale-counter']);
  });

  it('later commands with higher counters run, each persisted before it runs', () => {
    const m = meter();
    const dcc = newDcc();
    const sent = [
      TOP_UP,
      SET_CLOCK,
      { useCase: 'ECS19' } as const,
      DISABLE,
      { useCase: 'ECS42' } as const,
    ].map((req, i) => dcc.command(ESME, req, { nowUnixMs: T0 + i * 20_000 }));
    for (const c of sent) expect(m.endpoint.receive(CH, c.bytes, 'tunnel')).not.toBeNull();
    expect(m.runs.map((r) => [r.useCase, r.counter])).toEqual(sent.map((c) => [c.useCase, c.counter]));
    for (const r of m.runs) expect(r.countersInNvm).toEqual({ [SUPPLIER]: r.counter.toString() });
    expect(m.refusals()).toEqual([]);
    expect(m.log).toEqual([]);
  });

  it.each([
    ['CS01a', 'mac', TOP_UP],
    ['ECS19', 'mac', { useCase: 'ECS19' } as DccRequest],
    ['ECS70', 'signature', SET_CLOCK],
    ['ECS43', 'signature', DISABLE],
  ] as const)('%s: the response verifies with the DCC (%s)', (name, by, req) => {
    const m = meter();
    const dcc = newDcc();
    const cmd = dcc.command(ESME, req, { nowUnixMs: T0 });
    const response = m.endpoint.receive(CH, cmd.bytes, 'tunnel');
    expect(response).not.toBeNull();
    const v = dcc.verifyFromDevice(response!, ESME);
    expect(v.ok, JSON.stringify(v)).toBe(true);
    if (!v.ok) return;
    expect(v.authenticatedBy).toBe(by);
    const g = v.message.signing;
    expect(g.cra).toBe('response');
    expect(g.originatorCounter).toBe(cmd.counter);
    expect(toHex(g.originator)).toBe(ESME);
    expect(toHex(g.recipient)).toBe(SUPPLIER);
    expect(toHex(g.content)).toBe('c4010000');
    expect(g.messageCode).toBe(useCase(name).code);
    // Signed from another device's keys, the same response does not verify.
    expect(dcc.verifyFromDevice(response!, OTHER).ok).toBe(false);
  });
});

describe('GbcsEndpoint: refusals', () => {
  /** Each wrong command, after one genuine command (so a counter is stored). */
  const cases: [string, RefusalReason, (dcc: Dcc) => Uint8Array][] = [
    [
      'ECS43 signed by supplier2 under the Supplier',
      'bad-signature',
      (d) => d.command(ESME, DISABLE, { nowUnixMs: T0 + 60_000, forge: { signAs: 'supplier2' } }).bytes,
    ],
    [
      'ECS70 signed by the ACB under the Supplier',
      'bad-signature',
      (d) => d.command(ESME, SET_CLOCK, { nowUnixMs: T0 + 60_000, forge: { signAs: 'acb' } }).bytes,
    ],
    [
      "CS01a MAC'd with the Supplier's KA key",
      'bad-mac',
      (d) => d.command(ESME, TOP_UP, { nowUnixMs: T0 + 60_000, forge: { macAs: 'supplier' } }).bytes,
    ],
    [
      "ECS43 MAC'd with supplier2's KA key",
      'bad-mac',
      (d) => d.command(ESME, DISABLE, { nowUnixMs: T0 + 60_000, forge: { macAs: 'supplier2' } }).bytes,
    ],
    [
      'CS01a with a lower counter',
      'stale-counter',
      (d) => d.command(ESME, TOP_UP, { nowUnixMs: T0 + 60_000, forge: { counter: 1n } }).bytes,
    ],
    [
      'ECS43 with the counter just accepted',
      'stale-counter',
      (d) => d.command(ESME, DISABLE, { nowUnixMs: T0 + 60_000, forge: { counter: BigInt(T0) } }).bytes,
    ],
    [
      'ECS43 from supplier2, whom the meter does not trust',
      'unknown-originator',
      (d) => d.command(ESME, DISABLE, { nowUnixMs: T0 + 60_000, as: 'supplier2' }).bytes,
    ],
    [
      'CS01a to another device',
      'wrong-recipient',
      (d) => d.command(OTHER, TOP_UP, { nowUnixMs: T0 + 60_000 }).bytes,
    ],
    [
      'CS01a, one bit of the MAC flipped',
      'bad-mac',
      (d) => flipLast(d.command(ESME, TOP_UP, { nowUnixMs: T0 + 60_000 })),
    ],
  ];

  it.each(cases)('%s: %s, logged and alerted, not run', (_name, reason, forge) => {
    const m = meter();
    const dcc = newDcc();
    const first = dcc.command(ESME, TOP_UP, { nowUnixMs: T0 });
    expect(m.endpoint.receive(CH, first.bytes, 'tunnel')).not.toBeNull();
    expect(m.runs).toHaveLength(1);
    const stored = m.endpoint.counters();

    expect(m.endpoint.receive(CH, forge(dcc), 'tunnel')).toBeNull();
    expect(m.runs).toHaveLength(1);
    expect(m.endpoint.counters()).toEqual(stored);
    expect(m.host.tracesOf('gbcs-command-executed')).toHaveLength(1);
    const refusals = m.refusals();
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({
      type: 'gbcs-command-refused',
      from: CH,
      via: 'tunnel',
      reason,
      alertCode: GBCS_REFUSAL_ALERT[reason],
    });
    expect(m.log).toEqual([
      { event: 'gbcs-command-refused', detail: { from: CH, reason }, alert: GBCS_REFUSAL_ALERT[reason] },
    ]);
  });

  it('the alert codes are the GB ones for each reason', () => {
    expect(GBCS_REFUSAL_ALERT['bad-mac']).toBe(0x8f1e);
    expect(GBCS_REFUSAL_ALERT['wrong-recipient']).toBe(0x8f1e);
    expect(GBCS_REFUSAL_ALERT.malformed).toBe(0x8f1e);
    expect(GBCS_REFUSAL_ALERT['unknown-originator']).toBe(0x8f30);
    expect(GBCS_REFUSAL_ALERT['bad-signature']).toBe(0x8f3d);
    expect(GBCS_REFUSAL_ALERT['unsigned-critical']).toBe(0x8f3d);
    expect(GBCS_REFUSAL_ALERT['stale-counter']).toBe(0x8f53);
  });

  it('counter 1 runs as the first command; the same counter again is stale', () => {
    // A counter of 1 is fine as the first command; the same counter again is not.
    const m = meter();
    const dcc = newDcc();
    const one = dcc.command(ESME, TOP_UP, { nowUnixMs: T0, forge: { counter: 1n } });
    expect(m.endpoint.receive(CH, one.bytes, 'tunnel')).not.toBeNull();
    const again = dcc.command(ESME, { useCase: 'ECS19' }, { nowUnixMs: T0, forge: { counter: 1n } });
    expect(m.endpoint.receive(CH, again.bytes, 'tunnel')).toBeNull();
    expect(m.runs.map((r) => r.counter)).toEqual([1n]);
    expect(m.refusals().map((r) => r.reason)).toEqual(['stale-counter']);
  });

  it.each([
    ['CS01a', TOP_UP],
    ['ECS43', DISABLE],
  ] as const)('%s: every single bit flipped anywhere is refused and nothing runs', (_name, req) => {
    const m = meter();
    const dcc = newDcc();
    const cmd = dcc.command(ESME, req, { nowUnixMs: T0 });
    // The DCC's own forgery, at a few places (header, counter, content, MAC)...
    for (const bit of [0, 20, 100, 400, cmd.bytes.length * 8 - 1]) {
      const forged = dcc.command(ESME, req, { nowUnixMs: T0, forge: { counter: cmd.counter, flipBit: bit } });
      expect(m.endpoint.receive(CH, forged.bytes, 'tunnel'), `forged bit ${bit}`).toBeNull();
    }
    // ...and every bit of the message.
    for (let bit = 0; bit < cmd.bytes.length * 8; bit++)
      expect(m.endpoint.receive(CH, flipBit(cmd.bytes, bit), 'tunnel'), `bit ${bit}`).toBeNull();
    expect(m.runs).toEqual([]);
    const n = cmd.bytes.length * 8 + 5;
    expect(m.refusals()).toHaveLength(n);
    expect(m.log).toHaveLength(n);
    for (const [i, r] of m.refusals().entries())
      expect(m.log[i]!.alert, `bit ${i}`).toBe(GBCS_REFUSAL_ALERT[r.reason as RefusalReason]);
    // The untouched command still runs afterwards: the flips left no state behind.
    expect(m.endpoint.receive(CH, cmd.bytes, 'tunnel')).not.toBeNull();
    expect(m.runs).toHaveLength(1);
  });
});

describe('GbcsEndpoint: trust anchors installed at manufacture', () => {
  it('are written to NVM at first construction and read back, whatever a later config says', () => {
    const host = new HostDouble(ESME);
    const first = meter({ host });
    const stored = host.nvm.read(NV_ANCHORS);
    expect(Object.keys(stored as object).sort()).toEqual(
      [SUPPLIER, toHex(parties.acb.systemTitle), toHex(parties['network-operator'].systemTitle)].sort(),
    );
    const dcc = newDcc();
    expect(
      first.endpoint.receive(CH, dcc.command(ESME, TOP_UP, { nowUnixMs: T0 }).bytes, 'tunnel'),
    ).not.toBeNull();

    // Rebuilt on the same NVM with supplier2 in its config: the manufacture anchors still rule.
    const second = meter({ host, supplier: 'supplier2' });
    expect(host.nvm.read(NV_ANCHORS)).toEqual(stored);
    const fromSupplier2 = dcc.command(ESME, DISABLE, { nowUnixMs: T0 + 20_000, as: 'supplier2' });
    expect(second.endpoint.receive(CH, fromSupplier2.bytes, 'tunnel')).toBeNull();
    expect(second.refusals().at(-1)).toMatchObject({ reason: 'unknown-originator' });
    const fromSupplier = dcc.command(ESME, DISABLE, { nowUnixMs: T0 + 40_000 });
    expect(second.endpoint.receive(CH, fromSupplier.bytes, 'tunnel')).not.toBeNull();
    expect(second.runs.map((r) => r.useCase)).toEqual(['ECS43']);
  });

  it('a meter made for supplier2 trusts supplier2 and not the Supplier', () => {
    const m = meter({ supplier: 'supplier2' });
    const dcc = newDcc();
    expect(m.endpoint.receive(CH, dcc.command(ESME, DISABLE, { nowUnixMs: T0 }).bytes, 'tunnel')).toBeNull();
    expect(m.refusals().map((r) => r.reason)).toEqual(['unknown-originator']);
    const ok = dcc.command(ESME, DISABLE, { nowUnixMs: T0, as: 'supplier2' });
    expect(m.endpoint.receive(CH, ok.bytes, 'tunnel')).not.toBeNull();
    expect(m.endpoint.counters()).toEqual({ [SUPPLIER2]: ok.counter.toString() });
  });
});

describe('GbcsEndpoint: any bytes at all', () => {
  it('never throws, never runs anything, and always traces and logs a refusal', () => {
    const dcc = newDcc();
    const genuine = [
      dcc.command(ESME, TOP_UP, { nowUnixMs: T0 }).bytes,
      dcc.command(ESME, DISABLE, { nowUnixMs: T0 }).bytes,
      dcc.command(ESME, SET_CLOCK, { nowUnixMs: T0 }).bytes,
    ];
    const pick = fc.constantFrom(...genuine);
    const input = fc.oneof(
      // truncated (never the whole message)
      pick.chain((b) => fc.integer({ min: 0, max: b.length - 1 }).map((n) => b.slice(0, n))),
      // one to three bits flipped
      pick.chain((b) =>
        fc
          .uniqueArray(fc.integer({ min: 0, max: b.length * 8 - 1 }), { minLength: 1, maxLength: 3 })
          .map((bits) => {
            const out = Uint8Array.from(b);
            for (const bit of bits) out[bit >> 3]! ^= 0x80 >> (bit & 7);
            return out;
          }),
      ),
      // random bytes, with and without a plausible GBCS tag in front
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.of(0xdd, ...b)),
      fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.of(0xdf, ...b)),
      // a genuine command with bytes appended
      pick.chain((b) => fc.uint8Array({ minLength: 1, maxLength: 8 }).map((t) => Uint8Array.of(...b, ...t))),
    );
    // A meter that already accepted the genuine commands' counter, so their replays are stale too.
    const m = meter();
    expect(m.endpoint.receive(CH, genuine[0]!, 'tunnel')).not.toBeNull();
    const before = m.endpoint.counters();
    fc.assert(
      fc.property(input, (bytes) => {
        const runs = m.runs.length;
        const refusals = m.refusals().length;
        const logged = m.log.length;
        let out: Uint8Array | null = new Uint8Array(0);
        expect(() => {
          out = m.endpoint.receive(CH, bytes, 'tunnel');
        }).not.toThrow();
        expect(out).toBeNull();
        expect(m.runs.length).toBe(runs);
        expect(m.refusals().length).toBe(refusals + 1);
        const r = m.refusals().at(-1)!;
        expect(m.log.length).toBe(logged + 1);
        expect(m.log.at(-1)!.alert).toBe(GBCS_REFUSAL_ALERT[r.reason as RefusalReason]);
      }),
      { numRuns: 200, seed: 20260101 },
    );
    expect(m.runs).toHaveLength(1);
    expect(m.endpoint.counters()).toEqual(before);
  });
});

function flipLast(c: { bytes: Uint8Array }): Uint8Array {
  const out = Uint8Array.from(c.bytes);
  out[out.length - 1]! ^= 0x01;
  return out;
}
