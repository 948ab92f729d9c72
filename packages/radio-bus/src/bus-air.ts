/**
 * The air of the radio bus: transmissions from start to end, who hears each frame (or why
 * not), carrier sense, received power through the propagation model and its path-loss cache,
 * and the GB868 duty cycle each transmission counts against.
 *
 * It is the only part of the bus that draws from the PRNG (loss, shadowing), so the order of
 * its calls (receivers in EUI64 order) is part of what makes a run repeat byte for byte.
 */
import { filterAccepts, readFilterHeader } from './address-filter.js';
import { AirIndex, channelKey, type NonDeliveries } from './air-index.js';
import type { BusState, JammerConfig, Radio, Transmission } from './bus-state.js';
import { distance, lqiFor, type Position } from './medium.js';
import { PathLossTable } from './path-loss-table.js';
import { airtimeUs, type Band, type PhyTiming } from './phy.js';
import { Prng } from './prng.js';
import type { InterferenceModel, PathEnd, PropagationModel } from './propagation.js';
import { bytesFromBase64 } from './protocol.js';
import type { DropReason } from './trace.js';

export interface AirConfig {
  seed: number | string;
  propagation: PropagationModel;
  interference: InterferenceModel;
  /** Probability that a frame a receiver would otherwise get is lost (0..1). */
  lossRate: number;
  timings: Record<Band, PhyTiming>;
  /**
   * `full`: every non-delivery traced, also to radios out of range or on another channel;
   * `compact`: those two only counted per radio (`nonDeliveries()`).
   */
  trace: 'full' | 'compact';
}

/** Is `j` (a jammer or a transmission) on the band, page and channel of `x`? */
function sameChannel(
  j: { band: Band; page: number; channel: number },
  x: { band: Band; page: number; channel: number },
): boolean {
  return j.band === x.band && j.page === x.page && j.channel === x.channel;
}

export class BusAir {
  private frameSeq = 0;
  private readonly prng: Prng;
  private readonly propagation: PropagationModel;
  private readonly interference: InterferenceModel;
  private readonly lossRate: number;
  /**
   * Frames on the air or ended within the longest airtime, per channel (channelKey), in the
   * order they went on the air: overlap and carrier sense only ever look at one channel, so a
   * city on 16 channels does not make every check walk the other 15.
   */
  private readonly onAir = new Map<number, Transmission[]>();
  private readonly pathLoss: PathLossTable;
  /** Radios gone from the bus whose frames are still on the air: their path losses are kept until then. */
  private retiring: Radio[] = [];
  private maxAirtime = 0;
  private readonly index: AirIndex;
  private readonly fullTrace: boolean;

  constructor(
    private readonly s: BusState,
    c: AirConfig,
  ) {
    this.prng = new Prng(c.seed);
    for (const b of ['2.4GHz', 'GB868'] as const) {
      this.maxAirtime = Math.max(this.maxAirtime, airtimeUs(c.timings[b].maxPsduBytes, c.timings[b]));
    }
    this.propagation = c.propagation;
    this.pathLoss = new PathLossTable(this.propagation.reciprocal);
    this.lossRate = c.lossRate;
    this.interference = c.interference;
    this.fullTrace = c.trace === 'full';
    const { bandModels } = s.settings;
    const d = (b: Band) => ({
      txPowerDbm: bandModels[b].defaultTxPowerDbm,
      sensitivityDbm: bandModels[b].defaultSensitivityDbm,
    });
    this.index = new AirIndex(this.propagation, { '2.4GHz': d('2.4GHz'), GB868: d('GB868') });
  }

  /** A radio registered: into the index. */
  addRadio(radio: Radio): void {
    this.index.add(radio);
  }

  /** A radio left: out of the index, its counts kept under its EUI64. */
  removeRadio(radio: Radio): void {
    this.index.remove(radio);
  }

  /** A radio changed channel (and perhaps band, from `oldBand`). */
  retuned(radio: Radio, oldBand: Band): void {
    this.index.retuned(radio, oldBand);
  }

