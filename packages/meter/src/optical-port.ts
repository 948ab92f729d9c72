/**
 * The meter's optical port: a local, physically restricted interface (SSC device-triage
 * paper, protocol-notes §9) with a challenge-response unlock, a lock state machine and the
 * commands a supplier's facility may use: Reset HAN, diagnostics, leave facility.
 *
 * Nothing here is reachable from the radio: the object is driven only by `handle()`, which
 * the device wires to the local control path (scenario action / `gbhan optical`), never to
 * a ZCL, APS or Inter-PAN handler.
 *
 * Access control (the paper's "authentication value"): the meter issues a fresh 16-octet
 * challenge; the manufacturer's tool returns an ECDSA P-256 signature over
 * `EUI64 || challenge || "unlock"`; the meter verifies it with the manufacturer public key.
 * The value differs per meter (EUI64 signed), per attempt (a challenge is used once, whatever
 * the outcome, and expires), and cannot be made by editing a printed identifier (only the
 * private key signs). Failures are counted in NVM (a power cycle does not reset them) and
 * lock the port out for a growing time; every failure is written to the security log.
 */
import { createHash } from 'node:crypto';
import type { Clock, Timer } from '@gbhan/clock';
import { GbAlertCode, type NvStore, type NvValue, type SecurityLog } from '@gbhan/stack';
import { fromHex, toHex } from '@gbhan/zigbee';
import { p256 } from '@noble/curves/nist.js';
import { unlockMessage } from './manufacturer.js';
import type { MeterTraceEvent } from './trace-events.js';

export type OpticalErrorCode =
  | 'OPTICAL_UNKNOWN_COMMAND'
  | 'OPTICAL_LOCKED'
  | 'OPTICAL_NO_CHALLENGE'
  | 'OPTICAL_CHALLENGE_EXPIRED'
  | 'OPTICAL_BAD_SIGNATURE'
  | 'OPTICAL_NO_MANUFACTURER_KEY'
  | 'OPTICAL_RATE_LIMITED'
  | 'OPTICAL_RESET_FAILED'
  | 'OPTICAL_NVM'
  | 'OPTICAL_POWERED_OFF';

export class OpticalError extends Error {
  constructor(
    readonly code: OpticalErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OpticalError';
  }
}

export const OPTICAL_COMMANDS = [
  'status',
  'challenge',
  'unlock',
  'reset-han',
  'read-diagnostics',
  'leave-facility',
] as const;
export type OpticalCommand = (typeof OPTICAL_COMMANDS)[number];

export interface OpticalRequest {
  command: string;
  /** unlock: the signature (hex, 64 octets compact). */
  signature?: string;
}

export type OpticalResponse =
  | ({ ok: true; command: OpticalCommand } & Record<string, NvValue>)
  | { ok: false; command: string; code: OpticalErrorCode; message: string };

/** What Reset HAN changed in NVM (the state diff of the one atomic commit). */
export interface ResetHanReport {
  /** NVM keys whose value changed or that were removed, sorted. */
  changed: string[];
  /** SHA-256 of every other key before and after: equal by construction, checked anyway. */
  keptHashBefore: string;
  keptHashAfter: string;
  removedLinkKeys: string[];
  removedDeviceLogEntries: string[];
}

export interface OpticalPortOptions {
  eui64: string;
  clock: Clock;
  nvm: NvStore;
  securityLog: SecurityLog;
  trace: (e: MeterTraceEvent) => void;
  /** The run seed: challenges come from it (see `nextChallenge`). */
  seed: string | number;
  /**
   * Manufacturer public key (SEC1, compressed or not); null: none was configured, so no
   * unlock can succeed (`OPTICAL_NO_MANUFACTURER_KEY`, counted as a failed unlock).
   */
  manufacturerPublicKey: Uint8Array | null;
  /** ASSUMPTION: relock 10 min after unlock (configurable). */
  unlockTimeoutUs?: number;
  /** ASSUMPTION: a challenge is valid 2 min. */
  challengeLifetimeUs?: number;
  /** ASSUMPTION: 3 consecutive failures lock the port out for 5 min, doubling per lockout up to 24 h. */
  maxFailures?: number;
  lockoutUs?: number;
  /** Performs Reset HAN (atomic); throws when the store could not be written. */
  resetHan: () => ResetHanReport;
  diagnostics: () => Record<string, NvValue>;
}

const NV_OPTICAL = 'meter.optical';
const MAX_LOCKOUT_US = 24 * 3600 * 1_000_000;

