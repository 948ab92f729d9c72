/**
 * The head-end's delivery policy (SECMP0038), free of the bus: a clock and two ports (the DCC
 * link and each home's PPMID link) are injected, so it is unit-tested with fakes.
 *
 * Per command: an attempt first asks the DCC to send it by the WAN. The DCC accepting it
 * (`ok`) is delivery by the WAN (ASSUMPTION: the DCC then owns it; its own retries over the
 * CSP WAN are not modelled). When the DCC answers `WAN_DOWN` the home's WAN counts as failed
 * from that first refusal until a later success; once it has failed for `fallbackAfter` and
 * the home has an enhanced PPMID, the same attempt asks the DCC to *build* the command (fully
 * formed, signed and MAC'd - the DCC does not need the WAN for that) and sends the bytes to the
 * PPMID over the home's WLAN link; the meter's response coming back through the PPMID (matched
 * by the originator counter) is delivery by the PPMID. Without delivery the next attempt is
 * `retryEvery` later, up to `maxAttempts`; then the command has failed. Once built, every
 * later attempt - by the PPMID or by the WAN (`gbcs {hex}`) - carries the same bytes, so the
 * meter's originator counter keeps the command exactly-once whichever route gets there.
 * Errors other than `WAN_DOWN`/`WAN_NO_TUNNEL`/no reply (a bad request, an unknown meter) fail
 * the command at once.
 */
import type { Clock, Timer } from '@gbhan/clock';
import type { HeadEndTraceEvent } from './trace-events.js';

export const HEAD_END_DEFAULTS = {
  fallbackAfterUs: 10 * 60_000_000,
  retryEveryUs: 5 * 60_000_000,
  maxAttempts: 12,
  dccReplyTimeoutUs: 30_000_000,
} as const;

export interface HeadEndPolicyConfig {
  fallbackAfterUs?: number;
  retryEveryUs?: number;
  maxAttempts?: number;
  /** An unanswered DCC request counts as failed after this (default 30 s). */
  dccReplyTimeoutUs?: number;
}

export interface Home {
  id: string;
  chEui64: string;
  /** The meter the home's requests are for. */
  meterEui64: string;
  /** The home's enhanced PPMID and the WLAN link to it, if it has one. */
  ppmidEui64?: string;
  wlan?: string;
}

/** What the customer asks for (use-case level). */
export type CustomerRequest =
  | { request: 'top-up'; code: string }
  | { request: 'supply-enable' }
  | { request: 'supply-disable' }
  | { request: 'emergency-credit' };

export interface DccReply {
  ok: boolean;
  code?: string;
  message?: string;
  hex?: string;
}

export interface PolicyPorts {
  clock: Clock;
  /** A request to the home's CH's DCC over the DCC link; resolves with its reply. */
  dcc(home: Home, body: { request: Record<string, unknown>; build?: boolean }): Promise<DccReply>;
  /** GBCS bytes to the home's PPMID over its WLAN link; resolves with the link's verdict. */
  toPpmid(home: Home, bytes: Uint8Array): Promise<{ delivered: boolean; reason?: string }>;
  trace(event: HeadEndTraceEvent): void;
}

export interface Outcome {
  command: string;
  home: string;
  request: string;
  status: 'delivered' | 'failed' | 'pending';
  via: 'wan' | 'ppmid' | null;
  requestedAtUs: number;
  atUs: number;
  attempts: number;
  reason?: string;
}

interface Command {
  id: string;
  home: Home;
  req: CustomerRequest;
  requestedAtUs: number;
  attempts: number;
  built: { hex: string; counter: string } | null;
  timer: Timer | null;
  outcome: Outcome | null;
}

const RETRYABLE = new Set(['WAN_DOWN', 'WAN_NO_TUNNEL', 'NO_REPLY']);

/** The originator counter (decimal) of a GBCS message, or null. */
export type CounterOf = (bytes: Uint8Array) => string | null;

export class HeadEndPolicy {
  private readonly cfg: Required<HeadEndPolicyConfig>;
  private readonly commands: Command[] = [];
  private readonly seq = new Map<string, number>();
  /** Per home: when the WAN was first found down (null: not known to be down). */
  private readonly wanDownSince = new Map<string, number>();

  constructor(
    private readonly ports: PolicyPorts,
    config: HeadEndPolicyConfig,
    private readonly counterOf: CounterOf,
  ) {
    this.cfg = { ...HEAD_END_DEFAULTS, ...definedOnly(config) };
  }

  /** A customer request for `home`: the first attempt runs now. Returns the command id. */
  request(home: Home, req: CustomerRequest): string {
    const n = (this.seq.get(home.id) ?? 0) + 1;
    this.seq.set(home.id, n);
    const c: Command = {
      id: `${home.id}/${n}`,
      home,
      req,
      requestedAtUs: this.ports.clock.now(),
      attempts: 0,
      built: null,
      timer: null,
      outcome: null,
    };
    this.commands.push(c);
    this.ports.trace({ type: 'head-end-request', command: c.id, home: home.id, request: req.request });
    void this.attempt(c);
    return c.id;
  }