  /** Per radio (EUI64): frames on its channel it could not hear, frames it heard on another channel. */
  nonDeliveries(): Map<string, NonDeliveries> {
    return this.index.all(this.s.sorted);
  }

  /** A path-loss slot for a radio joining the bus. */
  acquireSlot(): number {
    return this.pathLoss.acquire();
  }

  /** `radio` left the bus: free its path-loss slot once none of its frames is on the air. */
  retire(radio: Radio): void {
    this.retiring.push(radio);
    this.releaseRetired();
  }

  /** `confirm` false: no `tx-done`, whether it was sent or refused (`tx` with `confirm: false`). */
  startTransmission(radio: Radio, txId: number, psduB64: string, confirm: boolean): void {
    const s = this.s;
    const psdu = bytesFromBase64(psduB64);
    if (psdu.length > radio.timing.maxPsduBytes || psdu.length === 0) {
      s.links.reportError(
        radio.port,
        'BUS_PSDU_TOO_LONG',
        `PSDU of ${psdu.length} bytes (1..${radio.timing.maxPsduBytes} allowed)`,
      );
      return;
    }
    const airtime = airtimeUs(psdu.length, radio.timing);
    const refuse = (status: 'busy' | 'off' | 'duty-cycle') => {
      if (confirm) s.links.send(radio, { type: 'tx-done', t: s.now, id: txId, status, airtimeUs: 0 });
    };
    if (!radio.powered) {
      refuse('off');
      return;
    }
    const lastEnd = radio.txIntervals[radio.txIntervals.length - 1];
    if (lastEnd !== undefined && lastEnd > s.now) {
      refuse('busy');
      return;
    }
    const duty = radio.band === 'GB868' ? radio.duty : null;
    if (duty?.wouldExceed(s.now, airtime)) {
      s.emit({
        t: s.now,
        type: 'drop',
        radio: null,
        from: radio.eui64,
        frame: null,
        reason: 'duty-cycle',
      });
      this.updateDutyState(radio, s.now, airtime);
      refuse('duty-cycle');
      return;
    }
    const tx: Transmission = {
      frame: this.frameSeq++,
      from: radio,
      txId,
      confirm,
      band: radio.band,
      page: radio.page,
      channel: radio.channel,
      start: s.now,
      end: s.now + airtime,
      txPowerDbm: radio.txPowerDbm,
      psdu,
      psduBase64: psduB64,
      header: readFilterHeader(psdu),
    };
    if (tx.header.ackRequest && tx.header.frameType !== 2) radio.awaitingAck = tx.header.sequenceNumber;
    radio.txIntervals.push(tx.start, tx.end);
    const key = channelKey(tx.band, tx.page, tx.channel);
    const list = this.onAir.get(key);
    if (list === undefined) this.onAir.set(key, [tx]);
    else list.push(tx);
    s.emit({
      t: s.now,
      type: 'tx',
      radio: radio.eui64,
      frame: tx.frame,
      band: tx.band,
      page: tx.page,
      channel: tx.channel,
      bytes: psdu.length,
      airtimeUs: airtime,
      psdu: Buffer.from(psdu).toString('hex'),
    });
    for (const l of s.frameListeners) {
      l({ timeUs: tx.start, psdu, page: tx.page, channel: tx.channel, source: radio.eui64 });
    }
    if (duty !== null) {
      duty.record(s.now, airtime);
      this.updateDutyState(radio, tx.end, 0);
    }
    s.push({ t: tx.end, kind: 'tx-end', tx });
  }

