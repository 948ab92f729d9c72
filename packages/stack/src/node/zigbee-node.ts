/**
 * A running ZigBee node on the radio bus, and the `ApplicationHost` the device applications
 * are written against. This facade only composes: the shared `NodeContext` (radio, MAC, NVM,
 * state), the layers (NWK, APS with fragmentation, ZDO, Inter-PAN), the scanner and poller,
 * and one `Role` chosen here from `config.role` - `CoordinatorRole` (forms, Trust Centre) or
 * `JoinerRole` (router, end device, sleepy end device). Everything in `NodeState` is RAM:
 * `powerOff` drops it and `powerOn` rebuilds it from NVM, as a real device's reset would.
 */
import type { Clock } from '@gbhan/clock';
import type { BusRadio, ReceivedFrame } from '@gbhan/radio-bus';
import { fromHex, isInterPanFrame, ZigbeeDecodeError } from '@gbhan/zigbee';
import type {
  CoordinatorApplication,
  CoordinatorHost,
  DeviceTraceEvent,
  IncomingZcl,
  OutgoingZcl,
  PartnerKeyResult,
  PeerAddress,
  SendResult,
  SendStatus,
} from '../host.js';
import type { NvStore, NvValue } from '../nvm.js';
import { type AlertSender, GbAlertCode, type SecurityLog } from '../security-log.js';
import { decodeErrorReason } from '../trace-events.js';
import { ApsLayer } from './aps.js';
import { ApsFragments } from './aps-fragments.js';
import type { Beacon, ChannelSpec, JoinResult, NodeRole, ZigbeeNodeConfig } from './config.js';
import { type MacFrameIn, NodeContext } from './context.js';
import { CoordinatorRole } from './coordinator.js';
import { InterPan } from './interpan.js';
import { JoinerRole } from './joiner.js';
import { NwkLayer } from './nwk.js';
import { Poller } from './poller.js';
import { capabilityOf } from './role.js';
import { Scanner } from './scan.js';
import { CHILDREN_KEY, LINK_KEYS_KEY, NETWORK_KEY, type NetworkRecord } from './state.js';
import { ZdoLayer } from './zdo.js';

export class ZigbeeNode implements CoordinatorHost {
  readonly eui64: string;
  readonly clock: Clock;
  readonly securityLog: SecurityLog;
  private readonly ctx: NodeContext;
  private readonly interPan: InterPan;

  constructor(
    readonly radio: BusRadio,
    readonly nvm: NvStore,
    readonly config: ZigbeeNodeConfig,
  ) {
    const ctx = new NodeContext(radio, nvm, config, capabilityOf(config.role), (f, rx) =>
      this.onMacFrame(f, rx),
    );
    this.ctx = ctx;
    this.eui64 = ctx.eui64;
    this.clock = ctx.clock;
    this.securityLog = ctx.securityLog;
    ctx.nwk = new NwkLayer(ctx);
    ctx.aps = new ApsLayer(ctx);
    ctx.fragments = new ApsFragments(ctx);
    ctx.zdo = new ZdoLayer(ctx);
    ctx.poller = new Poller(ctx);
    ctx.scanner = new Scanner(ctx);
    ctx.role = config.role === 'coordinator' ? new CoordinatorRole(ctx) : new JoinerRole(ctx);
    ctx.leave = () => this.leave();
    this.interPan = new InterPan(ctx);
  }

  /**
   * Joiner: the Extended PAN ID the next join accepts (undefined = any network, the
   * nwkExtendedPANId 0 of 05-3474 §3.6.1.4.1), e.g. after a meter's Reset HAN.
   */
  setExtendedPanIdFilter(epid: string | undefined): void {
    this.ctx.epidFilter = epid;
  }

  /**
   * Coordinator: the application asked who may join (before the config's `admission`), told
   * of a child's secured rejoin, and gating every Inter-PAN frame before it is decoded (the
   * CH's 60-minute window; a refusal is traced `frame-dropped`, layer INTERPAN).
   */
  setCoordinatorApplication(app: CoordinatorApplication | null): void {
    this.ctx.coordinatorApp = app;
    this.interPan.gate = app ? (source) => app.interPanGate(source) : null;
  }

