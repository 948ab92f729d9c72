/**
 * The compromised PPMID (SECMP0038 attacks): what it does to genuine commands (withhold,
 * delay, reorder, each copy of a retry the same way) and what it injects (replay, tamper,
 * forge, flood, relay), judged by the meter's own GBCS checks (`verifyCommand`).
 */
import { ManualClock } from '@gbhan/clock';
import {
  Dcc,
  decodeGbcsMessage,
  deviceGbcsKeys,
  remoteParties,
  trustAnchorsOf,
  verifyCommand,
} from '@gbhan/gbcs';
import { describe, expect, it } from 'vitest';
import { attackerParties, Compromise, type CompromiseConfig } from '../src/compromise.js';
import type { PpmidEmitted } from '../src/trace-events.js';

const SEED = 'attacks-1';
const ESME = '00124b0000e5e5e5';
const esmeKeys = deviceGbcsKeys(SEED, ESME);
const real = remoteParties(SEED);
const dcc = new Dcc({
  parties: real,
  deviceKeys: () => ({ dsPublic: esmeKeys.ds.publicKey, kaPublic: esmeKeys.ka.publicKey }),
});
let now = 1_767_225_600_000;
function genuine(useCase: 'ECS42' | 'ECS43' | 'ECS09' = 'ECS42'): Uint8Array {
  now += 60_000;
  return dcc.command(ESME, { useCase }, { nowUnixMs: now }).bytes;
}
const counter = (b: Uint8Array) => decodeGbcsMessage(b).signing.originatorCounter;

/** The meter's checks: it trusts the home Supplier, the ACB and the network operator (not supplier2). */
function meterVerdict(bytes: Uint8Array, last?: bigint) {
  const r = verifyCommand(bytes, {
    deviceKaPrivate: esmeKeys.ka.privateKey,
    deviceSystemTitle: esmeKeys.systemTitle,
    trustAnchors: trustAnchorsOf([real.supplier, real.acb, real['network-operator']]),
    lastAcceptedCounter: () => last,
  });
  return r.ok ? 'ok' : r.reason;
}

function compromised(config: CompromiseConfig = {}) {
  const clock = new ManualClock();
  const passed: Uint8Array[] = [];
  const posted: { link: string; to: string; bytes: Uint8Array }[] = [];
  const traces: PpmidEmitted[] = [];
  const c = new Compromise({
    clock,
    trace: (e) => traces.push(e),
    seed: SEED,
    meterEui64: ESME,
    config,
    pass: (b) => passed.push(b),
    post: (link, to, bytes) => posted.push({ link, to, bytes }),
  });
  const attacks = () =>
    traces.flatMap((e) =>
      e.type === 'ppmid-attack' ? [`${e.attack}:${e.command ?? '-'}${e.copy ? '+' : ''}`] : [],
    );
  return { c, clock, passed, posted, traces, attacks };
}

describe('Compromise: genuine commands', () => {
  it('passes commands it has no orders for, unchanged', () => {
    const t = compromised();
    const a = genuine();
    expect(t.c.intercept(a)).toBe('pass');
    expect(t.passed).toEqual([a]);
    expect(t.c.captured).toBe(a);
    expect(t.attacks()).toEqual([]);
  });

  it('withholds a command and every retry of it (same counter), silently', () => {
    const t = compromised({ withhold: [2] });
    const [a, b, c] = [genuine(), genuine(), genuine()];
    t.c.intercept(a);
    expect(t.c.intercept(b)).toBe('withhold');
    expect(t.c.intercept(b)).toBe('withhold');
    t.c.intercept(c);
    expect(t.passed).toEqual([a, c]);
    expect(t.attacks()).toEqual(['withhold:2', 'withhold:2+']);
  });

  it('delays a command by the configured time, dropping its retries meanwhile', () => {
    const t = compromised({ delay: { commands: [1], byUs: 12 * 60e6 } });
    const a = genuine();
    expect(t.c.intercept(a)).toBe('delay');
    t.clock.advance(5 * 60e6);
    expect(t.c.intercept(a)).toBe('delay');
    expect(t.passed).toEqual([]);
    t.clock.advance(7 * 60e6);
    expect(t.passed).toEqual([a]);
    expect(t.attacks()).toEqual(['delay:1', 'delay:1+', 'release:1']);
    // A retry after the release goes through (the meter refuses it as stale).
    expect(t.c.intercept(a)).toBe('pass');
    expect(meterVerdict(a, counter(a))).toBe('stale-counter');
  });

  it('reorders: holds a command until the next one, which goes first; the meter then refuses the older one as stale', () => {
    const t = compromised({ reorder: [1] });
    const [older, newer] = [genuine('ECS09'), genuine('ECS42')];
    expect(t.c.intercept(older)).toBe('reorder');
    expect(t.c.intercept(older)).toBe('reorder');
    expect(t.passed).toEqual([]);
    expect(t.c.intercept(newer)).toBe('pass');
    expect(t.passed).toEqual([newer, older]);
    expect(t.attacks()).toEqual(['reorder:1', 'reorder:1+', 'release:1']);
    expect(meterVerdict(newer)).toBe('ok');
    expect(meterVerdict(older, counter(newer))).toBe('stale-counter');
  });
});