  /** The frame `tx` has ended: deliver it to every radio that hears it, then confirm to its sender. */
  endTransmission(tx: Transmission): void {
    const s = this.s;
    const horizon = s.now - this.maxAirtime;
    const key = channelKey(tx.band, tx.page, tx.channel);
    let onChannel = this.onAir.get(key);
    if (onChannel === undefined) {
      onChannel = [];
      this.onAir.set(key, onChannel);
    }
    keepInPlace(onChannel, (o) => o.end >= horizon || o === tx);
    if (this.retiring.length > 0) this.releaseRetired();
    const overlapping = this.interferers(
      tx,
      onChannel.filter((o) => o !== tx && o.start < tx.end && o.end > tx.start),
    );
    const activeJammers = s.jammers.filter(
      (j) => sameChannel(j, tx) && j.startUs < tx.end && j.endUs > tx.start,
    );
    const senderOnBus = s.isRegistered(tx.from);
    this.index.frameEnded(key, tx.from, senderOnBus);
    // A compact trace with an index: only the radios on the frame's channel that hear it are
    // visited; those on other channels have their counts handed out in bulk (air-index.ts).
    const hearers = this.fullTrace
      ? null
      : this.index.hearers(tx.from, tx.txPowerDbm, tx.band, (r) =>
          this.receivedPower(tx.from, r, tx.txPowerDbm, tx.band),
        );
    if (hearers !== null) {
      this.index.sent(hearers, key);
      const group = hearers.byChannel.get(key);
      if (group !== undefined)
        for (let i = 0; i < group.radios.length; i++)
          this.receive(tx, group.radios[i]!, group.rssi[i]!, overlapping, activeJammers);
      this.confirm(tx, horizon);
      return;
    }
    // With an index and a full trace: every radio (those beyond reach are below sensitivity
    // without asking the model). Without an index: every radio, its power asked each time.
    const reach = this.index.reachable(tx.from, tx.txPowerDbm, tx.band);
    const receivers = reach === null || this.fullTrace ? s.sorted : reach.radios;
    for (const r of receivers) {
      if (r === tx.from || r.band !== tx.band) continue;
      const onChannel = r.page === tx.page && r.channel === tx.channel;
      if (reach !== null && r.reachMark !== reach.mark) {
        if (onChannel && this.fullTrace) this.drop(tx, r, 'out-of-range');
        continue;
      }
      const rssi = this.receivedPower(tx.from, r, tx.txPowerDbm, tx.band);
      const audible = rssi >= r.sensitivityDbm;
      if (!audible) {
        if (onChannel && this.fullTrace) this.drop(tx, r, 'out-of-range');
        continue;
      }
      if (!onChannel) {
        r.hear.otherChannel++;
        if (this.fullTrace) this.drop(tx, r, 'wrong-channel');
        continue;
      }
      this.receive(tx, r, rssi, overlapping, activeJammers);
    }
    this.confirm(tx, horizon);
  }

  /** `r`, on `tx`'s channel, heard it at `rssi`: deliver it, or trace why not. */
  private receive(
    tx: Transmission,
    r: Radio,
    rssi: number,
    overlapping: Transmission[],
    activeJammers: readonly JammerConfig[],
  ): void {
    const s = this.s;
    r.hear.audible++;
    let reason: DropReason | null = null;
    if (r.channelSince > tx.start) reason = 'wrong-channel';
    else if (!r.powered || r.poweredSince > tx.start) reason = 'receiver-off';
    else if (transmitting(r.txIntervals, tx.start, tx.end)) reason = 'receiver-busy';
    else if (activeJammers.some((j) => this.powerAt(j.position, j.txPowerDbm, r, j.band) >= r.sensitivityDbm))
      reason = 'jammed';
    else if (this.collides(rssi, r, overlapping)) reason = 'collision';
    else if (this.lossRate > 0 && this.prng.next() < this.lossRate) reason = 'loss';
    if (reason !== null) {
      if (
        reason === 'receiver-off' &&
        r.filter !== null &&
        !filterAccepts(r.filter, r.awaitingAck, tx.header)
      ) {
        // Asleep, and its MAC would not have read it anyway: counted, traced only in full.
        r.hear.offFiltered++;
        if (!this.fullTrace) return;
      }
      this.drop(tx, r, reason);
      return;
    }
    // Heard intact, but its MAC would discard it unread: counted, not sent (address-filter.ts).
    if (r.filter !== null && !filterAccepts(r.filter, r.awaitingAck, tx.header)) {
      r.hear.filtered++;
      if (this.fullTrace) this.drop(tx, r, 'address-filtered');
      return;
    }
    const lqi = lqiFor(rssi, r.sensitivityDbm, r.model);
    s.emit({
      t: s.now,
      type: 'rx',
      radio: r.eui64,
      from: tx.from.eui64,
      frame: tx.frame,
      rssi: round1(rssi),
      lqi,
    });
    s.links.send(r, {
      type: 'rx',
      t: s.now,
      start: tx.start,
      psdu: tx.psduBase64,
      rssi: Math.round(rssi),
      lqi,
    });
  }

