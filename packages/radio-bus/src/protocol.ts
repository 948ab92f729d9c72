/**
 * Bus protocol v1: JSON messages, one per WebSocket text frame (or one object per call on the
 * in-process transport; both go through `parseClientMessage`, so the two paths cannot drift).
 * The package README is the prose version of this file.
 */
import { z } from 'zod';
import { LINK_DROP_REASONS, type LinkDropReason, linkName } from './link-config.js';
import { BANDS } from './phy.js';

export const PROTOCOL_VERSION = 1;
/** Largest message the bus accepts: a 127-byte PSDU in base64 is ~170 characters. */
export const MAX_MESSAGE_BYTES = 4096;

const eui64 = z.string().regex(/^[0-9a-f]{16}$/, 'EUI64 as 16 lowercase hex digits');
const u16 = z.number().int().min(0).max(0xffff);
const AddressFilterSchema = z.strictObject({ panId: u16, shortAddress: u16, extendedAddress: eui64 });
const int = z.number().int();
const time = z.number().int().nonnegative();
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');

export const HelloSchema = z.strictObject({
  type: z.literal('hello'),
  version: int,
  eui64,
  band: z.enum(BANDS as [string, ...string[]]),
  page: int,
  channel: int,
  position: z.strictObject({ x: z.number(), y: z.number(), z: z.number().optional() }),
  txPowerDbm: z.number().min(-40).max(30).optional(),
  /** Antenna, enclosure or cupboard loss of this radio, dB (applied on send and receive). */
  lossDb: z.number().min(0).max(100).optional(),
  sensitivityDbm: z.number().min(-140).max(0).optional(),
  powered: z.boolean().optional(),
  /** Its MAC's address filter (address-filter.ts): frames it would discard unread are not sent. */
  filter: AddressFilterSchema.optional(),
  name: z.string().max(64).optional(),
});

/** Every client message (protocol v1); `parseClientMessage` checks the common ones by hand first. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  HelloSchema,
  /** Retune; with `band` also across bands (a dual-band radio: an HHT scanning 2.4 GHz and GB868). */
  z.strictObject({
    type: z.literal('set-channel'),
    page: int,
    channel: int,
    band: z.enum(BANDS as [string, ...string[]]).optional(),
  }),
  /** Change (or with null drop) the address filter, at the barrier like a retune: a MAC that joined a PAN. */
  z.strictObject({ type: z.literal('set-filter'), filter: AddressFilterSchema.nullable() }),
  /**
   * Transmit. `at`: at that later instant, without waking the device for it (scheduled: applied
   * at that instant's first barrier, before anything the radio sends at it); `confirm: false`:
   * no `tx-done` (an acknowledgment, whose fate the sender does not wait for).
   */
  z.strictObject({
    type: z.literal('tx'),
    id: int.nonnegative(),
    psdu: base64,
    at: time.optional(),
    confirm: z.literal(false).optional(),
  }),
  /** Clear-channel assessment; `at` as for `tx` (the answer then wakes the device at that instant). */
  z.strictObject({ type: z.literal('cca'), id: int.nonnegative(), at: time.optional() }),
  /** Withdraw a scheduled `tx` or `cca` not yet applied (one already applied, or unknown: nothing). */
  z.strictObject({ type: z.literal('cancel'), id: int.nonnegative() }),
  z.strictObject({ type: z.literal('power'), on: z.boolean() }),
  /**
   * Idle until `next`. `seen`: how many bus messages (every type but `error`) the client has
   * taken so far; an idle that has not seen everything the bus sent is stale and ignored, so
   * two messages of one instant that reach a socket client apart cannot let time run on
   * between them. Optional: a client that leaves it out gets the older, racy rule.
   */
  z.strictObject({ type: z.literal('idle'), next: time.nullable(), seen: int.nonnegative().optional() }),
  z.strictObject({ type: z.literal('bye') }),
  /**
   * Bring me to the bus's current instant (real-time mode: the paced wall-clock instant): for
   * work that starts outside the bus (a local endpoint) and must read the bus's time.
   * Answered by `time` with `wake` = the highest id received.
   */
  z.strictObject({ type: z.literal('wake'), id: int.nonnegative() }),
  /** A device's own trace event; the bus stamps it with the virtual time and the radio. */
  z.strictObject({ type: z.literal('trace'), event: z.record(z.string(), z.unknown()) }),
  /**
   * Send opaque bytes to `to` over the wired/IP link `link` (applied at the barrier); with `id`,
   * answered by `link-done` once it is delivered or dropped.
   */
  z.strictObject({
    type: z.literal('link-send'),
    link: linkName,
    to: eui64,
    data: base64,
    id: int.nonnegative().optional(),
  }),
]);