describe('Compromise: injections', () => {
  it('does nothing (traced) before it has captured a command', () => {
    const t = compromised();
    t.c.replay();
    t.c.tamper();
    t.c.flood(3, 1000);
    t.c.relay('wlan-n', '00124b0000bbbbbb');
    expect(t.passed).toEqual([]);
    expect(t.posted).toEqual([]);
    expect(t.traces.every((e) => e.type === 'ppmid-attack' && e.reason === 'nothing-captured')).toBe(true);
    expect(t.traces).toHaveLength(4);
  });

  it('replays the captured command byte for byte: stale at the meter', () => {
    const t = compromised();
    const a = genuine();
    t.c.intercept(a);
    t.c.replay();
    expect(t.passed).toEqual([a, a]);
    expect(meterVerdict(a)).toBe('ok');
    expect(meterVerdict(t.passed[1]!, counter(a))).toBe('stale-counter');
  });

  it('tampers: one bit flipped (the middle by default), refused by the MAC', () => {
    const t = compromised();
    const a = genuine();
    t.c.intercept(a);
    t.c.tamper();
    const x = t.passed[1]!;
    const diff = [...x].reduce((n, v, i) => n + (v === a[i] ? 0 : 1), 0);
    expect(diff).toBe(1);
    expect(x[a.length >> 1]).not.toBe(a[a.length >> 1]);
    expect(meterVerdict(x)).toBe('bad-mac');
  });

  it('forges with the keys it holds (supplier2): an untrusted originator, or the home Supplier name that fails the MAC', () => {
    const t = compromised();
    const a = genuine();
    t.c.intercept(a);
    t.c.forge('supplier2');
    t.c.forge('supplier', 'ECS09');
    const [, asSupplier2, asSupplier] = t.passed;
    expect(counter(asSupplier2!)).toBe(counter(a) + 1n);
    expect(meterVerdict(asSupplier2!, counter(a))).toBe('unknown-originator');
    expect(meterVerdict(asSupplier!, counter(a))).toBe('bad-mac');
    expect(t.attacks()).toEqual(['forge:-', 'forge:-']);
  });

  it("holds only supplier2's private keys: every other party's are replaced by supplier2's", () => {
    const p = attackerParties(SEED);
    expect(p.supplier2.ds.privateKey).toEqual(real.supplier2.ds.privateKey);
    for (const role of ['supplier', 'acb', 'network-operator'] as const) {
      expect(p[role].systemTitle).toEqual(real[role].systemTitle);
      expect(p[role].ds.privateKey).not.toEqual(real[role].ds.privateKey);
      expect(p[role].ka.privateKey).not.toEqual(real[role].ka.privateKey);
    }
  });

  it('floods: count copies, interval apart', () => {
    const t = compromised();
    const a = genuine();
    t.c.intercept(a);
    t.c.flood(3, 2_000_000);
    expect(t.passed).toHaveLength(2);
    t.clock.advance(2_000_000);
    expect(t.passed).toHaveLength(3);
    t.clock.advance(10_000_000);
    expect(t.passed).toEqual([a, a, a, a]);
    expect(t.traces.filter((e) => e.type === 'ppmid-attack').map((e) => (e as { n?: number }).n)).toEqual([
      1, 2, 3,
    ]);
  });

  it('relays the captured command to another PPMID over a link', () => {
    const t = compromised();
    const a = genuine();
    t.c.intercept(a);
    t.c.relay('wlan-n', '00124b0000bbbbbb');
    expect(t.posted).toEqual([{ link: 'wlan-n', to: '00124b0000bbbbbb', bytes: a }]);
    expect(t.passed).toEqual([a]);
  });
});
