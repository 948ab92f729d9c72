/**
 * Who can hear a transmission, without asking every radio on the bus: each band's radios in a
 * uniform grid of cells, the cell as wide as the band's reach at its default transmit power
 * and sensitivity. A frame visits only the cells within its own reach (its sender's power,
 * the most sensitive receiver the band has had), so the work per frame grows with the radios
 * around the sender, not with the bus.
 *
 * The reach is the propagation model's (`PropagationModel.reachM`): the distance beyond which
 * the path loss, walls ignored, exceeds the link budget. Walls only add loss, so nothing
 * beyond it can be audible. Interference needs no reach of its own: an overlapping frame is
 * only weighed at a receiver the wanted frame reaches, whatever the interferer's distance.
 * A model without a reach (shadowing draws per pair, a matrix, a model of your own) keeps the
 * scan of every radio, which also keeps its PRNG draws in the same order.
 *
 * Also here: the non-deliveries the bus counts per radio instead of tracing one by one
 * (`trace: 'compact'`), frames on its channel it could not hear and frames it heard on
 * another channel.
 */
import type { Radio } from './bus-state.js';
import { distance, type Position } from './medium.js';
import type { Band } from './phy.js';
import type { PropagationModel } from './propagation.js';

/** A radio's non-deliveries the bus counted rather than traced (also counted with a full trace). */
export interface NonDeliveries {
  /** Frames sent on its channel (band, page, channel) that arrived below its sensitivity. */
  outOfRange: number;
  /** Frames it could have heard, but it was on another channel of the band. */
  otherChannel: number;
  /** Frames it received but its declared 802.15.4 address filter would discard (not sent to it). */
  filtered: number;
  /**
   * Frames that reached it while its receiver was off and that its address filter would have
   * discarded anyway: a full trace shows each as a `receiver-off` drop, a compact one only
   * the frames the radio would have taken (a sleepy meter's neighbours' traffic is counted).
   */
  offFiltered: number;
}

/** Per-radio bookkeeping for the counts: frames on its channel so far, minus those it heard or sent. */
export interface HearStats {
  /** Channel key the radio is on (band, page, channel). */
  key: number;
  /** `ended[key]` when it came onto the channel. */
  base: number;
  /** Frames that ended on earlier channels while it was on them. */
  earlier: number;
  /** Its own frames that ended while it was on their channel. */
  own: number;
  /** Frames on its channel it heard (audible, whatever became of them). */
  audible: number;
  otherChannel: number;
  filtered: number;
  offFiltered: number;
}

/**
 * Who hears one sender, by channel: the radios within its reach whose received power meets
 * their sensitivity, in the bus's radio order, with that power (a model with a reach draws no
 * shadowing, so it is the same every frame). Kept like the reach while nothing came, left,
 * retuned or changed band. The frames it sent since, per channel, are counted here so the
 * radios on other channels get their `otherChannel` counts in one pass when they are read,
 * rather than one increment per radio per frame.
 */
export interface Hearers {
  byChannel: Map<number, { radios: Radio[]; rssi: number[] }>;
  /** Frames sent since the counts were last handed out, and how many of them on each channel. */
  pending: number;
  pendingOn: Map<number, number>;
}

interface SenderEntry {
  version: number;
  band: Band;
  txPowerDbm: number;
  /** Metres beyond which no radio of the band can hear it. */
  reachM: number;
  radios: Radio[];
  hearers: Hearers | null;
}

function sumCounts(a: NonDeliveries, b: NonDeliveries): NonDeliveries {
  return {
    outOfRange: a.outOfRange + b.outOfRange,
    otherChannel: a.otherChannel + b.otherChannel,
    filtered: a.filtered + b.filtered,
    offFiltered: a.offFiltered + b.offFiltered,
  };
}

export function channelKey(band: Band, page: number, channel: number): number {
  return (band === 'GB868' ? 1 << 12 : 0) | (page << 6) | channel;
}

const MARGIN = 1e-9;

class Grid {
  private readonly cells = new Map<number, Radio[]>();
  constructor(readonly cellM: number) {}

  private cellOf(p: Position): [number, number] {
    return [Math.floor(p.x / this.cellM), Math.floor(p.y / this.cellM)];
  }

  private static key(ix: number, iy: number): number {
    // ix, iy within +-2^25 cells: exact in a double.
    return (ix + 2 ** 25) * 2 ** 26 + (iy + 2 ** 25);
  }

  add(r: Radio): void {
    const [ix, iy] = this.cellOf(r.position);
    const k = Grid.key(ix, iy);
    const list = this.cells.get(k);
    if (list === undefined) this.cells.set(k, [r]);
    else list.push(r);
  }

  remove(r: Radio): void {
    const [ix, iy] = this.cellOf(r.position);
    const k = Grid.key(ix, iy);
    const list = this.cells.get(k);
    if (list === undefined) return;
    const i = list.indexOf(r);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.cells.delete(k);
  }