  /** The sender's own confirmation, once the frame has gone to its hearers. */
  private confirm(tx: Transmission, horizon: number): void {
    const s = this.s;
    const from = tx.from;
    pruneIntervals(from.txIntervals, horizon);
    if (tx.confirm && s.isRegistered(from)) {
      s.links.send(from, {
        type: 'tx-done',
        t: s.now,
        id: tx.txId,
        status: 'sent',
        airtimeUs: tx.end - tx.start,
      });
    }
  }

  /**
   * The overlapping frames that can matter at any receiver of `tx`: with an interference
   * model that needs an audible interferer, on a band with a reach, a frame whose sender is
   * farther from `tx`'s sender than their two reaches together cannot be heard where `tx` is
   * (triangle inequality). Dropping it changes no outcome and draws nothing (a band with a
   * reach has no shadowing), and a city's channel stops weighing frames from the whole street.
   */
  private interferers(tx: Transmission, overlapping: Transmission[]): Transmission[] {
    if (overlapping.length === 0 || this.interference.audibleOnly !== true) return overlapping;
    const reachTx = this.index.reachOf(tx.from, tx.txPowerDbm, tx.band);
    if (reachTx === Number.POSITIVE_INFINITY) return overlapping;
    return overlapping.filter(
      (o) =>
        distance(o.from.position, tx.from.position) <=
        reachTx + this.index.reachOf(o.from, o.txPowerDbm, o.band),
    );
  }

  private collides(rssi: number, r: Radio, overlapping: Transmission[]): boolean {
    for (const o of overlapping) {
      if (o.from === r) continue;
      const other = this.receivedPower(o.from, r, o.txPowerDbm, o.band);
      if (this.interference.destroys(rssi, other, r.sensitivityDbm)) return true;
    }
    return false;
  }

  private drop(tx: Transmission, r: Radio, reason: DropReason): void {
    this.s.emit({
      t: this.s.now,
      type: 'drop',
      radio: r.eui64,
      from: tx.from.eui64,
      frame: tx.frame,
      reason,
    });
  }

  /** Carrier sense: is any audible frame or jammer on this radio's channel right now? */
  channelBusy(r: Radio): boolean {
    const now = this.s.now;
    for (const o of this.onAir.get(channelKey(r.band, r.page, r.channel)) ?? []) {
      if (o.from === r) continue;
      // Beyond the sender's reach: below sensitivity without asking (a band with a reach draws no shadowing).
      if (distance(o.from.position, r.position) > this.index.reachOf(o.from, o.txPowerDbm, o.band)) continue;
      if (
        o.start <= now &&
        o.end > now &&
        this.receivedPower(o.from, r, o.txPowerDbm, o.band) >= r.sensitivityDbm
      )
        return true;
    }
    return this.s.jammers.some(
      (j) =>
        sameChannel(j, r) &&
        j.startUs <= now &&
        j.endUs > now &&
        this.powerAt(j.position, j.txPowerDbm, r, j.band) >= r.sensitivityDbm,
    );
  }

