/**
 * The coordinator's role: it forms the network and is its Trust Centre (05-3474 §4.6.3,
 * centralised security) and every device's parent - beacons, association (§7.5.3) and Transport
 * Key (§4.6.3.2), secured rejoin responses (§3.6.1.4.2), partner link keys (§4.4.5), relaying
 * between its children, child removal. `TrustCentre` holds the decisions and the child table;
 * this object sends the frames.
 */
import { type CapabilityInformation, MAC_BROADCAST_ADDRESS, type NwkPlainFrame, toHex } from '@gbhan/zigbee';
import type { PartnerKeyResult, SendStatus } from '../host.js';
import type { NvValue } from '../nvm.js';
import { GbAlertCode } from '../security-log.js';
import { type ChildEntry, TrustCentre } from '../trust-centre.js';
import { toSendStatus } from './aps.js';
import type { JoinResult } from './config.js';
import type { NodeContext } from './context.js';
import { macCommand } from './nwk.js';
import type { MacCommandFrame, NextHop, Role } from './role.js';
import { NETWORK_KEY, type NetworkRecord } from './state.js';

export class CoordinatorRole implements Role {
  /** It knows every device's address (they are all its children). */
  readonly discoversAddresses = false;
  /** The Trust Centre while powered (its child table is read from NVM at power on). */
  private tc: TrustCentre | null = null;

  constructor(private readonly ctx: NodeContext) {}

  powerUp(): void {
    const ctx = this.ctx;
    // The application decides when there is one; else the fixed policy of the config.
    this.tc = new TrustCentre(ctx.nvm, ctx.prng, (eui64) =>
      ctx.coordinatorApp ? ctx.coordinatorApp.admit(eui64) : (ctx.config.admission?.(eui64) ?? null),
    );
  }

  /** Power on: resume the network in NVM (same PAN, key, children) or form one. */
  start(net: NetworkRecord | null): 'formed' {
    const ctx = this.ctx;
    if (net) ctx.restoreNetwork(net, true);
    else this.form();
    for (const c of this.tc?.all() ?? []) ctx.state.addressMap.set(c.eui64, c.short);
    ctx.setNwkState('formed');
    void ctx.securityLog.flush();
    return 'formed';
  }

  powerOff(): void {
    this.tc = null;
  }

  private form(): void {
    const ctx = this.ctx;
    const ch = ctx.channels[0]!;
    const key = new Uint8Array(16);
    // ASSUMPTION: the network key comes from the seeded Prng (a real CH uses its TRNG) so runs repeat.
    for (let i = 0; i < 16; i++) key[i] = ctx.prng.nextUint32() & 0xff;
    const net: NetworkRecord = {
      panId: ctx.config.panId ?? 1 + (ctx.prng.nextUint32() % 0xfffe),
      extendedPanId: ctx.eui64, // GB: EPID = the CH's EUI64 (protocol-notes §3)
      short: 0x0000,
      page: ch.page,
      channel: ch.channel,
      networkKey: toHex(key),
      keySequenceNumber: 0,
      parentEui64: null,
      parentShort: null,
      tcEui64: ctx.eui64,
    };
    ctx.nvm.commit({ [NETWORK_KEY]: net as unknown as NvValue });
    ctx.restoreNetwork(net, true);
    ctx.emit({
      type: 'formed',
      panId: net.panId,
      extendedPanId: net.extendedPanId,
      channel: net.channel,
      page: net.page,
    });
  }

  async join(): Promise<JoinResult> {
    if (!this.ctx.powered) return 'powered-off';
    throw new Error('the coordinator forms, it does not join');
  }

  /** It has no parent to rejoin through. */
  async rejoin(): Promise<JoinResult> {
    return 'no-network';
  }

  announceLeave(): null {
    return null;
  }

  networkReset(): void {
    this.tc?.clear();
  }

  async requestPartnerLinkKey(): Promise<PartnerKeyResult> {
    return 'not-joined';
  }

