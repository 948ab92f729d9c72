/**
 * The device side of the bus: a radio that transmits PSDUs and receives them, and a clock
 * that only moves when the bus says so. After every bus message (and after anything the
 * device does on its own) the radio reports idle with its next timer, once the device's
 * handlers - including any promises they returned or holds they took - have settled.
 */
import { ManualClock, type Timer } from '@gbhan/clock';
import type { AddressFilter } from './address-filter.js';
import { PendingReplies } from './pending-replies.js';
import type { Band } from './phy.js';
import {
  type BusMessage,
  bytesFromBase64,
  type DutyCycleStateName,
  type LinkDoneStatus,
  PROTOCOL_VERSION,
  type TxStatus,
} from './protocol.js';
import type { ClientTransport } from './transport.js';

export interface RadioRegistration {
  eui64: string;
  band: Band;
  page: number;
  channel: number;
  position: { x: number; y: number; z?: number };
  txPowerDbm?: number;
  lossDb?: number;
  sensitivityDbm?: number;
  powered?: boolean;
  name?: string;
  /** The MAC's 802.15.4 address filter (`setAddressFilter` changes it). */
  filter?: AddressFilter;
}

export interface ReceivedFrame {
  psdu: Uint8Array;
  rssi: number;
  lqi: number;
  /** Virtual time of the first bit. */
  startUs: number;
  /** Virtual time of the last bit (= now when the handler runs). */
  endUs: number;
}

export interface TxResult {
  status: TxStatus;
  airtimeUs: number;
  /** Virtual time the transmission ended (or was refused). */
  t: number;
}

/** Bytes that arrived over a wired/IP link. */
export interface LinkMessage {
  link: string;
  /** The sending member's EUI64. */
  from: string;
  data: Uint8Array;
  /** Virtual time of arrival (= now when the handler runs). */
  t: number;
}

export interface LinkResult {
  status: LinkDoneStatus;
  /** Why it was dropped: a link drop reason, or `closed` (this radio left the bus first). */
  reason?: string;
  /** Virtual time it was delivered or dropped. */
  t: number;
}

/** A `tx` or `cca` the bus holds until `atUs` (`transmitAt`, `ccaAt`). */
export interface ScheduledAction {
  atUs: number;
  /** Withdraw it if it has not been applied yet (after: nothing). */
  cancel(): void;
}

export class BusClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BusClientError';
  }
}

/** The device's view of virtual time; setting a timer while idle tells the bus. */
class BusClock extends ManualClock {
  constructor(private readonly onChange: () => void) {
    super(0);
  }
  override setTimerAt(atUs: number, fn: () => void): Timer {
    const t = super.setTimerAt(atUs, fn);
    this.onChange();
    return t;
  }
}

type Handler<T> = (value: T) => void | Promise<void>;

export class BusRadio {
  readonly clock: BusClock;
  private txId = 0;
  private readonly pendingTx = new PendingReplies<(r: TxResult) => void>();
  private readonly pendingCca = new PendingReplies<(busy: boolean) => void>();
  private receiveHandlers: Handler<ReceivedFrame>[] = [];
  private dutyHandlers: Handler<{ state: DutyCycleStateName; percent: number }>[] = [];
  private closeHandlers: ((reason: string) => void)[] = [];
  private controlHandlers: Handler<Record<string, unknown>>[] = [];
  private linkHandlers: Handler<LinkMessage>[] = [];
  private linkId = 0;
  private readonly pendingLinks = new PendingReplies<(r: LinkResult) => void>();
  private wakeSeq = 0;
  private readonly pendingWakes = new Map<
    number,
    { resolve: (release: () => void) => void; reject: (e: Error) => void }
  >();
  private holds = 0;
  /** Bus messages taken (every type but `error`): sent with each idle so the bus can tell a stale one. */
  private received = 0;
  private owesIdle = false;
  private idleScheduled = false;
  private closedReason: string | null = null;
  private welcomed: (() => void) | null = null;
  private failed: ((e: Error) => void) | null = null;
  private lastError: { code: string; message: string } | null = null;

