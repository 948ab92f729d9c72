/**
 * Active scan (802.15.4 §7.5.2.1.2, NLME-NETWORK-DISCOVERY): a Beacon Request on each channel,
 * then listen for the scan duration; every ZigBee beacon heard is kept. Used by a join and by
 * `activeScan` (an HHT listing the CHs around it), whatever the node's role.
 */
import type { ReceivedFrame } from '@gbhan/radio-bus';
import { MAC_BROADCAST_ADDRESS, MAC_BROADCAST_PAN, type MacFrame, phyForPage } from '@gbhan/zigbee';
import type { Beacon, ChannelSpec } from './config.js';
import type { NodeContext } from './context.js';
import type { NodeState } from './state.js';

export class Scanner {
  constructor(private readonly ctx: NodeContext) {}

  /**
   * One active scan (Beacon Request on each channel, scan duration each) without joining:
   * every ZigBee beacon heard (an HHT lists the CHs by EPID). Not while joined or joining;
   * the radio is left on the last channel scanned.
   */
  async activeScan(channels: readonly ChannelSpec[] = this.ctx.channels): Promise<Beacon[]> {
    const ctx = this.ctx;
    const ram = ctx.state;
    if (!ctx.powered || ram.joinState !== 'idle' || ram.joined) return [];
    ram.joinState = 'scanning';
    ram.beacons = [];
    const release = ctx.mac.stayAwake();
    try {
      await this.scanChannels(ram, channels, ctx.config.scanDuration ?? 3);
    } finally {
      release();
      if (ctx.state === ram) ram.joinState = 'idle';
    }
    return ctx.state === ram ? [...ram.beacons] : [];
  }

  /** Beacon Request on each channel, then listen scan duration n; false if powered off meanwhile. */
  async scanChannels(ram: NodeState, channels: readonly ChannelSpec[], n: number): Promise<boolean> {
    const ctx = this.ctx;
    for (const ch of channels) {
      ctx.retune(ch.page, ch.channel);
      const phy = phyForPage(ch.page);
      await ctx.mac.send({
        frameType: 'command',
        sequenceNumber: 0,
        framePending: false,
        ackRequest: false,
        panIdCompression: false,
        frameVersion: 0,
        destinationPan: MAC_BROADCAST_PAN,
        destination: MAC_BROADCAST_ADDRESS,
        command: { id: 'beaconRequest' },
      });
      // §7.5.2.1.2: aBaseSuperframeDuration * (2^n + 1) symbols per channel.
      await ctx.mac.sleep(960 * (2 ** n + 1) * phy.symbolPeriodUs);
      if (ctx.state !== ram) return false;
    }
    return true;
  }

  /** A beacon heard: kept while scanning, if it is a ZigBee beacon with a short source. */
  onBeacon(f: Extract<MacFrame, { frameType: 'beacon' }>, rx: ReceivedFrame): void {
    const ctx = this.ctx;
    if (
      ctx.state.joinState !== 'scanning' ||
      !f.zigbee ||
      typeof f.source !== 'number' ||
      f.sourcePan === undefined
    )
      return;
    ctx.state.beacons.push({
      pan: f.sourcePan,
      short: f.source,
      extendedPanId: f.zigbee.extendedPanId,
      page: ctx.radio.registration.page,
      channel: ctx.radio.registration.channel,
      lqi: rx.lqi,
      permit: f.superframe.associationPermit && f.zigbee.endDeviceCapacity,
      ...(f.source === 0 ? { eui64: f.zigbee.extendedPanId } : {}),
    });
  }
}