  /** Received power at `to` from `from` (dBm), shadowing drawn per call when the model has it. */
  private receivedPower(from: Radio, to: Radio, txPowerDbm: number, band: Band): number {
    let loss = from.slot < 0 || to.slot < 0 ? Number.NaN : this.pathLoss.get(band, from.slot, to.slot);
    if (Number.isNaN(loss)) {
      loss = this.propagation.pathLossDb(from, to, band);
      if (Number.isNaN(loss)) throw new Error(`propagation model ${this.propagation.name}: path loss NaN`);
      if (from.slot >= 0 && to.slot >= 0) this.pathLoss.set(band, from.slot, to.slot, loss);
    }
    const shadow = this.propagation.shadowingDb(from, to, band, this.prng);
    return txPowerDbm - loss - from.lossDb - to.lossDb + shadow;
  }

  /** Received power at `to` from a jammer at `position` (no shadowing, not cached). */
  private powerAt(position: Position, txPowerDbm: number, to: Radio, band: Band): number {
    const jammer: PathEnd = { eui64: null, position };
    return txPowerDbm - this.propagation.pathLossDb(jammer, to, band) - to.lossDb;
  }

  /** Free the path-loss slots of radios gone from the bus once none of their frames is on the air. */
  private releaseRetired(): void {
    const horizon = this.s.now - this.maxAirtime;
    this.retiring = this.retiring.filter((r) => {
      for (const list of this.onAir.values())
        if (list.some((o) => o.from === r && o.end >= horizon)) return true;
      this.pathLoss.release(r.slot);
      r.slot = -1;
      return false;
    });
  }

  // ---- duty cycle -------------------------------------------------------------------------

  private updateDutyState(radio: Radio, at: number, extra: number): void {
    const s = this.s;
    const duty = radio.duty;
    if (duty === null) return;
    const percent = duty.percent(at, extra);
    const state = duty.stateFor(percent);
    if (state !== duty.state) {
      duty.state = state;
      const p = Math.round(percent * 1000) / 1000;
      s.emit({ t: s.now, type: 'duty-cycle', radio: radio.eui64, state, percent: p });
      if (s.isRegistered(radio)) s.links.send(radio, { type: 'duty-cycle', t: s.now, state, percent: p });
    }
    const expiry = duty.nextExpiry();
    if (duty.state !== 'normal' && expiry !== null && radio.dutyRecheckAt === null) {
      radio.dutyRecheckAt = expiry;
      s.push({ t: expiry, kind: 'duty-recheck', radio });
    }
  }

  /** A duty-cycle state may have expired: re-evaluate it now. */
  dutyRecheck(radio: Radio): void {
    radio.dutyRecheckAt = null;
    this.updateDutyState(radio, this.s.now, 0);
  }
}

/**
 * Keep the items of `list` that pass, in order, in the same array. The air's lists belong to
 * objects that live the whole run (a channel, a radio): a filtered copy per frame would outlive
 * the young generation in a street and be promoted, garbage the old space then has to collect.
 * Shortened by pop, which keeps the array's store (`length = 0` would drop it, and the next push
 * would allocate another).
 */
function keepInPlace<T>(list: T[], keep: (item: T) => boolean): void {
  let n = 0;
  for (let i = 0; i < list.length; i++) {
    const item = list[i]!;
    if (keep(item)) list[n++] = item;
  }
  while (list.length > n) list.pop();
}

/** Drop the (start, end) pairs of `flat` that ended before `horizon`, in place (keepInPlace). */
function pruneIntervals(flat: number[], horizon: number): void {
  let n = 0;
  for (let i = 0; i < flat.length; i += 2) {
    if (flat[i + 1]! < horizon) continue;
    flat[n++] = flat[i]!;
    flat[n++] = flat[i + 1]!;
  }
  while (flat.length > n) flat.pop();
}

/** Does any (start, end) pair of `flat` overlap [start, end)? */
function transmitting(flat: readonly number[], start: number, end: number): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i]! < end && flat[i + 1]! > start) return true;
  return false;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
