/**
 * The optical port's unlock protocol and lock state machine on a ManualClock with the real
 * security log: per-meter, single-use, unforgeable unlock values; relock on timeout, leaving
 * the facility and power cycle; rate-limited failures, every one logged; Reset HAN refused
 * (and logged as tamper) while locked.
 */
import { ManualClock, MINUTE } from '@gbhan/clock';
import { MemoryNvStore, SecurityLog } from '@gbhan/stack';
import { describe, expect, it } from 'vitest';
import {
  generateManufacturerKeyPair,
  ManufacturerTool,
  OpticalPort,
  type OpticalPortOptions,
  type OpticalResponse,
  type ResetHanReport,
} from '../src/index.js';

const SEED = 'optical-1';
/** The run's manufacturer key: random, like a run's. */
const KEY = generateManufacturerKeyPair();
const X = '00124b0000e5e5e5';
const Y = '00124b0000e5e5e6';

function meter(eui64: string, over: Partial<OpticalPortOptions> = {}, nvm = new MemoryNvStore()) {
  const clock = new ManualClock();
  const trace: Record<string, unknown>[] = [];
  const securityLog = new SecurityLog(nvm, clock, (e) => trace.push(e as Record<string, unknown>));
  let resets = 0;
  const report: ResetHanReport = {
    changed: ['stack.network'],
    keptHashBefore: 'h',
    keptHashAfter: 'h',
    removedLinkKeys: [],
    removedDeviceLogEntries: [],
  };
  const port = new OpticalPort({
    eui64,
    clock,
    nvm,
    securityLog,
    trace: (e) => trace.push(e),
    seed: SEED,
    manufacturerPublicKey: KEY.publicKey,
    resetHan: () => {
      resets++;
      return report;
    },
    diagnostics: () => ({ eui64 }),
    ...over,
  });
  return { clock, nvm, securityLog, trace, port, resets: () => resets };
}

const tool = new ManufacturerTool(KEY.secretKey);

function challenge(port: OpticalPort): string {
  const r = port.handle({ command: 'challenge' });
  if (!r.ok) throw new Error(r.code);
  return String(r.challenge);
}

function unlock(port: OpticalPort, eui64: string): OpticalResponse {
  return port.handle({ command: 'unlock', signature: tool.unlockResponse(eui64, challenge(port)) });
}

function code(r: OpticalResponse): string {
  return r.ok ? 'ok' : r.code;
}