  /** Radios within `radiusM` of `p` (3-D distance), into `out`. */
  query(p: Position, radiusM: number, out: Radio[]): void {
    const [x0, y0] = this.cellOf({ x: p.x - radiusM, y: p.y - radiusM });
    const [x1, y1] = this.cellOf({ x: p.x + radiusM, y: p.y + radiusM });
    const take = (list: Radio[]) => {
      for (const r of list) if (distance(p, r.position) <= radiusM) out.push(r);
    };
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > this.cells.size) {
      // A reach wider than the occupied area: the occupied cells are fewer than the cells in reach.
      for (const list of this.cells.values()) take(list);
      return;
    }
    for (let ix = x0; ix <= x1; ix++)
      for (let iy = y0; iy <= y1; iy++) {
        const list = this.cells.get(Grid.key(ix, iy));
        if (list !== undefined) take(list);
      }
  }
}

/** The radios of each band by place, and the non-delivery counts. */
export class AirIndex {
  private readonly grids = new Map<Band, Grid | null>();
  /** Lowest sensitivity + receiver loss any radio of the band has had (never raised: a safe bound). */
  private readonly floorDbm = new Map<Band, number>();
  private readonly reachCache = new Map<string, number>();
  /** Frames that ended per channel key. */
  private readonly ended = new Map<number, number>();
  /** Counts of radios gone from the bus, by EUI64 (a radio may come back). */
  private readonly gone = new Map<string, NonDeliveries>();
  private mark = 0;
  /** Bumped whenever a grid or the bus's order changes: cached reaches are then stale. */
  private version = 0;
  /**
   * Per sender, kept while nothing came, left, retuned or changed band (radios do not move):
   * the radios its frames at `txPowerDbm` may reach, in the bus's order, and with a compact
   * trace who of them hears it. The reach depends only on the power, the sender's own loss
   * (fixed while registered) and the band's most sensitive radio (changed only with the
   * version), so the power keys it.
   */
  private readonly senders = new WeakMap<Radio, SenderEntry>();
  /** Hearers with frames whose `otherChannel` counts are not yet handed out. */
  private readonly pending = new Set<Hearers>();

  constructor(
    private readonly propagation: PropagationModel,
    private readonly defaults: Readonly<Record<Band, { txPowerDbm: number; sensitivityDbm: number }>>,
  ) {}

  private grid(band: Band): Grid | null {
    let g = this.grids.get(band);
    if (g === undefined) {
      const d = this.defaults[band];
      const reach = this.propagation.reachM?.(band, d.txPowerDbm - d.sensitivityDbm) ?? null;
      g = reach === null || !Number.isFinite(reach) ? null : new Grid(Math.max(reach, 1));
      this.grids.set(band, g);
    }
    return g;
  }

  /** Does `band` have an index (a model with a reach)? */
  indexed(band: Band): boolean {
    return this.grid(band) !== null;
  }

  add(r: Radio): void {
    this.version++;
    const floor = r.sensitivityDbm + r.lossDb;
    const f = this.floorDbm.get(r.band);
    if (f === undefined || floor < f) this.floorDbm.set(r.band, floor);
    this.grid(r.band)?.add(r);
    const key = channelKey(r.band, r.page, r.channel);
    r.hear = {
      key,
      base: this.ended.get(key) ?? 0,
      earlier: 0,
      own: 0,
      audible: 0,
      otherChannel: 0,
      filtered: 0,
      offFiltered: 0,
    };
  }

  remove(r: Radio): void {
    this.version++;
    this.grid(r.band)?.remove(r);
    const counts = this.counts(r);
    const had = this.gone.get(r.eui64);
    this.gone.set(r.eui64, had === undefined ? counts : sumCounts(had, counts));
  }

  /** `r` retuned, or switched band (`oldBand`): it moves grid, and its channel count starts afresh. */
  retuned(r: Radio, oldBand: Band): void {
    if (oldBand !== r.band) {
      this.version++;
      this.grid(oldBand)?.remove(r);
      const floor = r.sensitivityDbm + r.lossDb;
      const f = this.floorDbm.get(r.band);
      if (f === undefined || floor < f) this.floorDbm.set(r.band, floor);
      this.grid(r.band)?.add(r);
    }
    const h = r.hear;
    h.earlier += (this.ended.get(h.key) ?? 0) - h.base;
    const key = channelKey(r.band, r.page, r.channel);
    if (key !== h.key) this.version++; // who hears whom on which channel changed
    h.key = key;
    h.base = this.ended.get(h.key) ?? 0;
  }

  /** The sender's entry (`senders`), made anew when stale; null when the band has no index. */
  private sender(from: Radio, txPowerDbm: number, band: Band): SenderEntry | null {
    const c = this.senders.get(from);
    if (c !== undefined && c.version === this.version && c.band === band && c.txPowerDbm === txPowerDbm)
      return c;
    const g = this.grid(band);
    if (g === null) return null;
    const radios: Radio[] = [];
    const reachM = this.reachFor(from, txPowerDbm, band);
    g.query(from.position, reachM, radios);
    radios.sort((a, b) => a.order - b.order);
    const entry: SenderEntry = { version: this.version, band, txPowerDbm, reachM, radios, hearers: null };
    this.senders.set(from, entry);
    return entry;
  }

