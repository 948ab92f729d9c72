/**
 * The radio bus's side of its connections: a Port per client, registration (`hello`), the
 * dispatch of client messages, sending to a radio (with the unread-backlog bound), protocol
 * errors, and taking a radio off the bus.
 *
 * Kept apart from the lock-step because it is where a client can misbehave: every check that
 * ends in a BUS_* error and a dropped connection, and every way a radio leaves, is here, and
 * none of them moves time.
 */
import { performance } from 'node:perf_hooks';
import type { BusLink, RadioBus } from './bus.js';
import type { BusState, Radio } from './bus-state.js';
import { DutyCycleMeter } from './duty-cycle.js';
import { isValidChannel } from './phy.js';
import {
  type BusErrorCode,
  type BusMessage,
  BusProtocolError,
  type ClientMessage,
  type HelloMessage,
  PROTOCOL_VERSION,
  parseClientMessage,
} from './protocol.js';

/** One attached client. `receive` takes decoded-but-unvalidated messages. */
export class Port {
  radio: Radio | null = null;
  closed = false;
  constructor(
    private readonly bus: RadioBus,
    readonly link: BusLink,
  ) {}

  /** A message from the client (a parsed JSON value, not yet validated). */
  receive(value: unknown): void {
    if (this.closed) return;
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(value);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.bus.handle(this, msg);
  }

  /** Report a protocol error to this client and disconnect it. */
  fail(error: unknown): void {
    if (this.closed) return;
    const code: BusErrorCode = error instanceof BusProtocolError ? error.code : 'BUS_MALFORMED';
    const message = error instanceof Error ? error.message : String(error);
    this.bus.reportError(this, code, message);
  }

  /** The transport went away (socket closed, process died). */
  detached(reason = 'disconnected'): void {
    if (this.closed) return;
    this.closed = true;
    this.bus.detach(this, reason);
  }
}

export class BusConnections {
  constructor(
    private readonly s: BusState,
    /** Bytes of bus messages a client may leave unread before it is dropped (0 = no limit). */
    private readonly maxSendBacklogBytes: number,
  ) {}

  /** A validated message from `port`'s client. */
  handle(port: Port, msg: ClientMessage): void {
    const radio = port.radio;
    if (msg.type === 'hello') {
      this.register(port, msg);
      return;
    }
    if (radio === null) {
      this.reportError(port, 'BUS_NOT_REGISTERED', `${msg.type} before hello`);
      return;
    }
    switch (msg.type) {
      case 'idle':
        // Stale: the client has not taken every message sent to it yet; its next idle follows.
        if (msg.seen !== undefined && msg.seen < radio.sent) return;
        this.s.setNext(radio, msg.next);
        if (radio.awaiting) {
          radio.awaiting = false;
          this.s.awaitingCount--;
        }
        this.s.lockStep.kick();
        return;
      case 'wake':
        // Not an action and not awaiting: the radio stays idle (its device may hold it while it
        // waits for the answer), and the answer goes out at the next barrier (answerWakes).
        radio.wakeId = Math.max(radio.wakeId ?? 0, msg.id);
        this.s.wakers.add(radio);
        this.s.lockStep.kick();
        return;
      case 'bye':
        this.close(port, 'bye');
        return;
      default:
        // tx, cca, cancel, set-channel, power, trace, link-send: applied at the next barrier, in
        // EUI64 order (a `tx` or `cca` with `at` is scheduled there, and applied when due).
        if (this.s.actions.overLimits(radio)) return;
        this.s.queueAction(radio, msg);
        this.markAwaiting(radio);
    }
  }