  // ---------------------------------------------------------------- ApplicationHost

  get joined(): boolean {
    return this.ctx.powered && this.ctx.state.joined;
  }

  trace(event: DeviceTraceEvent): void {
    this.ctx.trace(event);
  }

  onZcl(handler: (msg: IncomingZcl) => void | Promise<void>): void {
    this.ctx.zclHandlers.push(handler);
  }

  linkKey(peer: string): Uint8Array | null {
    return this.ctx.linkKey(peer);
  }

  setLinkKey(peer: string, key: Uint8Array, origin: 'install-code' | 'cbke' | 'partner'): void {
    this.ctx.setLinkKey(peer, key, origin);
  }

  removeLinkKey(peer: string): void {
    this.ctx.removeLinkKey(peer);
  }

  sendZcl(to: PeerAddress, frame: OutgoingZcl): Promise<SendResult> {
    return this.ctx.aps.sendZcl(to, frame);
  }

  sendInterPan(to: { eui64: string; panId: number } | 'broadcast', frame: OutgoingZcl): Promise<SendResult> {
    return this.interPan.send(to, frame);
  }

  // ---------------------------------------------------------------- node control

  /** Power on: rebuild RAM from NVM; a coordinator forms (or resumes) its network, a device with network state rejoins. */
  async powerOn(): Promise<JoinResult | 'formed' | 'not-joined'> {
    const ctx = this.ctx;
    if (ctx.powered) return ctx.state.joined ? 'joined' : 'not-joined';
    ctx.powered = true;
    ctx.state = ctx.freshState();
    ctx.role.powerUp();
    ctx.mac.powerOn();
    ctx.emit({ type: 'power', on: true });
    // A process restarted from its state file reports its keys again (the registry dedupes).
    for (const [peer, rec] of ctx.state.linkKeys) ctx.exportKey('link', rec.origin, fromHex(rec.key), peer);
    return ctx.role.start(this.nvm.read<NetworkRecord>(NETWORK_KEY) ?? null);
  }

  /** Power off: the radio goes off and RAM is lost (NVM stays); every answer awaited ends. */
  powerOff(): void {
    const ctx = this.ctx;
    if (!ctx.powered) return;
    ctx.powered = false;
    ctx.mac.powerOff();
    ctx.state.cancelPending();
    ctx.state = ctx.freshState();
    ctx.role.powerOff();
    ctx.emit({ type: 'power', on: false });
  }

  get isPowered(): boolean {
    return this.ctx.powered;
  }

  get role(): NodeRole {
    return this.config.role;
  }

  /** NWK state for reports and tests (a copy). */
  get network(): Readonly<NetworkRecord> | null {
    const net = this.ctx.state.net;
    return net ? { ...net } : null;
  }

  get shortAddress(): number {
    return this.ctx.mac.shortAddress;
  }

  /** Coordinator: its children (a copy). */
  children(): { eui64: string; short: number; rxOnWhenIdle: boolean; authenticated: boolean }[] {
    return this.ctx.role.children();
  }

  /** The application's alert sender (e.g. a GBCS alert to the CH); queued alerts go at once. */
  setAlertSender(sender: AlertSender | null): void {
    this.securityLog.setSender(sender);
  }

  /**
   * Tune the radio (e.g. an HHT talking Inter-PAN to a hub it found by scanning). A joined
   * node stays on its network's channel: it is retuned on the next power on or join.
   */
  tune(page: number, channel: number): void {
    this.ctx.retune(page, channel);
  }

  /** Coordinator: allow joining for `seconds` (0 closes, 255 = until closed, §3.2.2.5). */
  permitJoin(seconds: number): void {
    this.ctx.role.permitJoin(seconds);
  }

  get permittingJoin(): boolean {
    return this.ctx.permittingJoin;
  }