  /**
   * Metres beyond which no radio of `band` hears `from` at `txPowerDbm` (walls only add loss);
   * infinity when the band has no index.
   */
  reachOf(from: Radio, txPowerDbm: number, band: Band): number {
    return this.sender(from, txPowerDbm, band)?.reachM ?? Number.POSITIVE_INFINITY;
  }

  /**
   * The radios a frame from `from` at `txPowerDbm` on `band` may reach (marked with the
   * returned mark), in the bus's radio order; null when the band has no index. The list is
   * the sender's cached one (`senders`), so a street of radios that stay put costs no grid
   * query per frame; do not change it.
   */
  reachable(from: Radio, txPowerDbm: number, band: Band): { radios: Radio[]; mark: number } | null {
    const e = this.sender(from, txPowerDbm, band);
    if (e === null) return null;
    const mark = ++this.mark;
    for (const r of e.radios) r.reachMark = mark;
    return { radios: e.radios, mark };
  }

  /**
   * Who hears `from` at `txPowerDbm` on `band`, by channel (`Hearers`), `power(r)` giving the
   * received power at each radio within reach; null when the band has no index. A frame on
   * channel `key` is counted with `sent` (the radios on the others have heard it).
   */
  hearers(from: Radio, txPowerDbm: number, band: Band, power: (r: Radio) => number): Hearers | null {
    const e = this.sender(from, txPowerDbm, band);
    if (e === null) return null;
    if (e.hearers !== null) return e.hearers;
    const byChannel = new Map<number, { radios: Radio[]; rssi: number[] }>();
    for (const r of e.radios) {
      if (r === from || r.band !== band) continue;
      const rssi = power(r);
      if (rssi < r.sensitivityDbm) continue;
      const key = channelKey(r.band, r.page, r.channel);
      let group = byChannel.get(key);
      if (group === undefined) {
        group = { radios: [], rssi: [] };
        byChannel.set(key, group);
      }
      group.radios.push(r);
      group.rssi.push(rssi);
    }
    e.hearers = { byChannel, pending: 0, pendingOn: new Map() };
    return e.hearers;
  }

  /** A frame on channel `key` went to `h`'s radios: those on other channels heard it. */
  sent(h: Hearers, key: number): void {
    h.pending++;
    h.pendingOn.set(key, (h.pendingOn.get(key) ?? 0) + 1);
    this.pending.add(h);
  }

  /** Every counted frame's `otherChannel` to the radios that heard it on another channel. */
  private handOut(): void {
    for (const h of this.pending) {
      for (const [key, group] of h.byChannel) {
        const n = h.pending - (h.pendingOn.get(key) ?? 0);
        if (n > 0) for (const r of group.radios) r.hear.otherChannel += n;
      }
      h.pending = 0;
      h.pendingOn.clear();
    }
    this.pending.clear();
  }

  /** The reach of a frame from `from` at `txPowerDbm` on `band` (a band with a grid). */
  private reachFor(from: Radio, txPowerDbm: number, band: Band): number {
    const budget = txPowerDbm - from.lossDb - (this.floorDbm.get(band) ?? Number.POSITIVE_INFINITY);
    const ck = `${band}|${budget}`;
    let reach = this.reachCache.get(ck);
    if (reach === undefined) {
      const r = Number.isFinite(budget) ? (this.propagation.reachM?.(band, budget) ?? null) : 0;
      reach = r === null ? Number.POSITIVE_INFINITY : r * (1 + MARGIN) + 1e-6;
      this.reachCache.set(ck, reach);
    }
    return reach;
  }

  /** A frame on `key` ended; `sender` is still on the bus (`onIt`: and on that channel). */
  frameEnded(key: number, sender: Radio, onIt: boolean): void {
    this.ended.set(key, (this.ended.get(key) ?? 0) + 1);
    if (onIt && sender.hear.key === key) sender.hear.own++;
  }

  /** `r`'s counts so far (while on the bus). */
  counts(r: Radio): NonDeliveries {
    this.handOut();
    const h = r.hear;
    const onChannel = h.earlier + (this.ended.get(h.key) ?? 0) - h.base - h.own;
    return {
      outOfRange: onChannel - h.audible,
      otherChannel: h.otherChannel,
      filtered: h.filtered,
      offFiltered: h.offFiltered,
    };
  }

  /** Counts by EUI64: radios on the bus and radios gone (summed over their registrations). */
  all(registered: readonly Radio[]): Map<string, NonDeliveries> {
    const out = new Map<string, NonDeliveries>();
    for (const [eui, c] of this.gone) out.set(eui, { ...c });
    for (const r of registered) {
      const c = this.counts(r);
      const had = out.get(r.eui64);
      out.set(r.eui64, had === undefined ? c : sumCounts(had, c));
    }
    return out;
  }
}
