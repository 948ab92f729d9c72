/**
 * The NWK layer: frames out (header, NWK security with the persisted counter, first hop by the
 * role's routing), frames in (security and replay check, relay, delivery to APS), the NWK
 * commands (leave, rejoin) and the address map. NWK security is hop-by-hop as in ZigBee PRO:
 * a relay decrypts, checks and re-secures with its own counter.
 */
import type { ReceivedFrame } from '@gbhan/radio-bus';
import {
  decodeNwkFrame,
  encodeNwkFrame,
  MAC_BROADCAST_ADDRESS,
  type MacAddress,
  type MacFrame,
  NWK_BROADCAST_ALL,
  NWK_BROADCAST_ROUTERS,
  NWK_BROADCAST_RX_ON_WHEN_IDLE,
  type NwkCommand,
  type NwkPlainFrame,
  secureNwkFrame,
  unsecureNwkFrame,
} from '@gbhan/zigbee';
import type { MacTxStatus } from '../mac.js';
import type { NodeContext } from './context.js';
import type { NextHop } from './role.js';

const DEFAULT_RADIUS = 10;

/** A MAC command within the PAN, acknowledged (data request, association response). */
export function macCommand(
  pan: number,
  destination: MacAddress,
  source: MacAddress,
  command: Extract<MacFrame, { frameType: 'command' }>['command'],
): MacFrame {
  return {
    frameType: 'command',
    sequenceNumber: 0,
    framePending: false,
    ackRequest: true,
    panIdCompression: true,
    frameVersion: 0,
    destinationPan: pan,
    destination,
    source,
    command,
  };
}

export class NwkLayer {
  constructor(private readonly ctx: NodeContext) {}

  // ---------------------------------------------------------------- addresses

  lookupShort(eui64: string): number | undefined {
    const state = this.ctx.state;
    if (eui64 === state.net?.tcEui64) return 0x0000;
    return state.addressMap.get(eui64) ?? this.ctx.role.child(eui64)?.short;
  }

  euiOf(short: number): string | undefined {
    for (const [e, s] of this.ctx.state.addressMap) if (s === short) return e;
    return undefined;
  }

  // ---------------------------------------------------------------- transmit

  /** Next hop for a NWK destination: MAC address and whether to hold it for a sleepy child. */
  private nextHop(dest: number): NextHop | null {
    const net = this.ctx.state.net;
    if (!net) return null;
    if (dest >= 0xfff8) return { mac: MAC_BROADCAST_ADDRESS, indirect: false };
    return this.ctx.role.nextHop(dest, net);
  }

  macData(dest: number | string, payload: Uint8Array, pan: number, ackRequest: boolean): MacFrame {
    return {
      frameType: 'data',
      sequenceNumber: 0,
      framePending: false,
      ackRequest,
      panIdCompression: true,
      frameVersion: 0,
      destinationPan: pan,
      destination: dest,
      source: this.ctx.mac.shortAddress,
      payload,
    };
  }

  async macSendNwk(destShortNwk: number, nwkBytes: Uint8Array): Promise<MacTxStatus> {
    const net = this.ctx.state.net;
    const hop = this.nextHop(destShortNwk);
    if (!net || !hop) return 'no-ack';
    const broadcast = hop.mac === MAC_BROADCAST_ADDRESS;
    const frame = this.macData(hop.mac, nwkBytes, net.panId, !broadcast);
    const mac = this.ctx.mac;
    const r = hop.indirect ? await mac.sendIndirect(frame) : await mac.send(frame);
    return r.status;
  }

  header(dest: number, destIeee: string | undefined) {
    const ctx = this.ctx;
    const sequenceNumber = ctx.state.next('nwkSeq');
    return {
      protocolVersion: 2,
      discoverRoute: 0,
      endDeviceInitiator: false,
      destination: dest,
      source: ctx.mac.shortAddress,
      radius: DEFAULT_RADIUS,
      sequenceNumber,
      ...(destIeee !== undefined && dest < 0xfff8 ? { destinationIeee: destIeee } : {}),
      sourceIeee: ctx.eui64,
    };
  }

