/**
 * SECMP0038's "enhanced PPMID": it takes fully formed GBCS Remote Party commands off an
 * alternative channel (the consumer's Wi-Fi / internet) and passes them, unchanged, onto the
 * HAN to its CH, and carries what the CH sends back (responses, alerts) the other way. It
 * verifies nothing and holds no key beyond its HAN keys: the meter's own GBCS checks are what
 * stands between the channel and the meter.
 *
 * Carrier (ASSUMPTION): the PPMID's own GB-HGRP tunnel with the CHF (the PPMID is its tunnel
 * server, GBCS 10.2.2), a Transfer Data server -> client with PUT + the GBCS message, the same
 * framing the CHF uses towards the meter. It exists already, is APS-secured with the PPMID's
 * CBKE link key, and Wireshark dissects it as GBCS.
 */
import {
  decodeGbcsMessage,
  decodeTunnelCommand,
  encodeTunnelCommand,
  toHex,
  useCaseByCode,
} from '@gbhan/gbcs';
import type { TunnelServer } from '@gbhan/runtime';
import type { ApplicationHost } from '@gbhan/stack';
import { tracePpmid } from './trace-events.js';

/** Largest command passed on (ASSUMPTION: the tunnel's 1500-octet maximum transfer less the PUT byte). */
export const ALT_CHANNEL_MAX_OCTETS = 1499;

export type AltChannelRefusal =
  | 'not-enhanced'
  | 'not-gbcs'
  | 'too-large'
  | 'no-tunnel'
  | 'send-failed'
  | 'bad-envelope'
  | 'powered-off';

export interface AltChannelRelayOptions {
  host: ApplicationHost;
  tunnel: TunnelServer;
  ch: () => string;
  /** Only an enhanced PPMID passes commands on (SECMP0038); default PPMIDs refuse. */
  enhanced: boolean;
  /** Out to the alternative channel (the head-end): responses and alerts from the CH. */
  onToChannel?: (message: Uint8Array) => void;
}

export interface Header {
  useCase: string | null;
  counter: string | null;
  target: string | null;
}

/** An `alt-channel-command` that was not passed on. */
export function traceRefusal(
  host: ApplicationHost,
  message: Uint8Array,
  reason: AltChannelRefusal,
  h: Header = header(message),
): void {
  tracePpmid(host, { type: 'alt-channel-command', octets: message.length, ...h, forwarded: false, reason });
}

export function header(bytes: Uint8Array): Header {
  try {
    const g = decodeGbcsMessage(bytes).signing;
    return {
      useCase: useCaseByCode(g.messageCode)?.name ?? `0x${g.messageCode.toString(16)}`,
      counter: g.originatorCounter.toString(),
      target: toHex(g.recipient),
    };
  } catch {
    return { useCase: null, counter: null, target: null };
  }
}

export class AltChannelRelay {
  constructor(private readonly o: AltChannelRelayOptions) {}

  /** A command from the alternative channel: passed to the CH unchanged, or refused (traced). */
  async fromChannel(message: Uint8Array): Promise<AltChannelRefusal | null> {
    const s = this.submit(message);
    return 'refusal' in s ? s.refusal : s.sent;
  }

  /**
   * The same in two steps: the checks at once (a refusal, traced), else the send under way
   * (its outcome later, in virtual time). A local endpoint answers from the first step.
   */
  submit(
    message: Uint8Array,
  ):
    | { refusal: AltChannelRefusal; header: Header }
    | { sent: Promise<AltChannelRefusal | null>; header: Header } {
    const h = header(message);
    const refuse = (reason: AltChannelRefusal) => {
      traceRefusal(this.o.host, message, reason, h);
      return { refusal: reason, header: h };
    };
    if (!this.o.enhanced) return refuse('not-enhanced');
    // Only the framing is looked at: a General Ciphering or General Signing tag.
    if (message[0] !== 0xdd && message[0] !== 0xdf) return refuse('not-gbcs');
    if (message.length > ALT_CHANNEL_MAX_OCTETS) return refuse('too-large');
    const ch = this.o.ch();
    if (this.o.tunnel.tunnelOf(ch) === undefined) return refuse('no-tunnel');
    const sent = (async () => {
      const ok = await this.o.tunnel.sendToClient(ch, encodeTunnelCommand({ command: 'PUT', message }));
      if (!ok) {
        traceRefusal(this.o.host, message, 'send-failed', h);
        return 'send-failed' as const;
      }
      tracePpmid(this.o.host, { type: 'alt-channel-command', octets: message.length, ...h, forwarded: true });
      return null;
    })();
    return { sent, header: h };
  }

  /** GB-HGRP data from the CH: a response or alert for the alternative channel. */
  fromCh(client: string, data: Uint8Array): void {
    let message: Uint8Array;
    try {
      const t = decodeTunnelCommand(data);
      if (t.command === 'GET') return;
      message = t.message;
    } catch (e) {
      tracePpmid(this.o.host, {
        type: 'app-drop',
        from: client,
        reason: 'bad-gbcs-tunnel',
        detail: (e as Error).message,
      });
      return;
    }
    tracePpmid(this.o.host, { type: 'alt-channel-response', octets: message.length, ...header(message) });
    this.o.onToChannel?.(message);
  }
}