  private constructor(
    private readonly transport: ClientTransport,
    readonly registration: RadioRegistration,
  ) {
    this.clock = new BusClock(() => this.activity());
  }

  /** Connect, register and wait for the bus's welcome. */
  static connect(transport: ClientTransport, registration: RadioRegistration): Promise<BusRadio> {
    const radio = new BusRadio(transport, registration);
    return new Promise<BusRadio>((resolve, reject) => {
      radio.welcomed = () => resolve(radio);
      radio.failed = reject;
      transport.open(
        (m) => radio.onBusMessage(m),
        (reason) => radio.onClosed(reason),
      );
      transport.send({ type: 'hello', version: PROTOCOL_VERSION, ...registration });
    });
  }

  get eui64(): string {
    return this.registration.eui64;
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  onReceive(handler: Handler<ReceivedFrame>): void {
    this.receiveHandlers.push(handler);
  }

  onDutyCycle(handler: Handler<{ state: DutyCycleStateName; percent: number }>): void {
    this.dutyHandlers.push(handler);
  }

  /** Commands from the run's controller (a scenario timeline), delivered at their virtual time. */
  onControl(handler: Handler<Record<string, unknown>>): void {
    this.controlHandlers.push(handler);
  }

  /** Bytes arriving over the wired/IP links this radio is a member of. */
  onLink(handler: Handler<LinkMessage>): void {
    this.linkHandlers.push(handler);
  }

  /**
   * Send `data` (1..2048 octets) to member `to` over wired/IP link `link` (applied at the bus's
   * next barrier); resolves when it is delivered or dropped (virtual time: the arrival instant).
   */
  linkSend(link: string, to: string, data: Uint8Array): Promise<LinkResult> {
    const id = this.linkId++;
    this.post({ type: 'link-send', link, to, data: Buffer.from(data).toString('base64'), id });
    return new Promise((resolve) => this.pendingLinks.set(id, resolve));
  }

  /** Put a device event in the run's trace, stamped with the current virtual time. */
  trace(event: Record<string, unknown>): void {
    this.post({ type: 'trace', event });
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandlers.push(handler);
  }

  /** Put a PSDU (FCS included) on the air; resolves when it has been sent or refused. */
  transmit(psdu: Uint8Array): Promise<TxResult> {
    const id = this.txId++;
    this.post({ type: 'tx', id, psdu: Buffer.from(psdu).toString('base64') });
    return new Promise((resolve) => this.pendingTx.set(id, resolve));
  }

  /** Clear-channel assessment (carrier sense) at the current instant. */
  cca(): Promise<boolean> {
    const id = this.txId++;
    this.post({ type: 'cca', id });
    return new Promise((resolve) => this.pendingCca.set(id, resolve));
  }

  /**
   * Put a PSDU on the air at instant `atUs` (>= now) without this device being woken for it,
   * and without a confirmation: fire and forget, as a transceiver sends an acknowledgment.
   * Like a timer that transmits, but the bus holds it: two fewer lock-step rounds. Applied at
   * that instant before anything this radio sends at it. Returns what withdraws it if it has
   * not gone out yet.
   */
  transmitAt(psdu: Uint8Array, atUs: number): ScheduledAction {
    const id = this.txId++;
    this.post({ type: 'tx', id, psdu: Buffer.from(psdu).toString('base64'), at: atUs, confirm: false });
    return { atUs, cancel: () => this.withdraw(id, atUs) };
  }

  /**
   * Clear-channel assessment at instant `atUs` (>= now) without this device being woken until
   * the answer comes (a backoff then carrier sense). `cancel` withdraws it; `busy` then never
   * settles.
   */
  ccaAt(atUs: number): ScheduledAction & { busy: Promise<boolean> } {
    const id = this.txId++;
    this.post({ type: 'cca', id, at: atUs });
    const busy = new Promise<boolean>((resolve) => this.pendingCca.set(id, resolve));
    return {
      atUs,
      busy,
      cancel: () => {
        this.pendingCca.take(id);
        this.withdraw(id, atUs);
      },
    };
  }

  /** Tell the bus to drop scheduled action `id`, unless it has certainly been applied. */
  private withdraw(id: number, atUs: number): void {
    if (this.closedReason !== null || atUs < this.clock.now()) return;
    this.post({ type: 'cancel', id });
  }

  /**
   * Retune (applied at the bus's next barrier). With `band`, a dual-band radio moves to the
   * other band; the registration follows, so `registration` always says where the radio is.
   */
  setChannel(page: number, channel: number, band?: Band): void {
    const across = band !== undefined && band !== this.registration.band;
    this.post({ type: 'set-channel', page, channel, ...(across ? { band } : {}) });
    this.registration.page = page;
    this.registration.channel = channel;
    if (across) this.registration.band = band;
  }

  setPower(on: boolean): void {
    this.post({ type: 'power', on });
  }

  /**
   * Declare (or with null drop) the MAC's 802.15.4 address filter (applied at the bus's next
   * barrier): the bus then does not send frames the MAC would discard unread (address-filter.ts).
   */
  setAddressFilter(filter: AddressFilter | null): void {
    const same =
      filter === null
        ? this.registration.filter === undefined
        : this.registration.filter !== undefined &&
          this.registration.filter.panId === filter.panId &&
          this.registration.filter.shortAddress === filter.shortAddress &&
          this.registration.filter.extendedAddress === filter.extendedAddress;
    if (same) return;
    this.post({ type: 'set-filter', filter });
    if (filter === null) delete this.registration.filter;
    else this.registration.filter = { ...filter };
  }

  /** Keep the bus from advancing while asynchronous work is outstanding; call the result to release. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.activity();
    };
  }

  /**
   * Bring this device's clock to the bus's current instant (in real-time mode, the instant the
   * wall clock has reached) and run the timers due by then. For work that starts outside the
   * bus (a local endpoint) and must read the bus's time: resolves with a hold taken at that
   * instant (the bus does not move on until it is released); call it when done.
   */
  wake(): Promise<() => void> {
    if (this.closedReason !== null)
      return Promise.reject(new BusClientError('BUS_CLIENT_CLOSED', `radio closed: ${this.closedReason}`));
    const id = this.wakeSeq++;
    const answered = new Promise<() => void>((resolve, reject) =>
      this.pendingWakes.set(id, { resolve, reject }),
    );
    // Not through post(): a wake owes the bus no idle report, the answer will.
    this.transport.send({ type: 'wake', id });
    return answered;
  }

  close(): void {
    if (this.closedReason !== null) return;
    this.transport.send({ type: 'bye' });
    this.transport.close();
    this.onClosed('closed by device');
  }

  /** The error the bus reported before closing, if any. */
  get error(): { code: string; message: string } | null {
    return this.lastError;
  }

  private post(msg: Parameters<ClientTransport['send']>[0]): void {
    if (this.closedReason !== null)
      throw new BusClientError('BUS_CLIENT_CLOSED', `radio closed: ${this.closedReason}`);
    this.transport.send(msg);
    this.activity();
  }

  /** Something happened on this side: an idle report is owed once everything settles. */
  private activity(): void {
    this.owesIdle = true;
    if (this.idleScheduled || this.holds > 0 || this.closedReason !== null) return;
    this.idleScheduled = true;
    // setImmediate runs after every microtask, so promise chains started by handlers finish first.
    setImmediate(() => {
      this.idleScheduled = false;
      if (!this.owesIdle || this.holds > 0 || this.closedReason !== null) return;
      this.owesIdle = false;
      this.transport.send({ type: 'idle', next: this.clock.nextDue(), seen: this.received });
    });
  }

  private onBusMessage(msg: BusMessage): void {
    if (typeof msg !== 'object' || msg === null || typeof msg.t !== 'number') {
      this.onClosed('bus sent a malformed message');
      return;
    }
    if (msg.type !== 'error') this.received++;
    // Run every timer due up to and including the message's instant before handling it.
    if (msg.t >= this.clock.now()) this.clock.advanceTo(msg.t);
    switch (msg.type) {
      case 'welcome':
        this.welcomed?.();
        this.welcomed = null;
        break;
      case 'time':
        if (msg.wake !== undefined) this.woken(msg.wake);
        break;
      case 'rx': {
        const frame: ReceivedFrame = {
          psdu: bytesFromBase64(msg.psdu),
          rssi: msg.rssi,
          lqi: msg.lqi,
          startUs: msg.start,
          endUs: msg.t,
        };
        for (const h of this.receiveHandlers) this.track(h(frame));
        break;
      }
      case 'tx-done': {
        const resolve = this.pendingTx.take(msg.id);
        resolve?.({ status: msg.status, airtimeUs: msg.airtimeUs, t: msg.t });
        break;
      }
      case 'cca-result': {
        const resolve = this.pendingCca.take(msg.id);
        resolve?.(msg.busy);
        break;
      }
      case 'duty-cycle':
        for (const h of this.dutyHandlers) this.track(h({ state: msg.state, percent: msg.percent }));
        break;
      case 'control':
        for (const h of this.controlHandlers) this.track(h(msg.command));
        break;
      case 'link-rx': {
        const m: LinkMessage = {
          link: msg.link,
          from: msg.from,
          data: bytesFromBase64(msg.data),
          t: msg.t,
        };
        for (const h of this.linkHandlers) this.track(h(m));
        break;
      }
      case 'link-done': {
        const resolve = this.pendingLinks.take(msg.id);
        resolve?.({
          status: msg.status,
          ...(msg.reason === undefined ? {} : { reason: msg.reason }),
          t: msg.t,
        });
        break;
      }
      case 'error':
        this.lastError = { code: msg.code, message: msg.message };
        break;
      default:
        this.onClosed(`bus sent an unknown message type ${JSON.stringify((msg as { type: unknown }).type)}`);
        return;
    }
    this.activity();
  }

  /** The bus answered every `wake` up to `id`: each caller gets a hold taken at this instant. */
  private woken(id: number): void {
    for (const [n, w] of this.pendingWakes) {
      if (n > id) continue;
      this.pendingWakes.delete(n);
      w.resolve(this.hold());
    }
  }

  /** A handler that returned a promise holds the bus until it settles. */
  private track(result: void | Promise<void>): void {
    if (result instanceof Promise) {
      const release = this.hold();
      result.then(release, (err: unknown) => {
        release();
        queueMicrotask(() => {
          throw err;
        });
      });
    }
  }

  private onClosed(reason: string): void {
    if (this.closedReason !== null) return;
    const why = this.lastError ? `${this.lastError.code}: ${this.lastError.message}` : reason;
    this.closedReason = why;
    if (this.welcomed) {
      this.welcomed = null;
      this.failed?.(new BusClientError(this.lastError?.code ?? 'BUS_CLIENT_CLOSED', why));
    }
    for (const resolve of this.pendingTx.drain())
      resolve({ status: 'off', airtimeUs: 0, t: this.clock.now() });
    for (const resolve of this.pendingCca.drain()) resolve(true);
    for (const resolve of this.pendingLinks.drain())
      resolve({ status: 'dropped', reason: 'closed', t: this.clock.now() });
    for (const w of this.pendingWakes.values())
      w.reject(new BusClientError(this.lastError?.code ?? 'BUS_CLIENT_CLOSED', why));
    this.pendingWakes.clear();
    for (const h of this.closeHandlers) h(why);
  }
}
