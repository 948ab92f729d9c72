/**
 * The 802.15.4 MAC engine of a node (IEEE 802.15.4-2006 §7.5): one transmit queue with
 * unslotted CSMA-CA (§7.5.1.4), acknowledgment request / wait and retries (§7.5.6.4),
 * acknowledgments sent aTurnaroundTime after reception, duplicate rejection by sequence
 * number, indirect transmission for sleepy children (§7.5.6.3: frames held until the child
 * asks with a Data Request, the ack's Frame Pending bit tells it so; expiry after
 * macTransactionPersistenceTime) and data polls from a sleepy device. Every timing is virtual
 * time on the radio's clock and every random backoff comes from a seeded Prng, so the same
 * seed gives the same air. The bus holds each ack and each backoff's carrier sense (scheduled
 * actions), so the device is not woken for them.
 */
import type { Timer } from '@gbhan/clock';
import type { BusRadio, Prng, ReceivedFrame, ScheduledAction } from '@gbhan/radio-bus';
import {
  ackAirtimeUs,
  decodeMacFrame,
  encodeMacFrame,
  MAC_BROADCAST_ADDRESS,
  MAC_BROADCAST_PAN,
  type MacAddress,
  type MacFrame,
  type PhyProfile,
  turnaroundUs,
  unitBackoffUs,
  ZigbeeDecodeError,
} from '@gbhan/zigbee';
import { decodeErrorReason, frameDropped, type StackTraceEvent } from './trace-events.js';

/** §7.4.2 MAC PIB defaults used by ZigBee. */
export const MAC_MIN_BE = 3;
export const MAC_MAX_BE = 5;
export const MAC_MAX_CSMA_BACKOFFS = 4;
export const MAC_MAX_FRAME_RETRIES = 3;
/** aBaseSuperframeDuration in symbols (§7.4.1). */
export const A_BASE_SUPERFRAME_DURATION = 960;
/** macTransactionPersistenceTime default (0x01f4 unit periods of aBaseSuperframeDuration). */
export const MAC_TRANSACTION_PERSISTENCE_UNITS = 0x01f4;
/** macResponseWaitTime = 32 aBaseSuperframeDuration (§7.4.2). */
export const MAC_RESPONSE_WAIT_UNITS = 32;

export type MacTxStatus = 'sent' | 'no-ack' | 'channel-access-failure' | 'radio-refused' | 'expired';

export interface MacEngineOptions {
  radio: BusRadio;
  eui64: string;
  prng: Prng;
  phy: Readonly<PhyProfile>;
  /** false for a sleepy end device: its receiver is off except around its own exchanges. */
  rxOnWhenIdle: boolean;
  trace(event: StackTraceEvent): void;
  /** Every frame that passed filtering, FCS and duplicate checks (acks excepted). */
  onFrame(frame: Exclude<MacFrame, { frameType: 'ack' }>, rx: ReceivedFrame): void;
  /** Indirect frames expire after this long (default macTransactionPersistenceTime, 7.68 s at 2.4 GHz). */
  indirectExpiryUs?: number;
  /** Another listener on the radio wants every frame: declare no address filter to the bus. */
  promiscuous?: boolean;
}

interface TxJob {
  frame: MacFrame;
  resolve(r: { status: MacTxStatus; ack?: { framePending: boolean } }): void;
}

interface IndirectEntry {
  frame: MacFrame;
  timer: Timer;
  resolve(r: { status: MacTxStatus }): void;
}

function addressKey(a: MacAddress | undefined): string {
  return a === undefined ? '-' : typeof a === 'number' ? `s${a}` : `e${a}`;
}

