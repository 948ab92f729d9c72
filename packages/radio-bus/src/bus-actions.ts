/**
 * The actions radios send (tx, cca, cancel, set-channel, power, trace, link-send): bounded as
 * they arrive, and applied at the barrier; a `tx` or `cca` with `at` is scheduled there and
 * applied at the first barrier of its instant.
 *
 * The bounds are the bus's defence against a client that keeps working at one instant (it
 * would hold time there) or never idles (its queue would grow without end). Applying every
 * radio's actions at the barrier, radios in EUI64 order and each radio's in arrival order, is
 * what makes a run independent of the order messages arrived in over the sockets.
 */
import type { BusState, Radio, ScheduledEvent } from './bus-state.js';
import { DutyCycleMeter } from './duty-cycle.js';
import { type Band, isValidChannel } from './phy.js';
import type { ClientMessage } from './protocol.js';

export class BusActions {
  constructor(
    private readonly s: BusState,
    /** Actions one radio may send at one virtual instant (0 = no limit). */
    private readonly maxActionsPerInstant: number,
    /** Actions one radio may have waiting for the barrier (0 = no limit). */
    private readonly maxPendingActions: number,
  ) {}

  /**
   * Count one more action of `radio` and drop the radio if it is past a bound: one that keeps
   * working at an instant would hold time there, one that never idles would grow its queue.
   */
  overLimits(radio: Radio): boolean {
    const s = this.s;
    if (radio.actionsAt !== s.now) {
      radio.actionsAt = s.now;
      radio.actionsAtInstant = 0;
    }
    radio.actionsAtInstant++;
    if (this.maxPendingActions > 0 && radio.actions.length >= this.maxPendingActions) {
      s.links.reportError(
        radio.port,
        'BUS_ACTION_BACKLOG',
        `more than ${this.maxPendingActions} actions without an idle report`,
      );
      return true;
    }
    if (this.maxActionsPerInstant > 0 && radio.actionsAtInstant > this.maxActionsPerInstant) {
      s.links.reportError(
        radio.port,
        'BUS_INSTANT_LIMIT',
        `more than ${this.maxActionsPerInstant} actions at t=${s.now}`,
      );
      return true;
    }
    return false;
  }

  /**
   * Apply queued client actions in EUI64 order, then each radio's in arrival order. Only the
   * radios with actions are visited (`BusState.acting`), sorted by the bus's order.
   */
  applyAll(): boolean {
    const acting = this.s.acting;
    if (acting.size === 0) return false;
    const radios = [...acting];
    acting.clear();
    if (radios.length > 1) radios.sort((a, b) => a.order - b.order);
    let any = false;
    for (const radio of radios) {
      if (radio.actions.length === 0) continue;
      any = true;
      // The same array is emptied (by pop, which keeps its store), not replaced: a fresh one per
      // radio and barrier would live until that radio's next action and, in a street, be promoted
      // out of the young generation.
      const actions = radio.actions;
      for (let i = 0; i < actions.length; i++) {
        if (!this.s.isRegistered(radio)) break;
        this.apply(radio, actions[i]!);
      }
      while (actions.length > 0) actions.pop();
    }
    return any;
  }

  private apply(radio: Radio, a: ClientMessage): void {
    const s = this.s;
    switch (a.type) {
      case 'tx':
        if (a.at !== undefined) this.schedule(radio, a.at, a);
        else s.air.startTransmission(radio, a.id, a.psdu, a.confirm !== false);
        return;
      case 'cca':
        if (a.at !== undefined) this.schedule(radio, a.at, a);
        else s.links.send(radio, { type: 'cca-result', t: s.now, id: a.id, busy: s.air.channelBusy(radio) });
        return;
      case 'cancel':
        s.withdraw(radio, a.id);
        return;
      case 'set-channel': {
        const band = a.band ?? radio.band;
        if (!isValidChannel(band, a.page, a.channel)) {
          s.links.reportError(
            radio.port,
            'BUS_BAD_CHANNEL',
            `page ${a.page} channel ${a.channel} is not on band ${band}`,
          );
          return;
        }
        const oldBand = radio.band;
        if (band !== radio.band) this.switchBand(radio, band);
        radio.page = a.page;
        radio.channel = a.channel;
        radio.channelSince = s.now;
        s.air.retuned(radio, oldBand);
        s.emit({
          t: s.now,
          type: 'channel',
          radio: radio.eui64,
          page: a.page,
          channel: a.channel,
          ...(a.band === undefined ? {} : { band }),
        });
        return;
      }
      case 'set-filter':
        radio.filter = a.filter;
        return;
      case 'link-send':
        s.netLinks.send(radio, a);
        return;
      case 'trace':
        s.emit({ t: s.now, type: 'device', radio: radio.eui64, event: a.event });
        return;
      case 'power':
        if (radio.powered === a.on) return;
        radio.powered = a.on;
        radio.poweredSince = s.now;
        s.emit({ t: s.now, type: 'power', radio: radio.eui64, on: a.on });
        return;
      default:
        return;
    }
  }

  /**
   * A `tx` or `cca` for instant `at`: queued as a bus event, so the radio need not be woken
   * for it. Bounded like the actions waiting for a barrier.
   */
  private schedule(radio: Radio, at: number, a: ScheduledEvent['action']): void {
    const s = this.s;
    if (at < s.now) {
      s.links.reportError(
        radio.port,
        'BUS_SCHEDULE_PAST',
        `${a.type} scheduled at t=${at}, before t=${s.now}`,
      );
      return;
    }
    if (this.maxPendingActions > 0 && radio.scheduled.length >= this.maxPendingActions) {
      s.links.reportError(
        radio.port,
        'BUS_ACTION_BACKLOG',
        `more than ${this.maxPendingActions} scheduled actions waiting`,
      );
      return;
    }
    s.schedule(radio, at, a);
  }

  /**
   * A dual-band radio moves to the other band: that band's propagation model and PHY timing,
   * its default tx power and sensitivity unless hello gave them. The GB868 duty-cycle meter
   * stays with the transmitter, so time spent on 2.4 GHz does not reset the rolling hour.
   */
  private switchBand(radio: Radio, band: Band): void {
    const { bandModels, timings, dutyThresholds } = this.s.settings;
    const model = bandModels[band];
    radio.band = band;
    radio.model = model;
    radio.timing = timings[band];
    if (!radio.explicitTxPower) radio.txPowerDbm = model.defaultTxPowerDbm;
    if (!radio.explicitSensitivity) radio.sensitivityDbm = model.defaultSensitivityDbm;
    if (band === 'GB868') radio.duty ??= new DutyCycleMeter(dutyThresholds);
  }
}