describe('optical port unlock', () => {
  it('the manufacturer tool unlocks the meter whose challenge it signed', () => {
    const m = meter(X);
    expect(code(m.port.handle({ command: 'read-diagnostics' }))).toBe('OPTICAL_LOCKED');
    expect(code(unlock(m.port, X))).toBe('ok');
    expect(m.port.unlocked).toBe(true);
    expect(m.port.handle({ command: 'read-diagnostics' })).toMatchObject({ ok: true, eui64: X });
    expect(m.securityLog.entries().map((e) => e.event)).toContain('optical-unlocked');
  });

  it('challenges never repeat, also after a power cycle (counter in NVM)', () => {
    const m = meter(X);
    const a = challenge(m.port);
    // the same meter restarted: a new port (its RAM) on the same store, same seed
    const again = meter(X, {}, m.nvm);
    const b = challenge(again.port);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a value made for meter X does not unlock meter Y', () => {
    const x = meter(X);
    const y = meter(Y);
    // Y's challenge signed as if Y were X (the attacker's tool bound to X's EUI64).
    const cy = challenge(y.port);
    const forX = tool.unlockResponse(X, cy);
    expect(code(y.port.handle({ command: 'unlock', signature: forX }))).toBe('OPTICAL_BAD_SIGNATURE');
    // X's real unlock value, presented to Y.
    const cx = challenge(x.port);
    const valueX = tool.unlockResponse(X, cx);
    challenge(y.port);
    expect(code(y.port.handle({ command: 'unlock', signature: valueX }))).toBe('OPTICAL_BAD_SIGNATURE');
    expect(y.port.unlocked).toBe(false);
    expect(code(x.port.handle({ command: 'unlock', signature: valueX }))).toBe('ok');
  });

  it('a replayed unlock response is refused (a challenge is used once)', () => {
    const m = meter(X);
    const c = challenge(m.port);
    const sig = tool.unlockResponse(X, c);
    expect(code(m.port.handle({ command: 'unlock', signature: sig }))).toBe('ok');
    m.port.handle({ command: 'leave-facility' });
    expect(code(m.port.handle({ command: 'unlock', signature: sig }))).toBe('OPTICAL_NO_CHALLENGE');
    challenge(m.port); // a new challenge does not revive the old response
    expect(code(m.port.handle({ command: 'unlock', signature: sig }))).toBe('OPTICAL_BAD_SIGNATURE');
    expect(m.port.unlocked).toBe(false);
  });

  it('an unlock value cannot be forged: wrong key, edited identifier, garbage', () => {
    const m = meter(X);
    const other = new ManufacturerTool(generateManufacturerKeyPair().secretKey);
    expect(
      code(m.port.handle({ command: 'unlock', signature: other.unlockResponse(X, challenge(m.port)) })),
    ).toBe('OPTICAL_BAD_SIGNATURE');
    const c = challenge(m.port);
    const sig = tool.unlockResponse(X, c);
    // flip one bit of the value (editing "a part of it")
    const edited = (Number.parseInt(sig.slice(0, 2), 16) ^ 1).toString(16).padStart(2, '0') + sig.slice(2);
    expect(code(m.port.handle({ command: 'unlock', signature: edited }))).toBe('OPTICAL_BAD_SIGNATURE');
    challenge(m.port);
    expect(code(m.port.handle({ command: 'unlock', signature: 'zz' }))).toBe('OPTICAL_BAD_SIGNATURE');
    expect(m.port.unlocked).toBe(false);
  });

  it('a meter given no manufacturer key unlocks for no one (and counts the attempt)', () => {
    const m = meter(X, { manufacturerPublicKey: null });
    expect(code(unlock(m.port, X))).toBe('OPTICAL_NO_MANUFACTURER_KEY');
    expect(m.port.unlocked).toBe(false);
    expect(m.securityLog.entries().map((e) => e.event)).toContain('optical-unlock-failed');
  });

  it('an expired challenge is refused', () => {
    const m = meter(X);
    const c = challenge(m.port);
    m.clock.advance(3 * MINUTE);
    expect(code(m.port.handle({ command: 'unlock', signature: tool.unlockResponse(X, c) }))).toBe(
      'OPTICAL_CHALLENGE_EXPIRED',
    );
  });

  it('repeated failures are rate limited, every one logged, across power cycles', () => {
    const m = meter(X);
    const bad = '00'.repeat(64);
    for (let i = 0; i < 3; i++) {
      challenge(m.port);
      expect(code(m.port.handle({ command: 'unlock', signature: bad }))).toBe('OPTICAL_BAD_SIGNATURE');
    }
    m.port.powerCycle();
    // locked out: even the right value is refused, and so is a new challenge; a flood of
    // attempts is counted, not written one entry each (the bounded log keeps older entries)
    expect(code(m.port.handle({ command: 'challenge' }))).toBe('OPTICAL_RATE_LIMITED');
    for (let i = 0; i < 200; i++)
      expect(code(m.port.handle({ command: 'unlock', signature: bad }))).toBe('OPTICAL_RATE_LIMITED');
    const events = m.securityLog.entries().map((e) => e.event);
    expect(events.filter((e) => e === 'optical-unlock-failed')).toHaveLength(3);
    expect(events.filter((e) => e === 'optical-unlock-refused')).toHaveLength(1);
    expect(m.securityLog.pendingAlerts().map((a) => a.code)).toEqual([0x8f3e]);
    m.clock.advance(5 * MINUTE);
    challenge(m.port); // the first attempt after the lockout logs the count of the refused ones
    const refused = m.securityLog.entries().filter((e) => e.event === 'optical-unlock-refused');
    expect(refused.map((e) => e.detail?.count)).toEqual([undefined, 201]);
    // second lockout lasts twice as long
    for (let i = 0; i < 3; i++) {
      challenge(m.port);
      m.port.handle({ command: 'unlock', signature: bad });
    }
    m.clock.advance(5 * MINUTE);
    expect(code(m.port.handle({ command: 'challenge' }))).toBe('OPTICAL_RATE_LIMITED');
    m.clock.advance(5 * MINUTE);
    expect(code(unlock(m.port, X))).toBe('ok');
  });
});

describe('optical port lock state', () => {
  it('Reset HAN is refused while locked, and every attempt is a tamper entry with an alert', () => {
    const m = meter(X);
    expect(code(m.port.handle({ command: 'reset-han' }))).toBe('OPTICAL_LOCKED');
    expect(m.resets()).toBe(0);
    unlock(m.port, X);
    expect(code(m.port.handle({ command: 'reset-han' }))).toBe('ok');
    expect(m.resets()).toBe(1);
    const attempts = m.securityLog.entries().filter((e) => e.event === 'reset-han-attempt');
    expect(attempts.map((e) => e.detail?.locked)).toEqual([true, false]);
    expect(attempts.every((e) => e.alertCode === 0x8f3f)).toBe(true);
    expect(m.securityLog.pendingAlerts().filter((a) => a.code === 0x8f3f)).toHaveLength(2);
  });

  it('relocks on timeout, on leaving the facility and on a power cycle', () => {
    const m = meter(X, { unlockTimeoutUs: 2 * MINUTE });
    unlock(m.port, X);
    m.clock.advance(2 * MINUTE);
    expect(m.port.unlocked).toBe(false);
    expect(code(m.port.handle({ command: 'reset-han' }))).toBe('OPTICAL_LOCKED');
    unlock(m.port, X);
    m.port.handle({ command: 'leave-facility' });
    expect(code(m.port.handle({ command: 'reset-han' }))).toBe('OPTICAL_LOCKED');
    unlock(m.port, X);
    m.port.powerCycle();
    expect(code(m.port.handle({ command: 'reset-han' }))).toBe('OPTICAL_LOCKED');
    expect(m.resets()).toBe(0);
    expect(m.trace.filter((e) => e.type === 'optical-relocked').map((e) => e.reason)).toEqual([
      'timeout',
      'leave-facility',
      'power-cycle',
    ]);
  });

  it('bad requests get typed refusals, never a throw', () => {
    const m = meter(X);
    expect(code(m.port.handle({ command: 'format-flash' }))).toBe('OPTICAL_UNKNOWN_COMMAND');
    expect(code(m.port.handle(null as unknown as { command: string }))).toBe('OPTICAL_UNKNOWN_COMMAND');
    expect(code(m.port.handle({ command: 'unlock' }))).toBe('OPTICAL_NO_CHALLENGE');
  });
});
