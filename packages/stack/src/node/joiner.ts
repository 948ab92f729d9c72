/**
 * The joiner's role (router, end device, sleepy end device): join through association
 * (05-3474 §3.6.1.4.1) and Transport Key, secured rejoin (§3.6.1.4.2), the NWK Leave it sends,
 * partner link keys asked of the Trust Centre, and the coordinator's hooks as no-ops.
 *
 * Topology (ASSUMPTION, see README): a star around the coordinator. Every device joins the
 * coordinator directly (routers answer beacon requests but do not accept children).
 */
import { type ApsCommand, MAC_BROADCAST_PAN, NWK_BROADCAST_RX_ON_WHEN_IDLE, toHex } from '@gbhan/zigbee';
import type { PartnerKeyResult, SendStatus } from '../host.js';
import type { MacTxStatus } from '../mac.js';
import { GbAlertCode } from '../security-log.js';
import type { ChildEntry } from '../trust-centre.js';
import type { Beacon, JoinResult } from './config.js';
import type { NodeContext } from './context.js';
import type { Pending } from './pending.js';
import { dataRequest, FAST_POLL_US, POLL_WINDOW_US } from './poller.js';
import type { MacCommandFrame, NetworkKeyTransport, NextHop, Role } from './role.js';
import type { AddressAnswer, NetworkRecord, NodeState } from './state.js';

export class JoinerRole implements Role {
  readonly discoversAddresses = true;

  constructor(private readonly ctx: NodeContext) {}

  powerUp(): void {}

  /** Power on: with a network in NVM, a secured rejoin; otherwise out until `join()`. */
  start(net: NetworkRecord | null): JoinResult | 'not-joined' | Promise<JoinResult> {
    if (net) {
      this.ctx.restoreNetwork(net, false);
      return this.rejoin();
    }
    this.ctx.setNwkState('not-joined');
    return 'not-joined';
  }

  powerOff(): void {}

  // ---------------------------------------------------------------- join

  /**
   * Join through association (05-3474 §3.6.1.4.1): active scan over the channel list, parent
   * selection, MAC association, then wait for Transport Key under the preconfigured link key.
   */
  async join(): Promise<JoinResult> {
    const ctx = this.ctx;
    if (!ctx.powered) return 'powered-off';
    if (ctx.state.joined || ctx.state.joinState !== 'idle') return 'busy';
    const ram = ctx.state;
    const result = await this.joinSteps(ram);
    if (ctx.state !== ram) return 'powered-off';
    ram.joinState = 'idle';
    if (result === 'joined') {
      ctx.securityLog.record('join-succeeded', { pan: ram.net?.panId ?? 0 }, GbAlertCode.joinSucceeded);
    } else {
      ctx.securityLog.record('join-failed', { reason: result }, GbAlertCode.joinFailed);
      ctx.resetState();
      ctx.setNwkState('not-joined');
    }
    return result;
  }

  private async joinSteps(ram: NodeState): Promise<JoinResult> {
    const ctx = this.ctx;
    if (!ctx.preconfiguredKey) {
      ctx.emit({ type: 'join-failed', reason: 'no-preconfigured-link-key' });
      return 'no-key';
    }
    ram.joinState = 'scanning';
    ctx.setNwkState('scanning');
    const release = ctx.mac.stayAwake();
    const n = ctx.config.scanDuration ?? 3;
    ram.beacons = [];
    // ASSUMPTION: up to 3 active scans (beacons from several routers can collide on air).
    for (let scan = 0; scan < 3 && !ram.beacons.some((b) => this.suitable(b)); scan++)
      if (!(await ctx.scanner.scanChannels(ram, ctx.channels, n))) return 'powered-off';
    release();
    // Parent selection (§3.6.1.4.1.1): EPID match if configured, association permitted, best LQI.
    const candidates = ram.beacons
      .filter((b) => this.suitable(b))
      .sort((a, b) => b.lqi - a.lqi || a.short - b.short);
    ctx.emit({ type: 'scan-done', beacons: ram.beacons.length, candidates: candidates.length });
    const parent = candidates[0];
    if (!parent) return 'no-network';
    ram.joinState = 'associating';
    ctx.setNwkState('associating');
    ctx.retune(parent.page, parent.channel);
    ctx.mac.panId = parent.pan;
    const assoc = await this.associate(ram, parent);
    if (ctx.state !== ram) return 'powered-off';
    if (assoc?.status !== 0) {
      ctx.emit({ type: 'join-refused', by: parent.eui64 ?? parent.short, status: assoc?.status ?? null });
      return assoc ? 'refused' : 'no-network';
    }
    ram.net = {
      panId: parent.pan,
      extendedPanId: parent.extendedPanId,
      short: assoc.short,
      page: parent.page,
      channel: parent.channel,
      networkKey: '',
      keySequenceNumber: 0,
      parentEui64: parent.eui64 ?? null,
      parentShort: parent.short,
      tcEui64: null,
    };
    ctx.mac.shortAddress = assoc.short;
    ram.joinState = 'awaiting-key';
    ctx.setNwkState('awaiting-key');
    const timeoutUs = ctx.config.transportKeyTimeoutUs ?? 5_000_000;
    const gotKey = await this.waitFor(ram, ram.networkKeyArrival, 'network-key', timeoutUs, false);
    if (ctx.state !== ram) return 'powered-off';
    if (!gotKey) {
      ctx.emit({ type: 'join-failed', reason: 'transport-key-timeout' });
      return 'no-key';
    }
    await this.becomeJoined(ram, 'joined');
    return 'joined';
  }