  /** Allow joining for `seconds` (0 closes, 255 = until closed, §3.2.2.5). */
  permitJoin(seconds: number): void {
    const ctx = this.ctx;
    ctx.state.permitJoinUntil =
      seconds >= 255 ? Number.POSITIVE_INFINITY : ctx.clock.now() + seconds * 1_000_000;
    ctx.emit({ type: 'permit-join', seconds });
  }

  children(): ChildEntry[] {
    return this.tc?.all() ?? [];
  }

  child(eui64: string): ChildEntry | undefined {
    return this.tc?.child(eui64);
  }

  /**
   * Ask a child to leave (Device Log removal) and forget it. The request is a Mgmt_Leave_req
   * secured with the child's APS link key, the only leave a GB device obeys (see
   * `nwkLeaveRequestAllowed`).
   */
  async removeChild(eui64: string): Promise<SendStatus> {
    const ctx = this.ctx;
    const c = this.tc?.child(eui64);
    if (!c) return 'no-ack';
    const key = ctx.linkKey(eui64);
    const tsn = ctx.zdo.nextTsn();
    const st = key
      ? await ctx.zdo.send(
          c.short,
          {
            command: 'mgmtLeaveReq',
            transactionSequenceNumber: tsn,
            deviceAddress: eui64,
            removeChildren: false,
            rejoin: false,
          },
          key,
        )
      : 'no-ack';
    this.tc?.remove(eui64);
    ctx.state.addressMap.delete(eui64);
    ctx.emit({ type: 'child-removed', eui64 });
    return toSendStatus(st);
  }

  // ---------------------------------------------------------------- NWK and MAC

  /** Its children directly (held for sleepy ones); anyone else by their address. */
  nextHop(dest: number): NextHop | null {
    const c = this.tc?.childByShort(dest);
    if (c) return { mac: c.short, indirect: !c.rxOnWhenIdle };
    return { mac: dest, indirect: false };
  }

  onMacCommand(f: MacCommandFrame): void {
    const ctx = this.ctx;
    const c = f.command;
    switch (c.id) {
      case 'beaconRequest':
        if (ctx.state.net && ctx.state.joined) void ctx.nwk.sendBeacon(true, ctx.permittingJoin);
        return;
      case 'associationRequest':
        if (typeof f.source === 'string') this.onAssociationRequest(f.source, c.capability);
        return;
      default:
        return; // data requests are served by the MAC engine
    }
  }

  /** A child's first NWK-secured frame proves it holds the network key. */
  onSecuredFrame(eui64: string, short: number): void {
    const tc = this.tc;
    if (tc && tc.child(eui64)?.short === short && tc.markAuthenticated(eui64))
      this.ctx.emit({ type: 'child-authenticated', eui64 });
  }

  relay(frame: NwkPlainFrame): boolean {
    void this.relayToChild(frame);
    return true;
  }

  /** Relay a frame for one of its children (re-secured with its own counter). */
  private async relayToChild(frame: NwkPlainFrame): Promise<void> {
    const ctx = this.ctx;
    if (frame.radius <= 1) return ctx.drop('NWK', 'nwk-radius-exhausted', { destination: frame.destination });
    const child = this.tc?.childByShort(frame.destination);
    if (!child) return ctx.drop('NWK', 'nwk-no-route', { destination: frame.destination });
    const out: NwkPlainFrame = { ...frame, radius: frame.radius - 1 };
    let bytes: Uint8Array;
    try {
      bytes = ctx.nwk.secure(out);
    } catch {
      return;
    }
    const st = await ctx.nwk.macSendNwk(frame.destination, bytes);
    ctx.emit({ type: 'nwk-relayed', to: child.eui64, status: st });
  }

