/**
 * The DCC User interface over a wired/IP link (SECMP0038 work): a Supplier head-end on the
 * bus sends the DCC JSON requests over a link (e.g. `dcc`) of which the CH is a member; the
 * DCC - which lives with the hub object in this emulator (`CommsHub.remoteParties`) - answers
 * over the same link to the sender. UTF-8 JSON both ways:
 *
 *   request  {requestId, request: {kind, ...}}           -> the WanSide executes it (WAN path)
 *            {requestId, request: {kind, ...}, build: true} -> the command's GBCS bytes, built,
 *              signed and MAC'd but not sent (for the PPMID route; works with the WAN down)
 *   reply    {requestId, ok: true, dccRequestId, hex?}
 *            {requestId, ok: false, code, message}
 *
 * `request` is a DCC command of the control vocabulary (`kind` or `action`: `top-up`, `supply`,
 * `emergency-credit`, ...; devices as EUI64s). Error codes: the WanSide's (`WAN_DOWN`,
 * `WAN_BAD_COMMAND`, ...) and `DCC_BAD_JSON`, `DCC_BAD_REQUEST`, `DCC_CH_OFF`,
 * `DCC_REPLY_TOO_LARGE`. Every refusal before the WanSide is traced (`dcc-link-refused`); the
 * WanSide traces its own (`wan-command-failed`). Nothing is dropped without a reply.
 */
import { toHex } from '@gbhan/gbcs';
import type { ApplicationHost } from '@gbhan/stack';
import { traceHub } from './trace-events.js';
import { type DccCommand, WanError, type WanSide } from './wan.js';

/** Largest link message (the bus's link limit). */
export const DCC_LINK_MAX_OCTETS = 2048;

export type DccLinkErrorCode = 'DCC_BAD_JSON' | 'DCC_BAD_REQUEST' | 'DCC_CH_OFF' | 'DCC_REPLY_TOO_LARGE';

export interface DccLinkReply {
  requestId: string | number | null;
  ok: boolean;
  dccRequestId?: string;
  hex?: string;
  code?: string;
  message?: string;
}

/** One request from the link: the reply to send back (JSON bytes). */
export function handleDccLinkRequest(
  host: ApplicationHost,
  wan: WanSide | null,
  from: string,
  data: Uint8Array,
): Uint8Array {
  const reply = (r: DccLinkReply) => new TextEncoder().encode(JSON.stringify(r));
  let requestId: string | number | null = null;
  const refuse = (code: DccLinkErrorCode, message: string) => {
    traceHub(host, { type: 'dcc-link-refused', from, requestId, code, message });
    return reply({ requestId, ok: false, code, message });
  };
  let msg: unknown;
  try {
    msg = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (e) {
    return refuse('DCC_BAD_JSON', (e as Error).message);
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg))
    return refuse('DCC_BAD_REQUEST', 'not a JSON object');
  const m = msg as Record<string, unknown>;
  if (typeof m.requestId === 'string' || typeof m.requestId === 'number') requestId = m.requestId;
  else return refuse('DCC_BAD_REQUEST', 'requestId (string or number) is required');
  const request = m.request;
  if (request === null || typeof request !== 'object' || Array.isArray(request))
    return refuse('DCC_BAD_REQUEST', 'request (an object) is required');
  if (wan === null) return refuse('DCC_CH_OFF', 'the CH is powered off');
  const r = request as Record<string, unknown>;
  const cmd = { ...r, kind: r.kind ?? r.action } as DccCommand;
  try {
    if (m.build === true) {
      const built = wan.build(cmd);
      const out = reply({ requestId, ok: true, dccRequestId: built.requestId, hex: toHex(built.bytes) });
      if (out.length > DCC_LINK_MAX_OCTETS)
        return refuse(
          'DCC_REPLY_TOO_LARGE',
          `${built.bytes.length}-octet command does not fit a link message`,
        );
      return out;
    }
    return reply({ requestId, ok: true, dccRequestId: wan.execute(cmd) });
  } catch (e) {
    // WanSide errors are traced by the WanSide (wan-command-failed).
    const code = e instanceof WanError ? e.code : 'WAN_BAD_COMMAND';
    return reply({ requestId, ok: false, code, message: (e as Error).message });
  }
}