export type HelloMessage = z.infer<typeof HelloSchema> & { band: import('./phy.js').Band };
type SetChannelMessage = Extract<z.infer<typeof ClientMessageSchema>, { type: 'set-channel' }> & {
  band?: import('./phy.js').Band;
};
export type ClientMessage =
  | Exclude<z.infer<typeof ClientMessageSchema>, { type: 'hello' } | { type: 'set-channel' }>
  | HelloMessage
  | SetChannelMessage;

export const TX_STATUSES = ['sent', 'duty-cycle', 'busy', 'off'] as const;
export type TxStatus = (typeof TX_STATUSES)[number];
export const LINK_DONE_STATUSES = ['delivered', 'dropped'] as const;
export type LinkDoneStatus = (typeof LINK_DONE_STATUSES)[number];
export { LINK_DROP_REASONS, type LinkDropReason };
export const DUTY_CYCLE_STATES = ['normal', 'limited', 'critical', 'suspended'] as const;
export type DutyCycleStateName = (typeof DUTY_CYCLE_STATES)[number];

/** Messages from the bus. Every one carries `t`, the virtual time (us) it happens at. */
export type BusMessage =
  | { type: 'welcome'; version: number; t: number; eui64: string }
  /** `wake`: set when it answers the client's `wake` (the highest id received so far). */
  | { type: 'time'; t: number; wake?: number }
  | { type: 'rx'; t: number; start: number; psdu: string; rssi: number; lqi: number }
  | { type: 'tx-done'; t: number; id: number; status: TxStatus; airtimeUs: number }
  | { type: 'cca-result'; t: number; id: number; busy: boolean }
  | { type: 'duty-cycle'; t: number; state: DutyCycleStateName; percent: number }
  | { type: 'control'; t: number; command: Record<string, unknown> }
  /** Bytes that arrived over a wired/IP link, from the member `from`. */
  | { type: 'link-rx'; t: number; link: string; from: string; data: string }
  /** The fate of your `link-send` with this `id`: at its arrival instant, or at once when refused. */
  | { type: 'link-done'; t: number; id: number; status: LinkDoneStatus; reason?: LinkDropReason }
  | { type: 'error'; t: number; code: BusErrorCode; message: string };

/** Stable error codes; every one ends that client's connection. */
export const BUS_ERROR_CODES = [
  'BUS_MALFORMED',
  'BUS_OVERSIZE',
  'BUS_WS_PROTOCOL',
  'BUS_UNKNOWN_TYPE',
  'BUS_VERSION',
  'BUS_NOT_REGISTERED',
  'BUS_ALREADY_REGISTERED',
  'BUS_DUPLICATE_EUI64',
  'BUS_BAD_CHANNEL',
  'BUS_PSDU_TOO_LONG',
  'BUS_LINK_DATA_TOO_LONG',
  'BUS_IDLE_TIMEOUT',
  'BUS_TIME_STUCK',
  'BUS_INSTANT_LIMIT',
  'BUS_ACTION_BACKLOG',
  'BUS_SEND_BACKLOG',
  'BUS_SCHEDULE_PAST',
  'BUS_SHUTDOWN',
] as const;
export type BusErrorCode = (typeof BUS_ERROR_CODES)[number];