export class MacEngine {
  private pan = MAC_BROADCAST_PAN;
  private short = MAC_BROADCAST_ADDRESS;
  private seq: number;
  private readonly queue: TxJob[] = [];
  private pumping = false;
  private awaitingAck: { seq: number; resolve(ack: { framePending: boolean } | null): void } | null = null;
  private readonly indirect = new Map<string, IndirectEntry[]>();
  private readonly lastSeq = new Map<string, number>();
  /**
   * Timers power off cancels. An array, not a Set: a Set gets a new table each time it empties,
   * and a MAC's does at every frame; in a street those tables outlive the young generation.
   */
  private readonly timers: Timer[] = [];
  /** Bumped on power off: work started before is abandoned. */
  private generation = 0;
  private powered = false;
  private radioOn = false;
  private awakeHolds = 0;
  private sleepCheck = false;
  /**
   * What the bus holds for us (a carrier sense after its backoff, an acknowledgment): power off
   * withdraws them. Few at a time; an entry is dropped once its instant has passed.
   */
  private readonly scheduled: ScheduledAction[] = [];
  /** Until when an acknowledgment we owe occupies the transceiver. */
  private ackBusyUntil = 0;
  /** The instant the acknowledgment we owe goes on the air (-1: none owed). */
  private ackAt = -1;
  /** Channel changes asked for while an acknowledgment is owed: applied once it is on the air. */
  private afterAck: (() => void)[] | null = null;
  private phy: Readonly<PhyProfile>;
  ackWaitUs = 0;
  responseWaitUs = 0;
  indirectExpiryUs = 0;

  constructor(private readonly o: MacEngineOptions) {
    this.seq = o.prng.nextUint32() & 0xff;
    this.phy = o.phy;
    this.setPhy(o.phy);
    o.radio.onReceive((rx) => this.receive(rx));
    this.declareFilter();
  }

  /** macPANId. */
  get panId(): number {
    return this.pan;
  }

  set panId(pan: number) {
    this.pan = pan;
    this.declareFilter();
  }

  /** macShortAddress. */
  get shortAddress(): number {
    return this.short;
  }

  set shortAddress(short: number) {
    this.short = short;
    this.declareFilter();
  }

  /**
   * Tell the bus what `isForMe` accepts, so it does not send this radio the frames it would
   * discard unread (most of a house's traffic); same rule, so nothing the MAC takes is held back.
   */
  private declareFilter(): void {
    if (this.o.promiscuous) return;
    this.o.radio.setAddressFilter({
      panId: this.pan,
      shortAddress: this.short,
      extendedAddress: this.o.eui64,
    });
  }

  /** The PHY the radio is tuned to; every MAC timing is counted in its symbols (a dual-band HHT switches). */
  setPhy(phy: Readonly<PhyProfile>): void {
    this.phy = phy;
    this.ackWaitUs = unitBackoffUs(phy) + turnaroundUs(phy) + ackAirtimeUs(phy);
    const superframeUs = A_BASE_SUPERFRAME_DURATION * phy.symbolPeriodUs;
    this.responseWaitUs = MAC_RESPONSE_WAIT_UNITS * superframeUs;
    this.indirectExpiryUs = this.o.indirectExpiryUs ?? MAC_TRANSACTION_PERSISTENCE_UNITS * superframeUs;
  }

  /**
   * Change channel (`apply` retunes the radio): at once, or, when an acknowledgment is owed,
   * right after it went out on the channel its frame came in on (§7.5.6.4.2: the ack follows
   * the frame by aTurnaroundTime, whatever the layers above decided on receiving it).
   */
  retune(apply: () => void): void {
    const now = this.o.radio.clock.now();
    if (now >= this.ackAt) {
      // At the ack's instant the bus sends it before anything we send then: retune at once.
      apply();
      return;
    }
    if (this.afterAck === null) {
      this.afterAck = [];
      this.timer(this.ackAt - now, () => {
        const deferred = this.afterAck ?? [];
        this.afterAck = null;
        for (const a of deferred) a();
      });
    }
    this.afterAck.push(apply);
  }

  get rxOnWhenIdle(): boolean {
    return this.o.rxOnWhenIdle;
  }

  /** Radio and MAC on (RAM state is fresh: queues empty). */
  powerOn(): void {
    this.powered = true;
    this.setRadio(true);
    this.maybeSleep();
  }

