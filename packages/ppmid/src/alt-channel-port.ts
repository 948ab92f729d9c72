/**
 * The enhanced PPMID's alternative channel as it arrives (SECMP0038): messages over a
 * wired/IP link of the bus (the consumer's Wi-Fi and internet, from the Supplier's head-end),
 * and, in process mode, a local JSON endpoint (`gbhan device ppmid ... --alt-channel-port N`).
 *
 * Link envelope (ASSUMPTION: SECMP0038 leaves the alternative channel's transport to the
 * Supplier; this is the emulator's): the first octet is the message kind, the rest its body.
 *   0x01 command   head-end -> PPMID: a GBCS command, passed on to the CH unchanged
 *   0x02 message   PPMID -> head-end: a GBCS response or alert the CH sent the PPMID
 *   0x03 refusal   PPMID -> head-end: UTF-8 JSON {reason, counter} - a command not passed on
 * Messages from the CH go to the member that sent the last command.
 *
 * Endpoint (127.0.0.1 only, wall-clock driven like the meter's optical port):
 *   POST /gbcs {hex}  -> 202 {accepted: true, useCase, counter, target} | 409 REFUSED {reason}
 *                        | 400 BAD_HEX | 413 TOO_LARGE (> ALT_CHANNEL_MAX_OCTETS) | 429 RATE_LIMITED
 *                        | 503 BUS_CLOSED
 *   GET /gbcs/responses -> 200 {messages: [{hex}], dropped}: what the CH sent back since the
 *                        last call (at most RESPONSE_QUEUE kept; `dropped` counts the rest)
 * Every request is answered; a refused command is also traced (`alt-channel-command`).
 */
import type { Server } from 'node:http';
import { type JsonReply, startJsonEndpoint } from '@gbhan/runtime';
import { ALT_CHANNEL_MAX_OCTETS, type AltChannelRefusal, type Header } from './alt-channel.js';

export const ALT_ENVELOPE = { command: 0x01, message: 0x02, refusal: 0x03 } as const;

/** Requests per second the endpoint takes (a sliding one-second window). */
export const ALT_CHANNEL_RATE_PER_SECOND = 10;
/** CH messages kept for `GET /gbcs/responses`. */
export const RESPONSE_QUEUE = 64;

export function encodeAltEnvelope(kind: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.length);
  out[0] = kind;
  out.set(body, 1);
  return out;
}

export function refusalEnvelope(reason: AltChannelRefusal, counter: string | null): Uint8Array {
  return encodeAltEnvelope(
    ALT_ENVELOPE.refusal,
    new TextEncoder().encode(JSON.stringify({ reason, counter })),
  );
}

/** What the endpoint needs of the PPMID. */
export interface AltChannelTarget {
  /** The relay's first step (checks now; the send under way). */
  submit(
    bytes: Uint8Array,
  ): { refusal: AltChannelRefusal; header: Header } | { sent: Promise<unknown>; header: Header };
}

export interface AltChannelHandlerOptions {
  target: () => AltChannelTarget | null;
  /** Bring the device to the bus's instant; resolves with a release. */
  wake: () => Promise<() => void>;
  /** Wall-clock milliseconds (injected: the rate bound is tested with a fake). */
  nowMs: () => number;
  ratePerSecond?: number;
}

const error = (status: number, code: string, message: string, extra: Record<string, unknown> = {}) => ({
  status,
  body: { error: { code, message, ...extra } },
});

/** The endpoint's request handler (HTTP-free, for tests) and its response queue. */
export function altChannelHandler(o: AltChannelHandlerOptions) {
  const rate = o.ratePerSecond ?? ALT_CHANNEL_RATE_PER_SECOND;
  const recent: number[] = [];
  const queue: string[] = [];
  let dropped = 0;
  const handle = async (
    method: string,
    path: string,
    body: Record<string, unknown> | null,
  ): Promise<JsonReply> => {
    if (method === 'GET' && path === '/gbcs/responses') {
      const messages = queue.splice(0).map((hex) => ({ hex }));
      const d = dropped;
      dropped = 0;
      return { status: 200, body: { messages, dropped: d } };
    }
    if (method !== 'POST' || path !== '/gbcs') return error(404, 'NOT_FOUND', `${method} ${path}`);
    const now = o.nowMs();
    while (recent.length > 0 && recent[0]! <= now - 1000) recent.shift();
    if (recent.length >= rate)
      return error(429, 'RATE_LIMITED', `more than ${rate} requests in a second`, {
        retryAfterMs: Math.max(1, Math.ceil(recent[0]! + 1000 - now)),
      });
    recent.push(now);
    const hex = body?.hex;
    if (typeof hex !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(hex))
      return error(400, 'BAD_HEX', 'hex: an even number of hex digits expected');
    if (hex.length / 2 > ALT_CHANNEL_MAX_OCTETS)
      return error(413, 'TOO_LARGE', `${hex.length / 2} octets; at most ${ALT_CHANNEL_MAX_OCTETS}`);
    let release: () => void;
    try {
      release = await o.wake();
    } catch (e) {
      return error(503, 'BUS_CLOSED', (e as Error).message);
    }
    try {
      const t = o.target();
      if (t === null) return error(409, 'REFUSED', 'the PPMID is powered off', { reason: 'powered-off' });
      const s = t.submit(new Uint8Array(Buffer.from(hex, 'hex')));
      if ('refusal' in s)
        return error(409, 'REFUSED', `not passed on: ${s.refusal}`, { reason: s.refusal, ...s.header });
      // The send's outcome comes in virtual time (traced); the bus moves once released.
      void s.sent;
      return { status: 202, body: { accepted: true, ...s.header } };
    } finally {
      release();
    }
  };
  /** A message from the CH for the endpoint's client. */
  const toClient = (message: Uint8Array) => {
    queue.push(Buffer.from(message).toString('hex'));
    while (queue.length > RESPONSE_QUEUE) {
      queue.shift();
      dropped++;
    }
  };
  return { handle, toClient };
}

export function startAltChannelEndpoint(
  port: number,
  o: AltChannelHandlerOptions,
): Promise<{ server: Server; toClient: (message: Uint8Array) => void }> {
  const h = altChannelHandler(o);
  return startJsonEndpoint(port, h.handle).then((server) => ({ server, toClient: h.toClient }));
}