interface OpticalNv {
  /** Challenges issued so far (never reused, also across power cycles). */
  issued: number;
  /** Consecutive failed unlocks. */
  failures: number;
  lockouts: number;
  lockedOutUntil: number;
  /** Attempts refused during the current lockout (only the first gets its own log entry). */
  refused?: number;
}

export class OpticalPort {
  private unlockedUntil: number | null = null;
  private relockTimer: Timer | undefined;
  private challenge: { value: Uint8Array; expires: number } | null = null;

  constructor(private readonly o: OpticalPortOptions) {}

  get unlocked(): boolean {
    return this.unlockedUntil !== null;
  }

  /** Power cycle (off or on): the unlock and the pending challenge are RAM and are lost. */
  powerCycle(): void {
    if (this.unlocked) this.relock('power-cycle');
    this.challenge = null;
  }

  /** A request from the optical port. Never throws: refusals are typed responses. */
  handle(req: OpticalRequest): OpticalResponse {
    const command = typeof req?.command === 'string' ? req.command : '';
    try {
      const r = this.dispatch(command, req);
      this.o.trace({ type: 'optical', command, ok: true });
      return r;
    } catch (e) {
      const err =
        e instanceof OpticalError
          ? e
          : new OpticalError('OPTICAL_NVM', `store failure: ${(e as Error).message}`);
      this.o.trace({ type: 'optical', command, ok: false, code: err.code });
      return { ok: false, command, code: err.code, message: err.message };
    }
  }

  private dispatch(command: string, req: OpticalRequest): OpticalResponse {
    switch (command) {
      case 'status':
        return { ok: true, command, locked: !this.unlocked, eui64: this.o.eui64 };
      case 'challenge':
        return { ok: true, command, eui64: this.o.eui64, challenge: toHex(this.issueChallenge()) };
      case 'unlock':
        this.unlock(req.signature);
        return { ok: true, command, unlockedUntil: this.unlockedUntil ?? 0 };
      case 'reset-han':
        return { ok: true, command, ...(this.resetHan() as unknown as Record<string, NvValue>) };
      case 'read-diagnostics':
        this.requireUnlocked(command);
        return { ok: true, command, ...this.o.diagnostics() };
      case 'leave-facility':
        if (this.unlocked) this.relock('leave-facility');
        return { ok: true, command, locked: true };
      default:
        throw new OpticalError('OPTICAL_UNKNOWN_COMMAND', `unknown optical command '${command}'`);
    }
  }

  private state(): OpticalNv {
    return (
      this.o.nvm.read<OpticalNv & Record<string, NvValue>>(NV_OPTICAL) ?? {
        issued: 0,
        failures: 0,
        lockouts: 0,
        lockedOutUntil: 0,
      }
    );
  }

  private save(s: OpticalNv): void {
    this.o.nvm.commit({ [NV_OPTICAL]: s as unknown as NvValue });
  }

  /**
   * Refuse while locked out. Every refused attempt is counted in NVM; the first of a lockout
   * gets its own security-log entry and the count of the others is logged with the next
   * attempt after the lockout, so a flood of attempts cannot push older entries (the tamper
   * entries) out of the bounded log.
   */
  private checkLockout(): void {
    const s = this.state();
    if (this.o.clock.now() < s.lockedOutUntil) {
      s.refused = (s.refused ?? 0) + 1;
      this.save(s);
      if (s.refused === 1)
        this.o.securityLog.record('optical-unlock-refused', { code: 'OPTICAL_RATE_LIMITED' });
      throw new OpticalError(
        'OPTICAL_RATE_LIMITED',
        `too many failed unlocks: locked out until t=${s.lockedOutUntil}us`,
      );
    }
    if (s.refused) {
      this.o.securityLog.record('optical-unlock-refused', { code: 'OPTICAL_RATE_LIMITED', count: s.refused });
      this.save({ ...s, refused: 0 });
    }
  }

  /**
   * A fresh challenge: SHA-256(`<seed>/optical/<eui64>/<n>`) truncated to 16 octets, with the
   * counter n committed to NVM before the challenge leaves the meter, so no challenge repeats
   * even across power cycles. ASSUMPTION: a seeded generator keeps runs repeatable; a real
   * meter draws the challenge from its TRNG.
   */
  private issueChallenge(): Uint8Array {
    this.checkLockout();
    const s = this.state();
    s.issued += 1;
    this.save(s);
    const value = Uint8Array.from(
      createHash('sha256')
        .update(`${this.o.seed}/optical/${this.o.eui64}/${s.issued}`)
        .digest()
        .subarray(0, 16),
    );
    this.challenge = { value, expires: this.o.clock.now() + (this.o.challengeLifetimeUs ?? 120_000_000) };
    return value;
  }