  /** Radio off; everything queued or held is lost (RAM). */
  powerOff(): void {
    this.generation++;
    this.powered = false;
    for (const t of this.timers) t.cancel();
    while (this.timers.length > 0) this.timers.pop();
    for (const a of this.scheduled) a.cancel();
    while (this.scheduled.length > 0) this.scheduled.pop();
    this.ackAt = -1;
    const jobs = this.queue.splice(0);
    for (const j of jobs) j.resolve({ status: 'radio-refused' });
    for (const list of this.indirect.values()) for (const e of list) e.resolve({ status: 'radio-refused' });
    this.indirect.clear();
    this.lastSeq.clear();
    this.awaitingAck?.resolve(null);
    this.awaitingAck = null;
    // No ack will go out now: channel changes waiting for one happen at once.
    const deferred = this.afterAck ?? [];
    this.afterAck = null;
    for (const apply of deferred) apply();
    this.awakeHolds = 0;
    this.sleepCheck = false;
    this.pumping = false;
    this.setRadio(false);
  }

  get isPowered(): boolean {
    return this.powered;
  }

  nextSequence(): number {
    this.seq = (this.seq + 1) & 0xff;
    return this.seq;
  }

  /** Wait `us` of virtual time (cancelled by power off: the promise then never resolves). */
  sleep(us: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.o.radio.clock.setTimer(Math.max(0, Math.round(us)), () => {
        this.forget(t);
        resolve();
      });
      this.timers.push(t);
    });
  }

  /** Set a timer that power off cancels. */
  timer(us: number, fn: () => void): Timer {
    const t = this.o.radio.clock.setTimer(Math.max(0, Math.round(us)), () => {
      this.forget(t);
      fn();
    });
    this.timers.push(t);
    return t;
  }

  /** Take `t` out of the timers power off cancels (swap with the last: their order is not used). */
  private forget(t: Timer): void {
    const i = this.timers.indexOf(t);
    if (i < 0) return;
    const last = this.timers.pop()!;
    if (i < this.timers.length) this.timers[i] = last;
  }

  /** Keep `a` for power off to withdraw, dropping those whose instant has passed. */
  private hold(a: ScheduledAction): void {
    const now = this.o.radio.clock.now();
    const list = this.scheduled;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.atUs >= now) continue;
      const last = list.pop()!;
      if (i < list.length) list[i] = last;
    }
    list.push(a);
  }

  /** Keep a sleepy device's receiver on until the returned function is called. */
  stayAwake(): () => void {
    this.awakeHolds++;
    this.setRadio(true);
    let done = false;
    const gen = this.generation;
    return () => {
      if (done || gen !== this.generation) return;
      done = true;
      this.awakeHolds--;
      this.maybeSleep();
    };
  }

  /** Queue a frame for CSMA-CA transmission (direct). */
  send(frame: MacFrame): Promise<{ status: MacTxStatus; ack?: { framePending: boolean } }> {
    if (!this.powered) return Promise.resolve({ status: 'radio-refused' });
    if (frame.frameType !== 'ack') frame.sequenceNumber = this.nextSequence();
    return new Promise((resolve) => {
      this.queue.push({ frame, resolve });
      this.setRadio(true);
      void this.pump();
    });
  }

  /** Hold a frame for a child that polls (§7.5.6.3); sent when it sends a Data Request. */
  sendIndirect(frame: MacFrame & { destination?: MacAddress }): Promise<{ status: MacTxStatus }> {
    if (!this.powered) return Promise.resolve({ status: 'radio-refused' });
    const key = addressKey(frame.destination);
    return new Promise((resolve) => {
      const list = this.indirect.get(key) ?? [];
      const entry: IndirectEntry = {
        frame,
        resolve,
        timer: this.timer(this.indirectExpiryUs, () => {
          const l = this.indirect.get(key);
          if (l) {
            const i = l.indexOf(entry);
            if (i >= 0) l.splice(i, 1);
            if (l.length === 0) this.indirect.delete(key);
          }
          this.o.trace({ type: 'mac-indirect-expired', to: key.slice(1) });
          resolve({ status: 'expired' });
        }),
      };
      list.push(entry);
      this.indirect.set(key, list);
    });
  }

  /** Frames held for a destination (for reports and tests). */
  pendingFor(dest: MacAddress): number {
    return this.indirect.get(addressKey(dest))?.length ?? 0;
  }

  private setRadio(on: boolean): void {
    if (on && !this.powered) return;
    if (on === this.radioOn) return;
    this.radioOn = on;
    // A closed radio (process mode: the bus went away) is off already; nothing to switch.
    if (!this.o.radio.closed) this.o.radio.setPower(on);
  }

  /**
   * A sleepy device's receiver goes off once nothing keeps it awake. Checked at the end of
   * the current instant (a 0 us timer), so a caller that continues the exchange (a poll that
   * saw Frame Pending) can take `stayAwake` first.
   */
  private maybeSleep(): void {
    if (this.o.rxOnWhenIdle || !this.powered || this.sleepCheck) return;
    this.sleepCheck = true;
    this.timer(0, () => {
      this.sleepCheck = false;
      if (this.queue.length === 0 && !this.pumping && this.awakeHolds === 0 && this.awaitingAck === null) {
        this.setRadio(false);
      }
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    const gen = this.generation;
    while (this.queue.length > 0 && gen === this.generation) {
      const job = this.queue.shift()!;
      const result = await this.transmitWithRetries(job.frame, gen);
      if (gen !== this.generation) return;
      job.resolve(result);
    }
    if (gen !== this.generation) return;
    this.pumping = false;
    this.maybeSleep();
  }

  /** Unslotted CSMA-CA (§7.5.1.4, Figure 68). */
  private async csma(gen: number): Promise<boolean> {
    let nb = 0;
    let be = MAC_MIN_BE;
    for (;;) {
      const periods = Math.floor(this.o.prng.next() * 2 ** be);
      // The backoff and the carrier sense at its end, held by the bus: no wake-up in between.
      const backoffUs = Math.max(0, Math.round(periods * unitBackoffUs(this.phy)));
      const cca = this.o.radio.ccaAt(this.o.radio.clock.now() + backoffUs);
      this.hold(cca);
      const busy = await cca.busy;
      if (gen !== this.generation) return false;
      if (!busy) return true;
      nb++;
      be = Math.min(be + 1, MAC_MAX_BE);
      if (nb > MAC_MAX_CSMA_BACKOFFS) return false;
    }
  }

  private async transmitWithRetries(
    frame: MacFrame,
    gen: number,
  ): Promise<{ status: MacTxStatus; ack?: { framePending: boolean } }> {
    let psdu: Uint8Array;
    try {
      psdu = encodeMacFrame(frame);
    } catch (e) {
      this.o.trace({ type: 'mac-encode-failed', error: (e as Error).message });
      return { status: 'radio-refused' };
    }
    const wantsAck = frame.frameType !== 'ack' && frame.frameType !== 'beacon' && frame.ackRequest;
    for (let attempt = 0; attempt <= (wantsAck ? MAC_MAX_FRAME_RETRIES : 0); attempt++) {
      if (!(await this.csma(gen))) {
        if (gen === this.generation) this.o.trace({ type: 'mac-channel-access-failure' });
        return { status: 'channel-access-failure' };
      }
      // An acknowledgment we owe goes first (the transceiver sends it aTurnaroundTime after reception).
      while (this.o.radio.clock.now() < this.ackBusyUntil) {
        await this.sleep(this.ackBusyUntil - this.o.radio.clock.now());
        if (gen !== this.generation) return { status: 'radio-refused' };
      }
      const ackPromise = wantsAck
        ? new Promise<{ framePending: boolean } | null>((resolve) => {
            this.awaitingAck = { seq: frame.sequenceNumber, resolve };
          })
        : null;
      const r = await this.o.radio.transmit(psdu);
      if (gen !== this.generation) return { status: 'radio-refused' };
      if (r.status !== 'sent') {
        this.awaitingAck = null;
        return { status: 'radio-refused' };
      }
      if (!ackPromise) return { status: 'sent' };
      const waitTimer = this.timer(this.ackWaitUs, () => {
        const w = this.awaitingAck;
        this.awaitingAck = null;
        w?.resolve(null);
      });
      const ack = await ackPromise;
      waitTimer.cancel();
      this.forget(waitTimer);
      if (gen !== this.generation) return { status: 'radio-refused' };
      if (ack) return { status: 'sent', ack };
    }
    this.o.trace({ type: 'mac-no-ack', seq: frame.sequenceNumber, to: describe(frame) });
    return { status: 'no-ack' };
  }

  private isForMe(f: Exclude<MacFrame, { frameType: 'ack' }>): boolean {
    if (f.destination === undefined) return f.frameType === 'beacon';
    const pan = f.destinationPan;
    if (pan !== MAC_BROADCAST_PAN && pan !== this.panId) return false;
    if (typeof f.destination === 'number') {
      return f.destination === MAC_BROADCAST_ADDRESS || f.destination === this.shortAddress;
    }
    return f.destination === this.o.eui64;
  }

  private receive(rx: ReceivedFrame): void {
    if (!this.powered || !this.radioOn) return;
    let f: MacFrame;
    try {
      f = decodeMacFrame(rx.psdu);
    } catch (e) {
      const reason = e instanceof ZigbeeDecodeError ? decodeErrorReason('MAC', e.code) : 'mac-undecodable';
      this.o.trace(frameDropped('MAC', reason, { detail: (e as Error).message }));
      return;
    }
    if (f.frameType === 'ack') {
      const w = this.awaitingAck;
      if (w && w.seq === f.sequenceNumber) {
        this.awaitingAck = null;
        w.resolve({ framePending: f.framePending });
      }
      return;
    }
    if (!this.isForMe(f)) return;
    const unicast =
      f.destination !== undefined && f.destination !== MAC_BROADCAST_ADDRESS && f.frameType !== 'beacon';
    let pending = false;
    if (f.frameType === 'command' && f.command.id === 'dataRequest') {
      pending = (this.indirect.get(addressKey(f.source))?.length ?? 0) > 0;
    }
    if (unicast && f.ackRequest) {
      const ack = encodeMacFrame({
        frameType: 'ack',
        sequenceNumber: f.sequenceNumber,
        framePending: pending,
        frameVersion: 0,
      });
      const now = this.o.radio.clock.now();
      this.ackBusyUntil = now + turnaroundUs(this.phy) + ackAirtimeUs(this.phy);
      // Held by the bus until aTurnaroundTime has passed: no wake-up for it, no confirmation.
      this.ackAt = now + Math.max(0, Math.round(turnaroundUs(this.phy)));
      this.hold(this.o.radio.transmitAt(ack, this.ackAt));
    }
    // Duplicate rejection (§7.5.6.4.3 / §7.2.1.2): same source, same sequence number.
    if (unicast) {
      const key = `${addressKey(f.source)}:${f.frameType}`;
      if (this.lastSeq.get(key) === f.sequenceNumber) {
        this.o.trace(frameDropped('MAC', 'mac-duplicate', { seq: f.sequenceNumber }));
        return;
      }
      this.lastSeq.set(key, f.sequenceNumber);
    }
    if (f.frameType === 'command' && f.command.id === 'dataRequest') {
      if (pending) this.releaseIndirect(addressKey(f.source));
    }
    this.o.onFrame(f, rx);
  }

  /** A child polled: send its oldest held frame (Frame Pending set if more remain). */
  private releaseIndirect(key: string): void {
    const list = this.indirect.get(key);
    const entry = list?.shift();
    if (!list || !entry) return;
    if (list.length === 0) this.indirect.delete(key);
    entry.timer.cancel();
    this.forget(entry.timer);
    const frame = entry.frame;
    if (frame.frameType !== 'ack') frame.framePending = list.length > 0;
    void this.send(frame).then((r) => entry.resolve({ status: r.status }));
  }
}

function describe(f: MacFrame): string {
  if (f.frameType === 'ack') return 'ack';
  return f.destination === undefined
    ? '-'
    : typeof f.destination === 'number'
      ? `0x${f.destination.toString(16)}`
      : f.destination;
}
