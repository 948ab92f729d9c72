/**
 * Wired/IP links on the bus: a path that is not radio (a consumer's Wi-Fi and internet, by which
 * a head-end reaches an enhanced PPMID), between named sets of radios, in virtual time.
 *
 * Why here: devices meet only on the bus (in-process or each in its own process), and only the
 * bus owns virtual time, so a non-radio path must live on it for a run to stay deterministic
 * and lock-stepped. It carries opaque bytes; it knows nothing of ZigBee or GBCS.
 *
 * The model, per message (a `link-send` applied at the barrier, radios in EUI64 order):
 *   refused at once (traced `link-drop`): unknown link, sender or addressee not a member (or the
 *   same radio), link down (state or outage), the direction's queue full;
 *   otherwise it waits its turn in its direction's FIFO (sender -> addressee) for the
 *   serializer: start = max(now, previous end), end = start + octets x 8 / bandwidth; then
 *   travels one latency draw. Without `reorder` it never arrives before an earlier message of
 *   its direction. Loss is drawn when it is sent; the message is traced as lost, or delivered
 *   (`link-rx`), at its arrival instant, and is dropped then if the link went down meanwhile or
 *   the addressee left the bus. Every message ends in exactly one `link-delivered` or `link-drop`.
 * Arrivals are bus events in the event queue, so time cannot skip past a pending delivery.
 * Each link draws from its own PRNG, seeded by the bus seed and its name: a link's traffic
 * never moves the radio medium's loss and shadowing draws, nor another link's.
 */
import type { BusState, Radio } from './bus-state.js';
import { BusConfigError } from './config.js';
import {
  DEFAULT_LINK_QUEUE,
  type LatencyModel,
  LINK_MAX_DATA_BYTES,
  type LinkChange,
  type LinkConfig,
  type LinkDropReason,
  LinksConfigSchema,
  latencySchema,
  lossSchema,
} from './link-config.js';
import { Prng } from './prng.js';

export interface LinkSend {
  link: string;
  to: string;
  data: string;
  id?: number;
}

/** One direction (sender -> addressee) of a link: its serializer and FIFO. */
interface Direction {
  /** When the serializer is free again. */
  busyUntil: number;
  /** Serialization end of each message still queued or being serialized (ascending). */
  ends: number[];
  /** Latest arrival so far (FIFO links never deliver before it). */
  lastArrival: number;
}

interface Link {
  name: string;
  members: Set<string>;
  latency: LatencyModel;
  loss: number;
  bandwidthBps: number | null;
  queue: number;
  reorder: boolean;
  /** The controls' state (`link-state`); an outage also takes it down. */
  controlUp: boolean;
  outages: { from: number; to: number }[];
  /** The effective state last traced. */
  up: boolean;
  prng: Prng;
  dirs: Map<string, Direction>;
}

export class BusLinks {
  private readonly links = new Map<string, Link>();
  private seq = 0;