  private unlock(signature: unknown): void {
    this.checkLockout();
    const pending = this.challenge;
    this.challenge = null; // one use, whatever the outcome
    let code: OpticalErrorCode | null = null;
    if (!pending) code = 'OPTICAL_NO_CHALLENGE';
    else if (this.o.clock.now() > pending.expires) code = 'OPTICAL_CHALLENGE_EXPIRED';
    else if (this.o.manufacturerPublicKey === null) code = 'OPTICAL_NO_MANUFACTURER_KEY';
    else if (typeof signature !== 'string' || !/^[0-9a-fA-F]{128}$/.test(signature))
      code = 'OPTICAL_BAD_SIGNATURE';
    else if (!this.verify(fromHex(signature), pending.value)) code = 'OPTICAL_BAD_SIGNATURE';
    const s = this.state();
    if (code !== null) {
      s.failures += 1;
      let lockout = false;
      if (s.failures >= (this.o.maxFailures ?? 3)) {
        lockout = true;
        const base = this.o.lockoutUs ?? 300_000_000;
        s.lockedOutUntil = this.o.clock.now() + Math.min(MAX_LOCKOUT_US, base * 2 ** s.lockouts);
        s.lockouts += 1;
        s.failures = 0;
      }
      this.save(s);
      this.o.securityLog.record('optical-unlock-failed', {
        code,
        ...(lockout ? { lockedOutUntil: s.lockedOutUntil } : {}),
      });
      if (lockout)
        this.o.securityLog.record(
          'optical-lockout',
          { until: s.lockedOutUntil },
          GbAlertCode.unauthorisedCommunicationAccess,
        );
      throw new OpticalError(code, `unlock refused (${code})`);
    }
    if (s.failures !== 0 || s.lockouts !== 0) this.save({ ...s, failures: 0, lockouts: 0 });
    const timeout = this.o.unlockTimeoutUs ?? 600_000_000;
    this.unlockedUntil = this.o.clock.now() + timeout;
    this.relockTimer?.cancel();
    this.relockTimer = this.o.clock.setTimer(timeout, () => this.relock('timeout'));
    this.o.securityLog.record('optical-unlocked', { until: this.unlockedUntil });
  }

  private verify(sig: Uint8Array, challenge: Uint8Array): boolean {
    const key = this.o.manufacturerPublicKey;
    if (key === null) return false;
    try {
      return p256.verify(sig, unlockMessage(this.o.eui64, challenge), key);
    } catch {
      return false;
    }
  }

  private relock(reason: 'timeout' | 'power-cycle' | 'leave-facility'): void {
    this.unlockedUntil = null;
    this.relockTimer?.cancel();
    this.relockTimer = undefined;
    this.o.trace({ type: 'optical-relocked', reason });
    // A power cycle has no store to write to at the instant it happens; the others are logged.
    if (reason !== 'power-cycle') this.o.securityLog.record('optical-relocked', { reason });
  }

  private requireUnlocked(command: string): void {
    if (!this.unlocked)
      throw new OpticalError('OPTICAL_LOCKED', `'${command}' needs an unlocked optical port`);
  }

  /**
   * Tamper rule: every attempt, refused or not, is a security-log entry with the tamper alert
   * (0x8F3F), written before anything else changes; the outcome follows as its own entry.
   */
  private resetHan(): ResetHanReport {
    const locked = !this.unlocked;
    this.o.securityLog.record('reset-han-attempt', { source: 'optical', locked }, GbAlertCode.tamper);
    if (locked) {
      this.o.securityLog.record('reset-han-refused', { code: 'OPTICAL_LOCKED' });
      throw new OpticalError('OPTICAL_LOCKED', 'Reset HAN refused: the optical port is locked');
    }
    let report: ResetHanReport;
    try {
      report = this.o.resetHan();
    } catch (e) {
      this.o.securityLog.record('reset-han-failed', { code: 'OPTICAL_RESET_FAILED' });
      throw new OpticalError('OPTICAL_RESET_FAILED', `Reset HAN not applied: ${(e as Error).message}`);
    }
    this.o.securityLog.record('reset-han-done', { changed: report.changed.join(',') });
    return report;
  }
}