  private suitable(b: Beacon): boolean {
    const epid = this.ctx.epidFilter;
    return b.permit && (epid === undefined || b.extendedPanId === epid);
  }

  /** Wait for an answer, polling the parent meanwhile when sleepy. */
  private async waitFor<K, V>(
    ram: NodeState,
    pending: Pending<K, V>,
    key: K,
    timeoutUs: number,
    onTimeout: V,
  ): Promise<V> {
    const ctx = this.ctx;
    ram.fastPoll = true;
    const answer = pending.request(key, timeoutUs, onTimeout);
    if (!ctx.mac.rxOnWhenIdle) ctx.poller.schedule(ram, ctx.mac.responseWaitUs);
    const result = await answer;
    ram.fastPoll = false;
    return result;
  }

  /** MAC association (§7.5.3.1): the request, then the response extracted with Data Requests. */
  private associate(ram: NodeState, parent: Beacon): Promise<AddressAnswer | null> {
    const ctx = this.ctx;
    const answer = ram.association.wait('association');
    const waiting = () => ram.association.has('association');
    void (async () => {
      const r = await ctx.mac.send({
        frameType: 'command',
        sequenceNumber: 0,
        framePending: false,
        ackRequest: true,
        panIdCompression: false,
        frameVersion: 0,
        destinationPan: parent.pan,
        destination: parent.short,
        sourcePan: MAC_BROADCAST_PAN,
        source: ctx.eui64,
        command: { id: 'associationRequest', capability: ctx.capability },
      });
      if (r.status !== 'sent') return void ram.association.settle('association', null);
      // §7.5.3.1: wait macResponseWaitTime, then extract the response with a Data Request.
      for (let attempt = 0; attempt < 3 && waiting(); attempt++) {
        await ctx.mac.sleep(attempt === 0 ? ctx.mac.responseWaitUs : FAST_POLL_US);
        if (!waiting() || ctx.state !== ram) return;
        const release = ctx.mac.stayAwake();
        const p = await ctx.mac.send(dataRequest(parent.pan, parent.short, ctx.eui64));
        if (p.status === 'sent' && p.ack?.framePending) await ctx.mac.sleep(POLL_WINDOW_US);
        release();
      }
      ram.association.settle('association', null);
    })();
    return answer;
  }

  /** Secured NWK rejoin (§3.6.1.4.2) from the network state in NVM. */
  async rejoin(): Promise<JoinResult> {
    const ctx = this.ctx;
    const ram = ctx.state;
    const net = ram.net;
    if (!ctx.powered || !net || !ram.networkKey || net.parentShort === null) return 'no-network';
    if (ram.joinState !== 'idle') return 'busy';
    ram.joinState = 'rejoining';
    ctx.setNwkState('rejoining');
    let response: AddressAnswer | null = null;
    for (let attempt = 0; attempt < 3 && response === null; attempt++) {
      const wait = this.waitFor(ram, ram.rejoin, 'rejoin', 2_000_000, null);
      const sent = await ctx.nwk.sendCommand(net.parentShort, net.parentEui64 ?? undefined, {
        id: 'rejoinRequest',
        capability: ctx.capability,
      });
      if (sent !== 'sent') ram.rejoin.settle('rejoin', null);
      response = await wait;
      if (ctx.state !== ram) return 'powered-off';
    }
    ram.joinState = 'idle';
    if (response?.status !== 0) {
      ctx.emit({ type: 'rejoin-failed', status: response?.status ?? null });
      ctx.securityLog.record('rejoin-failed', { status: response?.status ?? -1 }, GbAlertCode.joinFailed);
      ctx.setNwkState('not-joined');
      return response ? 'refused' : 'no-network';
    }
    net.short = response.short;
    ctx.mac.shortAddress = response.short;
    await this.becomeJoined(ram, 'rejoined');
    ctx.securityLog.record('rejoin-succeeded', { short: response.short }, GbAlertCode.joinSucceeded);
    return 'joined';
  }

  private async becomeJoined(ram: NodeState, how: 'joined' | 'rejoined'): Promise<void> {
    const ctx = this.ctx;
    ram.joined = true;
    ctx.persistNetwork();
    ctx.setNwkState('joined');
    ctx.emit({ type: how, panId: ram.net?.panId, short: ram.net?.short, parent: ram.net?.parentEui64 });
    if (!ctx.mac.rxOnWhenIdle) ctx.poller.schedule(ram, ctx.config.pollPeriodUs ?? 1_000_000);
    await ctx.zdo.sendDeviceAnnce();
    void ctx.securityLog.flush();
  }