  /**
   * Join through association (05-3474 §3.6.1.4.1): active scan over the channel list, parent
   * selection, MAC association, then wait for Transport Key under the preconfigured link key.
   */
  join(): Promise<JoinResult> {
    return this.ctx.role.join();
  }

  /** Secured NWK rejoin (§3.6.1.4.2) from the network state in NVM. */
  rejoin(): Promise<JoinResult> {
    return this.ctx.role.rejoin();
  }

  /**
   * One active scan (Beacon Request on each channel) without joining: every ZigBee beacon
   * heard. Not while joined or joining; the radio is left on the last channel scanned.
   */
  activeScan(channels?: readonly ChannelSpec[]): Promise<Beacon[]> {
    return this.ctx.scanner.activeScan(channels);
  }

  /**
   * APS Request Key to the Trust Centre for a partner link key with `partner` (05-3474 §4.4.5):
   * `'received'` once its Transport Key arrived, `'no-key'` after `timeoutUs` without one.
   */
  requestPartnerLinkKey(partner: string, timeoutUs = 5_000_000): Promise<PartnerKeyResult> {
    return this.ctx.role.requestPartnerLinkKey(partner, timeoutUs);
  }

  /** Leave the network (NWK Leave, §3.6.1.10) and return to the post-reset state. */
  async leave(): Promise<boolean> {
    const ctx = this.ctx;
    if (!this.joined || !ctx.state.net) {
      this.securityLog.record('unjoin-failed', { reason: 'not-joined' }, GbAlertCode.unjoinFailed);
      return false;
    }
    const notice = ctx.role.announceLeave();
    if (notice) await notice;
    this.resetNetworkState();
    this.securityLog.record('unjoin-succeeded', {}, GbAlertCode.unjoinSucceeded);
    return true;
  }

  /**
   * Coordinator: ask a child to leave (Device Log removal, a Mgmt_Leave_req under its APS link
   * key) and forget it.
   */
  removeChild(eui64: string): Promise<SendStatus> {
    return this.ctx.role.removeChild(eui64);
  }

  /**
   * The post-reset state of §3.6.1.4.1: not joined, EPID 0, PAN 0xffff, short 0xffff, no
   * network key, no neighbours, no parent. Kept: EUI64, the preconfigured (install-code) key
   * material, frame counters (never reused), the security log. ASSUMPTION: CBKE and partner
   * link keys belong to the old HAN association and are dropped; install-code keys stay.
   */
  resetNetworkState(): void {
    const ctx = this.ctx;
    const table = ctx.readLinkKeys();
    for (const [peer, rec] of Object.entries(table)) if (rec.origin !== 'install-code') delete table[peer];
    this.nvm.commit({
      [NETWORK_KEY]: undefined,
      [CHILDREN_KEY]: undefined,
      [LINK_KEYS_KEY]: table as unknown as NvValue,
    });
    ctx.resetState();
    ctx.role.networkReset();
    ctx.setNwkState('not-joined');
  }

  // ---------------------------------------------------------------- receive

  private onMacFrame(f: MacFrameIn, rx: ReceivedFrame): void {
    try {
      this.dispatch(f, rx);
    } catch (e) {
      // Bad input never crashes a node: anything a handler did not expect is a traced drop.
      const reason = e instanceof ZigbeeDecodeError ? decodeErrorReason(e.layer, e.code) : 'unexpected-error';
      this.ctx.drop('NODE', reason, { detail: (e as Error).message });
    }
  }

  /** A MAC frame to its handler: beacons to the scanner, MAC commands to the role, data to Inter-PAN or NWK. */
  private dispatch(f: MacFrameIn, rx: ReceivedFrame): void {
    const ctx = this.ctx;
    if (f.frameType === 'beacon') ctx.scanner.onBeacon(f, rx);
    else if (f.frameType === 'command') ctx.role.onMacCommand(f);
    else if (isInterPanFrame(f.payload)) this.interPan.onFrame(f, rx);
    else ctx.nwk.onFrame(f, rx);
  }
}