  /** NWK security level 5 with the extended nonce (§4.3.1.1); throws if the counter cannot be persisted. */
  secure(frame: NwkPlainFrame): Uint8Array {
    const state = this.ctx.state;
    const net = state.net!;
    return secureNwkFrame(frame, {
      key: state.networkKey!,
      frameCounter: state.nwkFc.take(), // persisted before use
      sourceEui64: this.ctx.eui64,
      keySequenceNumber: net.keySequenceNumber,
    });
  }

  /** The frame's bytes, secured or not; null (traced) when the frame counter could not be persisted. */
  private encodeOrReport(frame: NwkPlainFrame, secure: boolean): Uint8Array | null {
    try {
      return secure ? this.secure(frame) : encodeNwkFrame(frame);
    } catch (e) {
      this.ctx.emit({ type: 'send-failed', reason: 'nvm', detail: (e as Error).message });
      return null;
    }
  }

  async sendData(
    dest: number,
    destIeee: string | undefined,
    aps: Uint8Array,
    secure: boolean,
  ): Promise<MacTxStatus> {
    if (!this.ctx.state.net) return 'no-ack';
    const frame: NwkPlainFrame = {
      ...this.header(dest, destIeee),
      frameType: 'data',
      security: false,
      payload: aps,
    };
    const bytes = this.encodeOrReport(frame, secure);
    if (!bytes) return 'radio-refused';
    return this.macSendNwk(dest, bytes);
  }

  async sendCommand(dest: number, destIeee: string | undefined, command: NwkCommand): Promise<MacTxStatus> {
    const state = this.ctx.state;
    if (!state.net || !state.networkKey) return 'no-ack';
    const frame: NwkPlainFrame = {
      ...this.header(dest, destIeee),
      frameType: 'command',
      security: false,
      command,
    };
    const bytes = this.encodeOrReport(frame, true);
    if (!bytes) return 'radio-refused';
    return this.macSendNwk(dest, bytes);
  }

  /** The answer to a Beacon Request: a ZigBee beacon, its permit bits as given. */
  async sendBeacon(panCoordinator: boolean, permit: boolean): Promise<void> {
    const net = this.ctx.state.net!;
    await this.ctx.mac.send({
      frameType: 'beacon',
      sequenceNumber: 0,
      framePending: false,
      ackRequest: false,
      panIdCompression: false,
      frameVersion: 0,
      sourcePan: net.panId,
      source: net.short,
      superframe: {
        beaconOrder: 15,
        superframeOrder: 15,
        finalCapSlot: 15,
        batteryLifeExtension: false,
        panCoordinator,
        associationPermit: permit,
      },
      gtsPermit: false,
      gts: [],
      pendingShort: [],
      pendingExtended: [],
      zigbee: {
        protocolId: 0,
        stackProfile: 2,
        protocolVersion: 2,
        routerCapacity: permit,
        deviceDepth: panCoordinator ? 0 : 1,
        endDeviceCapacity: permit,
        extendedPanId: net.extendedPanId,
        txOffset: 0xffffff,
        nwkUpdateId: 0,
      },
    });
  }

  // ---------------------------------------------------------------- receive