  /** Transport Key of the network key (§4.6.3.2.1): the end of a join, while awaiting it. */
  onNetworkKey(c: NetworkKeyTransport): void {
    const ctx = this.ctx;
    const ram = ctx.state;
    if (ram.joinState !== 'awaiting-key' || c.destination !== ctx.eui64 || !ram.net) {
      ctx.drop('APS', 'transport-key-unexpected');
      return;
    }
    ram.networkKey = c.key.slice();
    ram.net.networkKey = toHex(c.key);
    ram.net.keySequenceNumber = c.sequenceNumber;
    ram.net.tcEui64 = c.source;
    if (ram.net.parentEui64 === null && ram.assocParentEui) ram.net.parentEui64 = ram.assocParentEui;
    ram.addressMap.set(c.source, 0x0000);
    ctx.emit({
      type: 'transport-key',
      from: c.source,
      keyType: 'network',
      keySequenceNumber: c.sequenceNumber,
    });
    ctx.exportKey('network', 'network', c.key, undefined, c.sequenceNumber);
    if (ctx.preconfiguredKey && !ctx.linkKey(c.source))
      ctx.setLinkKey(c.source, ctx.preconfiguredKey, 'install-code');
    ram.networkKeyArrival.settle('network-key', true);
  }

  onMacCommand(f: MacCommandFrame): void {
    const ctx = this.ctx;
    const c = f.command;
    const ram = ctx.state;
    if (c.id === 'beaconRequest') {
      // Routers answer (never permitting: they take no children here); end devices stay silent.
      if (ram.net && ram.joined && ctx.capability.deviceType) void ctx.nwk.sendBeacon(false, false);
      return;
    }
    if (c.id === 'associationResponse' && ram.association.has('association')) {
      // the parent's EUI64 comes with the response (§7.3.2: source is extended)
      if (typeof f.source === 'string') ram.assocParentEui = f.source;
      ram.association.settle('association', { short: c.shortAddress, status: c.status });
    }
  }

  // ---------------------------------------------------------------- leave, partner keys

  announceLeave(): Promise<MacTxStatus> {
    return this.ctx.nwk.sendCommand(NWK_BROADCAST_RX_ON_WHEN_IDLE, undefined, {
      id: 'leave',
      rejoin: false,
      request: false,
      removeChildren: false,
    });
  }

  networkReset(): void {}

  /**
   * APS Request Key for an application (partner) link key with `partner` (05-3474 §4.4.5,
   * §4.4.10.5): the Trust Centre sends both devices the same new key in Transport Key
   * (applicationLink), which is stored with origin 'partner'. `'no-key'` when none arrived
   * within `timeoutUs` (a Trust Centre that refuses stays silent).
   */
  async requestPartnerLinkKey(partner: string, timeoutUs: number): Promise<PartnerKeyResult> {
    const ctx = this.ctx;
    const ram = ctx.state;
    const tc = ram.net?.tcEui64;
    if (!ctx.powered || !ram.joined || !ram.net || !tc) return 'not-joined';
    const tcKey = ctx.linkKey(tc);
    if (!tcKey) return 'no-link-key';
    if (ram.partnerKeys.has(partner)) return 'no-ack';
    const received = ram.partnerKeys.wait(partner);
    ram.fastPollHolds++;
    ram.partnerKeys.expireAfter(partner, timeoutUs, false);
    try {
      const request: ApsCommand = { id: 'requestKey', keyType: 'applicationLink', partner };
      const bytes = ctx.aps.encode(ctx.aps.commandFrame(request), tcKey);
      const st = await ctx.nwk.sendData(0x0000, tc, bytes, true);
      if (st !== 'sent') return 'no-ack';
      ctx.poller.soon(ram);
      return (await received) ? 'received' : 'no-key';
    } finally {
      ram.partnerKeys.settle(partner, false); // nobody waits any more
      ram.fastPollHolds--;
    }
  }

  // ---------------------------------------------------------------- routing

  nextHop(_dest: number, net: NetworkRecord): NextHop | null {
    if (!this.ctx.capability.deviceType)
      return net.parentShort === null ? null : { mac: net.parentShort, indirect: false };
    // ASSUMPTION (star, README): routers have no children of their own, and every device's
    // frames go through the coordinator both ways - as an end device's do - so a frame between
    // two HAN devices takes the same path whichever of them sends it.
    return { mac: 0x0000, indirect: false };
  }

  // ---------------------------------------------------------------- the coordinator's, not ours

  permitJoin(_seconds: number): void {
    throw new Error('permitJoin: only the coordinator admits joiners here');
  }

  async removeChild(_eui64: string): Promise<SendStatus> {
    return 'no-ack';
  }

  children(): ChildEntry[] {
    return [];
  }

  child(_eui64: string): ChildEntry | undefined {
    return undefined;
  }

  onSecuredFrame(_eui64: string, _short: number): void {}

  relay(): boolean {
    return false;
  }

  onChildLeave(_eui64: string, _short: number): void {}

  onRejoinRequest(): void {}

  onRequestKey(): void {
    this.ctx.drop('APS', 'request-key-not-trust-centre');
  }
}