  constructor(
    private readonly s: BusState,
    configs: Record<string, LinkConfig>,
    seed: number | string,
  ) {
    const r = LinksConfigSchema.safeParse(configs);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new BusConfigError(['links', ...issue.path].join('.'), issue.message);
    }
    for (const [name, c] of Object.entries(r.data)) {
      const outages = [...(c.outages ?? [])].sort((a, b) => a.from - b.from);
      const link: Link = {
        name,
        members: new Set(c.members),
        latency: (c.latency as LatencyModel | undefined) ?? { kind: 'fixed', ms: 0 },
        loss: c.loss ?? 0,
        bandwidthBps: c.bandwidthBps ?? null,
        queue: c.queue ?? DEFAULT_LINK_QUEUE,
        reorder: c.reorder ?? false,
        controlUp: c.up ?? true,
        outages,
        up: true,
        prng: new Prng(`link:${String(seed)}:${name}`),
        dirs: new Map(),
      };
      link.up = this.effectiveUp(link, s.now);
      this.links.set(name, link);
      // Trace the outages' edges at their instants (the state itself is read off the schedule).
      for (const o of outages)
        for (const t of [o.from, o.to])
          if (t > s.now) s.push({ t, kind: 'callback', fn: () => this.retrace(link, 'outage') });
    }
  }

  get names(): string[] {
    return [...this.links.keys()];
  }

  /** A radio's `link-send`, at the barrier. */
  send(radio: Radio, m: LinkSend): void {
    const s = this.s;
    const data = Buffer.from(m.data, 'base64');
    if (data.length === 0 || data.length > LINK_MAX_DATA_BYTES) {
      s.links.reportError(
        radio.port,
        'BUS_LINK_DATA_TOO_LONG',
        `link data of ${data.length} octets (1..${LINK_MAX_DATA_BYTES} allowed)`,
      );
      return;
    }
    const msg = this.seq++;
    const from = radio.eui64;
    const link = this.links.get(m.link);
    const refuse = (reason: LinkDropReason) => {
      s.emit({ t: s.now, type: 'link-drop', link: m.link, msg, from, to: m.to, reason });
      if (m.id !== undefined)
        s.links.send(radio, { type: 'link-done', t: s.now, id: m.id, status: 'dropped', reason });
    };
    if (link === undefined) {
      refuse('unknown-link');
      return;
    }
    if (!link.members.has(from) || !link.members.has(m.to) || from === m.to) {
      refuse('not-a-member');
      return;
    }
    if (!this.effectiveUp(link, s.now)) {
      refuse('down');
      return;
    }
    const key = `${from}>${m.to}`;
    let dir = link.dirs.get(key);
    if (dir === undefined) {
      dir = { busyUntil: 0, ends: [], lastArrival: 0 };
      link.dirs.set(key, dir);
    }
    while (dir.ends.length > 0 && dir.ends[0]! <= s.now) dir.ends.shift();
    if (dir.ends.length >= link.queue) {
      refuse('queue-full');
      return;
    }
    // Draws in a fixed order: loss (if the link has any), then latency (fixed: none).
    const lost = link.loss > 0 && link.prng.next() < link.loss;
    const latencyUs = drawLatencyUs(link.latency, link.prng);
    const start = Math.max(s.now, dir.busyUntil);
    const serialUs = link.bandwidthBps === null ? 0 : Math.ceil((data.length * 8 * 1e6) / link.bandwidthBps);
    const end = start + serialUs;
    if (serialUs > 0) dir.ends.push(end);
    dir.busyUntil = end;
    let arrival = end + latencyUs;
    if (!link.reorder) arrival = Math.max(arrival, dir.lastArrival);
    dir.lastArrival = Math.max(dir.lastArrival, arrival);
    const sentAt = s.now;
    s.push({
      t: arrival,
      kind: 'callback',
      fn: () => this.arrive(link, radio, m, data.length, msg, lost, sentAt),
    });
  }

  /** Message `msg` reaches its addressee's end of the link now. */
  private arrive(
    link: Link,
    sender: Radio,
    m: LinkSend,
    octets: number,
    msg: number,
    lost: boolean,
    sentAt: number,
  ): void {
    const s = this.s;
    const to = s.byEui.get(m.to);
    const reason: LinkDropReason | null = !this.effectiveUp(link, s.now)
      ? 'down'
      : lost
        ? 'loss'
        : to === undefined
          ? 'no-receiver'
          : null;
    const base = { t: s.now, link: link.name, msg, from: sender.eui64, to: m.to };
    if (reason !== null) s.emit({ ...base, type: 'link-drop', reason });
    else {
      s.emit({ ...base, type: 'link-delivered', octets, delayUs: s.now - sentAt });
      s.links.send(to!, { type: 'link-rx', t: s.now, link: link.name, from: sender.eui64, data: m.data });
    }
    if (m.id !== undefined && s.isRegistered(sender))
      s.links.send(sender, {
        type: 'link-done',
        t: s.now,
        id: m.id,
        status: reason === null ? 'delivered' : 'dropped',
        ...(reason === null ? {} : { reason }),
      });
  }

  /** Check a change before it is scheduled; throws BusConfigError. */
  check(name: string, change: LinkChange): void {
    if (!this.links.has(name))
      throw new BusConfigError(`links.${name}`, `no such link (links: ${this.names.join(', ') || 'none'})`);
    if (change.latency !== undefined) {
      const r = latencySchema.safeParse(change.latency);
      if (!r.success) throw new BusConfigError(`links.${name}.latency`, r.error.issues[0]!.message);
    }
    if (change.loss !== undefined && !lossSchema.safeParse(change.loss).success)
      throw new BusConfigError(`links.${name}.loss`, 'a probability, 0..1');
  }

  /** Apply a checked change now: messages already sent keep their draws. */
  change(name: string, change: LinkChange): void {
    const link = this.links.get(name)!;
    const s = this.s;
    if (change.latency !== undefined || change.loss !== undefined) {
      if (change.latency !== undefined) link.latency = latencySchema.parse(change.latency);
      if (change.loss !== undefined) link.loss = change.loss;
      s.emit({
        t: s.now,
        type: 'link-set',
        link: name,
        ...(change.latency === undefined ? {} : { latency: link.latency }),
        ...(change.loss === undefined ? {} : { loss: link.loss }),
      });
    }
    if (change.up !== undefined) {
      link.controlUp = change.up;
      this.retrace(link, 'control');
    }
  }

  private effectiveUp(link: Link, t: number): boolean {
    return link.controlUp && !link.outages.some((o) => o.from <= t && t < o.to);
  }

  /** Trace the link's state if it changed. */
  private retrace(link: Link, cause: 'control' | 'outage'): void {
    const up = this.effectiveUp(link, this.s.now);
    if (up === link.up) return;
    link.up = up;
    this.s.emit({ t: this.s.now, type: 'link-state', link: link.name, up, cause });
  }
}

/** One latency draw, whole microseconds (fixed: no draw). */
function drawLatencyUs(l: LatencyModel, prng: Prng): number {
  let msValue: number;
  if (l.kind === 'fixed') msValue = l.ms;
  else if (l.kind === 'uniform') msValue = l.minMs + (l.maxMs - l.minMs) * prng.next();
  else msValue = l.medianMs * Math.exp(l.sigma * prng.gaussian());
  return Math.max(0, Math.round(msValue * 1000));
}