export class BusProtocolError extends Error {
  constructor(
    readonly code: BusErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BusProtocolError';
  }
}

const KNOWN_TYPES = new Set([
  'hello',
  'set-channel',
  'set-filter',
  'tx',
  'cca',
  'cancel',
  'power',
  'idle',
  'bye',
  'trace',
  'wake',
  'link-send',
]);

/** Validate one decoded client message; throws BusProtocolError naming the field at fault. */
/**
 * A base64 field's bytes as a plain Uint8Array over the decoded Buffer's memory (Node's pool
 * for small sizes), not copied: V8 allocates a typed array over 64 bytes outside its heap,
 * ~0.8 us each here, and every frame on the bus is decoded once by the bus and once per
 * receiver. A Uint8Array, so `slice()` still copies; `.buffer` is the pool's.
 */
export function bytesFromBase64(b64: string): Uint8Array {
  const b = Buffer.from(b64, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function parseClientMessage(value: unknown): ClientMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BusProtocolError('BUS_MALFORMED', 'a message must be a JSON object');
  }
  const fast = fastPath(value as Record<string, unknown>);
  if (fast !== null) return fast;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
    throw new BusProtocolError('BUS_UNKNOWN_TYPE', `unknown message type ${JSON.stringify(type)}`);
  }
  const r = ClientMessageSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue?.path.join('.') || '(message)';
    throw new BusProtocolError('BUS_MALFORMED', `${type}: field ${field}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data as ClientMessage;
}

/**
 * The messages of every lock-step round (`idle`, `tx`, `cca`, `power`, `trace`) checked by
 * hand: the same rules as the schema, without its cost. Anything not plainly valid falls
 * through to the schema, which produces the error.
 */
function fastPath(v: Record<string, unknown>): ClientMessage | null {
  let keys = 0;
  for (const _ in v) keys++;
  if (v.type === 'idle' && (keys === 2 || (keys === 3 && 'seen' in v))) {
    const { next, seen } = v;
    if ((next === null || isNatural(next)) && (keys === 2 || isNatural(seen))) return v as ClientMessage;
  } else if (v.type === 'cca' && (keys === 2 || (keys === 3 && 'at' in v))) {
    if (isNatural(v.id) && (keys === 2 || isNatural(v.at))) return v as ClientMessage;
  } else if (v.type === 'power' && keys === 2) {
    if (typeof v.on === 'boolean') return v as ClientMessage;
  } else if (v.type === 'trace' && keys === 2) {
    // A plain object (what JSON gives), and no own `__proto__` key the schema's copy would drop.
    const e = v.event;
    if (
      typeof e === 'object' &&
      e !== null &&
      Object.getPrototypeOf(e) === Object.prototype &&
      !Object.hasOwn(e, '__proto__')
    )
      return v as ClientMessage;
  } else if (v.type === 'tx' && keys >= 3 && keys <= 5) {
    const { id, psdu } = v;
    const extra = keys - 3;
    const at = 'at' in v ? 1 : 0;
    const confirm = 'confirm' in v ? 1 : 0;
    if (
      extra === at + confirm &&
      (at === 0 || isNatural(v.at)) &&
      (confirm === 0 || v.confirm === false) &&
      isNatural(id) &&
      typeof psdu === 'string' &&
      BASE64.test(psdu)
    ) {
      return v as ClientMessage;
    }
  }
  return null;
}

/** An integer >= 0 the schema's `int` also takes (ids, counts, virtual times). */
function isNatural(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decode a raw WebSocket text frame (size first, then JSON, then shape). */
export function decodeClientFrame(data: string | Uint8Array): ClientMessage {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (size > MAX_MESSAGE_BYTES) {
    throw new BusProtocolError('BUS_OVERSIZE', `message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch {
    throw new BusProtocolError('BUS_MALFORMED', 'message is not valid JSON');
  }
  return parseClientMessage(value);
}
