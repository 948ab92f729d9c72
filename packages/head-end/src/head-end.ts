/**
 * The Supplier head-end as a device on the bus. It is not a HAN device: its bus registration
 * only gives it a clock and membership of wired/IP links; it never transmits on the air (no
 * `transmit`, no `cca`). A scenario places it on a band no HAN device of the scenario uses
 * (README), so the medium never counts it as a receiver either.
 *
 * Links: the DCC link (default `dcc`, the DCC User interface) to each home's CH, whose DCC
 * answers JSON requests (`@gbhan/comms-hub` dcc-link.ts); and each home's WLAN link to its
 * enhanced PPMID (envelope of `@gbhan/ppmid` alt-channel-port.ts: 0x01 command out; 0x02
 * message and 0x03 refusal back). The delivery policy is `HeadEndPolicy` (policy.ts).
 */
import { decodeGbcsMessage } from '@gbhan/gbcs';
import type { BusRadio, LinkMessage } from '@gbhan/radio-bus';
import { dispatchControl } from '@gbhan/stack';
import { HEAD_END_ACTIONS } from './kind.js';
import {
  type CustomerRequest,
  type DccReply,
  HEAD_END_DEFAULTS,
  HeadEndPolicy,
  type HeadEndPolicyConfig,
  type Home,
} from './policy.js';
import { traceHeadEnd } from './trace-events.js';

/** Envelope kinds of the PPMID's alternative channel (see `@gbhan/ppmid` alt-channel-port.ts). */
const ENVELOPE = { command: 0x01, message: 0x02, refusal: 0x03 } as const;

export interface HeadEndConfig extends HeadEndPolicyConfig {
  /** The link to the DCC (default `dcc`); every home's CH is a member. */
  dccLink?: string;
  homes: Home[];
}

export function counterOf(bytes: Uint8Array): string | null {
  try {
    return decodeGbcsMessage(bytes).signing.originatorCounter.toString();
  } catch {
    return null;
  }
}

export class HeadEnd {
  readonly policy: HeadEndPolicy;
  private seq = 0;
  private readonly pending = new Map<string, (r: DccReply) => void>();
  private readonly host: { trace(e: { type: string }): void };

  constructor(
    private readonly radio: BusRadio,
    private readonly config: HeadEndConfig,
  ) {
    this.host = { trace: (e) => (radio.closed ? undefined : radio.trace(e)) };
    const dccLink = config.dccLink ?? 'dcc';
    const timeoutUs = config.dccReplyTimeoutUs ?? HEAD_END_DEFAULTS.dccReplyTimeoutUs;
    this.policy = new HeadEndPolicy(
      {
        clock: radio.clock,
        dcc: (home, body) => {
          const requestId = `he-${++this.seq}`;
          return new Promise<DccReply>((resolve) => {
            const timer = radio.clock.setTimer(timeoutUs, () => {
              this.pending.delete(requestId);
              resolve({ ok: false, code: 'NO_REPLY', message: 'no reply from the DCC' });
            });
            this.pending.set(requestId, (r) => {
              timer.cancel();
              resolve(r);
            });
            const data = new TextEncoder().encode(JSON.stringify({ requestId, ...body }));
            void radio.linkSend(dccLink, home.chEui64, data).then((d) => {
              if (d.status !== 'delivered' && this.pending.delete(requestId)) {
                timer.cancel();
                resolve({ ok: false, code: 'NO_REPLY', message: `DCC link: ${d.reason ?? d.status}` });
              }
            });
          });
        },
        toPpmid: async (home, bytes) => {
          const out = new Uint8Array(1 + bytes.length);
          out[0] = ENVELOPE.command;
          out.set(bytes, 1);
          const r = await radio.linkSend(home.wlan!, home.ppmidEui64!, out);
          return r.status === 'delivered'
            ? { delivered: true }
            : { delivered: false, reason: r.reason ?? r.status };
        },
        trace: (e) => traceHeadEnd(this.host, e),
      },
      config,
      counterOf,
    );
    radio.onControl((cmd) => this.control(cmd));
    radio.onLink((m) => {
      this.fromLink(m);
    });
  }

  control(cmd: Record<string, unknown>): void {
    dispatchControl(cmd, {
      actions: HEAD_END_ACTIONS,
      host: this.host,
      powered: true,
      handlers: {
        request: (c) => {
          const home = this.config.homes.find((h) => h.id === c.home || h.meterEui64 === c.home);
          if (!home)
            throw new Error(`no home ${c.home} (homes: ${this.config.homes.map((h) => h.id).join(', ')})`);
          const req: CustomerRequest =
            c.request === 'top-up' ? { request: 'top-up', code: c.code ?? '' } : { request: c.request };
          if (req.request === 'top-up' && !/^\d{20}$/.test(req.code))
            throw new Error('top-up: code must be a 20-digit UTRN');
          this.policy.request(home, req);
        },
        'outcome-report': () =>
          traceHeadEnd(this.host, { type: 'head-end-report', outcomes: this.policy.outcomes() }),
      },
    });
  }

  private fromLink(m: LinkMessage): void {
    const drop = (reason: string) =>
      traceHeadEnd(this.host, { type: 'head-end-dropped', link: m.link, from: m.from, reason });
    const home = this.config.homes.find((h) => h.wlan === m.link && h.ppmidEui64 === m.from);
    if (home) {
      const body = m.data.subarray(1);
      if (m.data[0] === ENVELOPE.message) {
        // Alerts and answers to commands already settled are not the head-end's business here.
        this.policy.fromPpmid(home, body);
        return;
      }
      // A refusal is traced by the PPMID; the next attempt retries.
      if (m.data[0] !== ENVELOPE.refusal) drop('bad-envelope');
      return;
    }
    let reply: { requestId?: unknown } & DccReply;
    try {
      reply = JSON.parse(new TextDecoder().decode(m.data)) as typeof reply;
    } catch {
      drop('not-json');
      return;
    }
    const resolve = typeof reply.requestId === 'string' ? this.pending.get(reply.requestId) : undefined;
    if (!resolve) {
      drop('unknown-request-id');
      return;
    }
    this.pending.delete(reply.requestId as string);
    resolve(reply);
  }

  close(): void {
    this.radio.close();
  }

  busClosed(): void {}
}