  onFrame(f: Extract<MacFrame, { frameType: 'data' }>, rx: ReceivedFrame): void {
    const ctx = this.ctx;
    const ram = ctx.state;
    let decoded: ReturnType<typeof decodeNwkFrame>;
    try {
      decoded = decodeNwkFrame(f.payload);
    } catch (e) {
      ctx.drop('NWK', 'nwk-malformed', { detail: (e as Error).message });
      return;
    }
    let frame: NwkPlainFrame;
    let secured = false;
    /** The EUI64 that secured the frame (NWK auxiliary header source, §4.5.1). */
    let securedBy: string | undefined;
    if (decoded.security) {
      if (!ram.networkKey) {
        ctx.drop('NWK', 'nwk-no-network-key');
        return;
      }
      const src = decoded.aux.sourceAddress;
      if (!src) {
        ctx.drop('NWK', 'nwk-no-source-address');
        return;
      }
      try {
        frame = unsecureNwkFrame(f.payload, { key: ram.networkKey }).frame;
      } catch (e) {
        ctx.securityLog.record('nwk-authentication-failed', { from: src });
        ctx.drop('NWK', 'nwk-bad-mic', { from: src, detail: (e as Error).message });
        return;
      }
      // Incoming frame counter check per sender (§4.3.1.2 step 5): replays are dropped.
      const last = ram.nwkIncoming.get(src);
      if (last !== undefined && decoded.aux.frameCounter <= last) {
        ctx.securityLog.record('nwk-replay', { from: src, counter: decoded.aux.frameCounter });
        ctx.drop('NWK', 'nwk-replay', { from: src, counter: decoded.aux.frameCounter, last });
        return;
      }
      ram.nwkIncoming.set(src, decoded.aux.frameCounter);
      secured = true;
      securedBy = src;
    } else {
      // Unsecured NWK frames are accepted only while waiting for Transport Key.
      if (ram.joinState !== 'awaiting-key' || decoded.frameType !== 'data') {
        ctx.drop('NWK', 'nwk-unsecured', { source: decoded.source });
        return;
      }
      frame = decoded;
    }
    if (frame.sourceIeee) {
      ram.addressMap.set(frame.sourceIeee, frame.source);
      if (secured) ctx.role.onSecuredFrame(frame.sourceIeee, frame.source);
    }
    const myShort = ctx.mac.shortAddress;
    const dest = frame.destination;
    const forMe =
      dest === myShort ||
      dest === NWK_BROADCAST_ALL ||
      dest === NWK_BROADCAST_RX_ON_WHEN_IDLE ||
      (dest === NWK_BROADCAST_ROUTERS && ctx.capability.deviceType);
    if (!forMe) {
      if (dest < 0xfff8 && secured && ctx.role.relay(frame)) return;
      ctx.drop('NWK', 'nwk-not-for-me', { destination: dest });
      return;
    }
    if (frame.frameType === 'command') {
      this.onCommand(frame, secured, f.source, securedBy);
      return;
    }
    ctx.aps.onFrame(frame, secured, rx);
  }

  /**
   * NWK commands travel one hop (a leave's radius is 1, §3.4.4.2; a rejoin request goes to the
   * parent), so the MAC source, the NWK source and the device that secured the frame must be
   * one and the same: a network-key holder speaking in another's name is refused here unless
   * it forges every one of those fields (the limit of NWK group security, see README).
   */
  private onCommand(
    frame: Extract<NwkPlainFrame, { frameType: 'command' }>,
    secured: boolean,
    macSource: MacAddress | undefined,
    securedBy: string | undefined,
  ): void {
    const ctx = this.ctx;
    const c = frame.command;
    const from = frame.sourceIeee ?? this.euiOf(frame.source);
    const macOk = typeof macSource === 'number' ? macSource === frame.source : macSource === from;
    const securedOk = securedBy === undefined || from === undefined || securedBy === from;
    if (!macOk || !securedOk) {
      ctx.refuse('NWK', 'nwk-command-source-mismatch', {
        command: c.id,
        nwkSource: frame.source,
        macSource: macSource ?? 'none',
        claimed: from ?? 'unknown',
        securedBy: securedBy ?? 'none',
      });
      return;
    }
    switch (c.id) {
      case 'leave':
        if (c.request) this.onLeaveRequest(frame.source, from);
        else if (from) ctx.role.onChildLeave(from, frame.source);
        return;
      case 'rejoinRequest':
        if (from && secured) ctx.role.onRejoinRequest(from, frame.source, c.capability);
        return;
      case 'rejoinResponse':
        ctx.state.rejoin.settle('rejoin', { short: c.networkAddress, status: c.status });
        return;
      default:
        ctx.emit({ type: 'nwk-command-ignored', command: c.id });
    }
  }

  /**
   * An NWK Leave request (§3.6.1.10.3): acted on only if nwkLeaveRequestAllowed and it came
   * from our parent or the Trust Centre; otherwise refused and logged.
   */
  private onLeaveRequest(sourceShort: number, from: string | undefined): void {
    const ctx = this.ctx;
    const net = ctx.state.net;
    const fromParent =
      net !== null &&
      ((sourceShort === net.parentShort && (from === undefined || from === net.parentEui64)) ||
        (sourceShort === 0x0000 && (from === undefined || from === net.tcEui64)));
    if (!ctx.config.nwkLeaveRequestAllowed || !fromParent) {
      ctx.refuse('NWK', fromParent ? 'nwk-leave-request-not-allowed' : 'nwk-leave-not-from-parent', {
        by: from ?? sourceShort,
      });
      return;
    }
    ctx.emit({ type: 'leave-requested', by: from ?? sourceShort });
    void ctx.leave();
  }
}