  /** A GBCS message from a home's PPMID (a response): delivers the command with its counter. */
  fromPpmid(home: Home, message: Uint8Array): boolean {
    const counter = this.counterOf(message);
    const c = this.commands.find(
      (x) => x.home === home && x.outcome === null && x.built?.counter === counter,
    );
    if (!c || counter === null) return false;
    this.finish(c, 'delivered', 'ppmid');
    return true;
  }

  /** Outcomes of every command so far, in request order (pending ones too). */
  outcomes(): Outcome[] {
    const now = this.ports.clock.now();
    return this.commands.map(
      (c) =>
        c.outcome ?? {
          command: c.id,
          home: c.home.id,
          request: c.req.request,
          status: 'pending',
          via: null,
          requestedAtUs: c.requestedAtUs,
          atUs: now,
          attempts: c.attempts,
        },
    );
  }

  private async attempt(c: Command): Promise<void> {
    if (c.outcome) return;
    c.timer = null;
    c.attempts++;
    const attempt = c.attempts;
    const wanRequest = c.built ? { kind: 'gbcs', hex: c.built.hex } : this.dccRequest(c);
    const r = await this.ports.dcc(c.home, { request: wanRequest });
    if (c.outcome) return;
    this.ports.trace({
      type: 'head-end-attempt',
      command: c.id,
      attempt,
      via: 'wan',
      result: r.ok ? 'accepted' : (r.code ?? 'error'),
    });
    if (r.ok) {
      this.wanDownSince.delete(c.home.id);
      return this.finish(c, 'delivered', 'wan');
    }
    const code = r.code ?? 'error';
    if (!RETRYABLE.has(code)) return this.finish(c, 'failed', null, `${code}: ${r.message ?? ''}`.trim());
    const now = this.ports.clock.now();
    if (code === 'WAN_DOWN' && !this.wanDownSince.has(c.home.id)) this.wanDownSince.set(c.home.id, now);
    const since = this.wanDownSince.get(c.home.id);
    const fallback =
      code === 'WAN_DOWN' &&
      since !== undefined &&
      now - since >= this.cfg.fallbackAfterUs &&
      c.home.ppmidEui64 !== undefined &&
      c.home.wlan !== undefined;
    if (fallback) await this.viaPpmid(c, attempt);
    if (!c.outcome) this.retryOrFail(c);
  }

  /** The PPMID route: the command built by the DCC (once), then its bytes over the WLAN link. */
  private async viaPpmid(c: Command, attempt: number): Promise<void> {
    const result = (r: string) =>
      this.ports.trace({ type: 'head-end-attempt', command: c.id, attempt, via: 'ppmid', result: r });
    if (!c.built) {
      const b = await this.ports.dcc(c.home, { request: this.dccRequest(c), build: true });
      if (c.outcome) return;
      const bytes = b.ok && b.hex ? new Uint8Array(Buffer.from(b.hex, 'hex')) : null;
      const counter = bytes ? this.counterOf(bytes) : null;
      if (!bytes || counter === null) return result(`build-failed ${b.code ?? ''}`.trim());
      c.built = { hex: b.hex!, counter };
    }
    const sent = await this.ports.toPpmid(c.home, new Uint8Array(Buffer.from(c.built.hex, 'hex')));
    if (c.outcome) return;
    result(sent.delivered ? 'sent' : `link-${sent.reason ?? 'dropped'}`);
  }

  private retryOrFail(c: Command): void {
    if (c.attempts >= this.cfg.maxAttempts) {
      // The last attempt's answer may still come: the command fails only if none has by the
      // time the next attempt would have been due.
      c.timer = this.ports.clock.setTimerAt(c.requestedAtUs + c.attempts * this.cfg.retryEveryUs, () => {
        this.finish(c, 'failed', null, `no delivery after ${c.attempts} attempts`);
      });
      return;
    }
    c.timer = this.ports.clock.setTimerAt(c.requestedAtUs + c.attempts * this.cfg.retryEveryUs, () => {
      void this.attempt(c);
    });
  }

  private finish(
    c: Command,
    status: 'delivered' | 'failed',
    via: 'wan' | 'ppmid' | null,
    reason?: string,
  ): void {
    if (c.outcome) return;
    c.timer?.cancel();
    c.timer = null;
    c.outcome = {
      command: c.id,
      home: c.home.id,
      request: c.req.request,
      status,
      via,
      requestedAtUs: c.requestedAtUs,
      atUs: this.ports.clock.now(),
      attempts: c.attempts,
      ...(reason !== undefined ? { reason } : {}),
    };
    this.ports.trace({ type: 'head-end-outcome', ...c.outcome, status, via });
  }

  /** The DCC request (control vocabulary) of a customer request. */
  private dccRequest(c: Command): Record<string, unknown> {
    const target = c.home.meterEui64;
    switch (c.req.request) {
      case 'top-up':
        return { kind: 'top-up', target, code: c.req.code };
      case 'supply-enable':
        return { kind: 'supply', target, state: 'enable' };
      case 'supply-disable':
        return { kind: 'supply', target, state: 'disable' };
      case 'emergency-credit':
        return { kind: 'emergency-credit', target };
    }
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