  private register(port: Port, msg: HelloMessage): void {
    const s = this.s;
    if (port.radio !== null) {
      this.reportError(port, 'BUS_ALREADY_REGISTERED', `already registered as ${port.radio.eui64}`);
      return;
    }
    if (msg.version !== PROTOCOL_VERSION) {
      this.reportError(
        port,
        'BUS_VERSION',
        `protocol version ${msg.version} not supported (this bus speaks ${PROTOCOL_VERSION})`,
      );
      return;
    }
    if (s.byEui.has(msg.eui64)) {
      this.reportError(port, 'BUS_DUPLICATE_EUI64', `${msg.eui64} is already on the bus`);
      return;
    }
    if (!isValidChannel(msg.band, msg.page, msg.channel)) {
      this.reportError(
        port,
        'BUS_BAD_CHANNEL',
        `page ${msg.page} channel ${msg.channel} is not on band ${msg.band}`,
      );
      return;
    }
    const model = s.settings.bandModels[msg.band];
    const radio: Radio = {
      eui64: msg.eui64,
      name: msg.name,
      port,
      order: -1,
      reachMark: 0,
      hear: { key: 0, base: 0, earlier: 0, own: 0, audible: 0, otherChannel: 0, filtered: 0, offFiltered: 0 },
      filter: msg.filter ?? null,
      awaitingAck: -1,
      slot: s.air.acquireSlot(),
      band: msg.band,
      page: msg.page,
      channel: msg.channel,
      position: msg.position,
      txPowerDbm: msg.txPowerDbm ?? model.defaultTxPowerDbm,
      lossDb: msg.lossDb ?? 0,
      sensitivityDbm: msg.sensitivityDbm ?? model.defaultSensitivityDbm,
      explicitTxPower: msg.txPowerDbm !== undefined,
      explicitSensitivity: msg.sensitivityDbm !== undefined,
      powered: msg.powered ?? true,
      model,
      timing: s.settings.timings[msg.band],
      awaiting: false,
      awaitingSinceWall: 0,
      sent: 0,
      next: null,
      timerSlot: -1,
      actions: [],
      scheduled: [],
      channelSince: s.now,
      poweredSince: s.now,
      txIntervals: [],
      duty: msg.band === 'GB868' ? new DutyCycleMeter(s.settings.dutyThresholds) : null,
      dutyRecheckAt: null,
      wakeAt: -1,
      wakesAtInstant: 0,
      actionsAt: -1,
      actionsAtInstant: 0,
      wakeId: null,
      wokenAt: -1,
    };
    port.radio = radio;
    s.byEui.set(radio.eui64, radio);
    s.insertSorted(radio);
    s.air.addRadio(radio);
    s.emit({
      t: s.now,
      type: 'attach',
      radio: radio.eui64,
      ...(radio.name === undefined ? {} : { name: radio.name }),
      band: radio.band,
      page: radio.page,
      channel: radio.channel,
      position: radio.position,
    });
    this.send(radio, { type: 'welcome', version: PROTOCOL_VERSION, t: s.now, eui64: radio.eui64 });
    s.wall.anchorPacing();
  }

  /** Report a protocol error to `port`'s client (and the trace) and disconnect it. */
  reportError(port: Port, code: BusErrorCode, message: string): void {
    this.s.emit({ t: this.s.now, type: 'error', radio: port.radio?.eui64 ?? null, code, message });
    try {
      port.link.send({ type: 'error', t: this.s.now, code, message });
    } finally {
      this.close(port, code);
    }
  }

  /** Take `port` off the bus for `reason` and close its connection. */
  close(port: Port, reason: string): void {
    port.closed = true;
    this.detach(port, reason);
    port.link.close();
  }

  /** The client is gone: take it out of the lock-step so time keeps moving. */
  detach(port: Port, reason: string): void {
    const s = this.s;
    s.ports.delete(port);
    const radio = port.radio;
    if (radio !== null && s.isRegistered(radio)) {
      if (radio.awaiting) {
        radio.awaiting = false;
        s.awaitingCount--;
      }
      s.byEui.delete(radio.eui64);
      s.withdraw(radio, null);
      s.wakers.delete(radio);
      s.acting.delete(radio);
      s.timers.remove(radio);
      s.setSorted(s.sorted.filter((r) => r !== radio));
      s.air.removeRadio(radio);
      s.air.retire(radio);
      s.emit({ t: s.now, type: 'detach', radio: radio.eui64, reason });
    }
    s.lockStep.kick();
  }

  markAwaiting(radio: Radio): void {
    if (!radio.awaiting) {
      radio.awaiting = true;
      this.s.awaitingCount++;
      radio.awaitingSinceWall = performance.now();
      // No watchdog running means no other radio is awaiting: this deadline is the earliest.
      this.s.wall.armWatchdog();
    }
  }

  /** Send `msg` to `radio`, which then awaits until it reports idle. */
  send(radio: Radio, msg: BusMessage): void {
    // A radio dropped earlier in this barrier must not be counted as awaiting again.
    if (radio.port.closed) return;
    this.markAwaiting(radio);
    const link = radio.port.link;
    radio.sent++;
    link.send(msg);
    if (this.maxSendBacklogBytes > 0 && link.backlogBytes !== undefined) {
      const backlog = link.backlogBytes();
      if (backlog > this.maxSendBacklogBytes) {
        this.reportError(
          radio.port,
          'BUS_SEND_BACKLOG',
          `${backlog} bytes unread (more than ${this.maxSendBacklogBytes})`,
        );
        // It does not read: a closing handshake would keep the backlog for the close timeout.
        link.abort?.();
      }
    }
  }
}