  /** A parent hearing its child's NWK Leave forgets it (§3.6.1.10). */
  onChildLeave(eui64: string, short: number): void {
    const ctx = this.ctx;
    const tc = this.tc;
    if (!tc?.child(eui64)) return;
    if (tc.child(eui64)?.short !== short) {
      ctx.refuse('NWK', 'nwk-leave-source-mismatch', { claimed: eui64, nwkSource: short });
      return;
    }
    tc.remove(eui64);
    ctx.state.addressMap.delete(eui64);
    ctx.emit({ type: 'child-left', eui64 });
  }

  /** MAC association (§7.5.3) then Transport Key (§4.6.3.2), as Trust Centre and parent. */
  private onAssociationRequest(eui64: string, capability: CapabilityInformation): void {
    const ctx = this.ctx;
    const tc = this.tc;
    const net = ctx.state.net;
    if (!tc || !net) return;
    let status = 0x00;
    let linkKey: Uint8Array | null = null;
    if (!ctx.permittingJoin) {
      status = 0x02; // PAN access denied
      ctx.emit({ type: 'join-refused', eui64, reason: 'permit-join-off' });
    } else {
      const verdict = tc.admission(eui64);
      if (!verdict) {
        // ASSUMPTION: the TC's refusal is given as MAC association status "PAN access denied".
        status = 0x02;
        ctx.emit({ type: 'join-refused', eui64, reason: 'not-in-device-log' });
        ctx.securityLog.record('join-refused', { eui64 }, GbAlertCode.unauthorisedCommunicationAccess);
      } else {
        linkKey = verdict.linkKey;
      }
    }
    const short = status === 0 ? tc.allocate(eui64) : MAC_BROADCAST_ADDRESS;
    if (status === 0) {
      this.keepChild(tc, eui64, short, capability, false);
      ctx.emit({ type: 'associated', eui64, short, rxOnWhenIdle: capability.receiverOnWhenIdle });
    }
    const ram = ctx.state;
    const response = macCommand(net.panId, eui64, ctx.eui64, {
      id: 'associationResponse',
      shortAddress: short,
      status,
    });
    // Held for the joiner's Data Request (§7.5.3.1).
    void ctx.mac.sendIndirect(response).then((r) => {
      if (ctx.state !== ram || status !== 0 || !linkKey) return;
      if (r.status !== 'sent') {
        ctx.emit({ type: 'join-failed', eui64, reason: `association-response-${r.status}` });
        return;
      }
      ctx.setLinkKey(eui64, linkKey, 'install-code');
      void this.sendTransportKey(eui64, short, linkKey);
    });
  }

  /** Into the child table (NVM) and the address map. */
  private keepChild(
    tc: TrustCentre,
    eui64: string,
    short: number,
    capability: CapabilityInformation,
    authenticated: boolean,
  ): void {
    tc.upsert({
      eui64,
      short,
      rxOnWhenIdle: capability.receiverOnWhenIdle,
      router: capability.deviceType,
      authenticated,
    });
    this.ctx.state.addressMap.set(eui64, short);
  }

  private async sendTransportKey(eui64: string, short: number, linkKey: Uint8Array): Promise<void> {
    const ctx = this.ctx;
    const net = ctx.state.net;
    if (!net || !ctx.state.networkKey) return;
    const frame = ctx.aps.commandFrame({
      id: 'transportKey',
      keyType: 'network',
      key: ctx.state.networkKey,
      sequenceNumber: net.keySequenceNumber,
      destination: eui64,
      source: ctx.eui64,
    });
    const apsBytes = ctx.aps.encode(frame, linkKey, 'keyTransport');
    // The joiner has no network key yet: the NWK frame carrying Transport Key is not NWK-secured (§4.6.3.2.1).
    const st = await ctx.nwk.sendData(short, eui64, apsBytes, false);
    ctx.emit({ type: 'transport-key', to: eui64, keyType: 'network', status: st });
  }

  onRejoinRequest(eui64: string, oldShort: number, capability: CapabilityInformation): void {
    if (this.tc) void this.answerRejoin(eui64, oldShort, capability);
  }

  /** Secured rejoin (§3.6.1.4.2): known children and logged devices keep their place. */
  private async answerRejoin(
    eui64: string,
    oldShort: number,
    capability: CapabilityInformation,
  ): Promise<void> {
    const ctx = this.ctx;
    const tc = this.tc!;
    const known = tc.child(eui64);
    let status = 0;
    if (!known && !tc.admission(eui64)) {
      status = 0x02;
      ctx.emit({ type: 'join-refused', eui64, reason: 'rejoin-not-in-device-log' });
    }
    const short = status === 0 ? tc.allocate(eui64, oldShort) : oldShort;
    if (status === 0) this.keepChild(tc, eui64, short, capability, true);
    // Reply to the address the device used (it learns its new one from the payload).
    const frame: NwkPlainFrame = {
      ...ctx.nwk.header(oldShort, eui64),
      frameType: 'command',
      security: false,
      command: { id: 'rejoinResponse', networkAddress: short, status },
    };
    const net = ctx.state.net!;
    const bytes = ctx.nwk.secure(frame);
    const mf = ctx.nwk.macData(oldShort, bytes, net.panId, true);
    const r = capability.receiverOnWhenIdle ? await ctx.mac.send(mf) : await ctx.mac.sendIndirect(mf);
    ctx.emit({ type: 'rejoin-response', to: eui64, short, status, delivery: r.status });
    if (status === 0 && r.status === 'sent') ctx.coordinatorApp?.childRejoined(eui64);
  }

  // ---------------------------------------------------------------- APS

  /** A Request Key for a partner link key (§4.4.5) -> Transport Key to both, or silence. */
  onRequestKey(partner: string, apsSecured: boolean, requester: string | undefined): void {
    const ctx = this.ctx;
    const tc = this.tc;
    if (!tc) {
      ctx.drop('APS', 'request-key-not-trust-centre');
      return;
    }
    if (!apsSecured || !requester) {
      ctx.drop('APS', 'request-key-unsecured', { from: requester ?? 'unknown' });
      return;
    }
    const allowed = ctx.config.partnerKeyPolicy
      ? ctx.config.partnerKeyPolicy(requester, partner)
      : tc.child(requester)?.authenticated === true && tc.child(partner)?.authenticated === true;
    const a = tc.child(requester);
    const b = tc.child(partner);
    const keyA = ctx.linkKey(requester);
    const keyB = ctx.linkKey(partner);
    if (!allowed || !a || !b || !keyA || !keyB || requester === partner) {
      ctx.emit({ type: 'partner-key', requester, partner, status: 'refused' });
      ctx.securityLog.record('partner-key-refused', { requester, partner });
      return;
    }
    // ASSUMPTION: the Trust Centre's seeded Prng stands in for its TRNG (runs repeat).
    const key = new Uint8Array(16);
    for (let i = 0; i < 16; i++) key[i] = ctx.prng.nextUint32() & 0xff;
    ctx.emit({ type: 'partner-key', requester, partner, status: 'sent' });
    void this.sendPartnerKey(a.short, requester, keyA, key, partner, true);
    void this.sendPartnerKey(b.short, partner, keyB, key, requester, false);
  }

  /** Transport Key (application link) under the receiver's TC link key's key-transport key. */
  private async sendPartnerKey(
    short: number,
    to: string,
    toKey: Uint8Array,
    key: Uint8Array,
    partner: string,
    initiator: boolean,
  ): Promise<void> {
    const ctx = this.ctx;
    const frame = ctx.aps.commandFrame({
      id: 'transportKey',
      keyType: 'applicationLink',
      key,
      partner,
      initiator,
    });
    const bytes = ctx.aps.encodeOrReport(frame, toKey, to, 'keyTransport');
    if (!bytes) return;
    await ctx.nwk.sendData(short, to, bytes, true);
  }

  /** A coordinator never waits for a network key. */
  onNetworkKey(): void {
    this.ctx.drop('APS', 'transport-key-unexpected');
  }
}
