/**
 * The context every part of a node shares (as zigbee-on-host's handlers share one): the radio,
 * MAC engine, NVM, Prng, security log, the current `NodeState`, and what several layers need -
 * the link key table, network record restore, tracing, delivery to the application. The parts
 * (NWK, APS, ZDO, role, ...) are wired into it once by `ZigbeeNode` and reach each other here.
 */
import type { Clock } from '@gbhan/clock';
import { type BusRadio, bandOfPage, Prng, type ReceivedFrame } from '@gbhan/radio-bus';
import {
  type CapabilityInformation,
  fromHex,
  installCodeLinkKey,
  MAC_BROADCAST_ADDRESS,
  MAC_BROADCAST_PAN,
  type MacFrame,
  phyForPage,
  toHex,
} from '@gbhan/zigbee';
import { type ResolvedFragmentationConfig, resolveFragmentationConfig } from '../aps-fragmentation.js';
import { PersistedCounter } from '../counters.js';
import type { CoordinatorApplication, DeviceTraceEvent, IncomingZcl } from '../host.js';
import type { ExportedKeyOrigin } from '../key-export.js';
import { MacEngine } from '../mac.js';
import type { NvStore, NvValue } from '../nvm.js';
import { GbAlertCode, SecurityLog } from '../security-log.js';
import {
  type DropReasonOf,
  type FrameDropLayer,
  frameDropped,
  type NwkStateName,
  type StackTraceEvent,
} from '../trace-events.js';
import type { ApsLayer } from './aps.js';
import type { ApsFragments } from './aps-fragments.js';
import type { ChannelSpec, ZigbeeNodeConfig } from './config.js';
import type { NwkLayer } from './nwk.js';
import type { Poller } from './poller.js';
import type { Role } from './role.js';
import type { Scanner } from './scan.js';
import {
  APS_FC_KEY,
  LINK_KEYS_KEY,
  type LinkKeyRecord,
  NETWORK_KEY,
  type NetworkRecord,
  NodeState,
  NWK_FC_KEY,
} from './state.js';
import type { ZdoLayer } from './zdo.js';

export type MacFrameIn = Exclude<MacFrame, { frameType: 'ack' }>;

export class NodeContext {
  readonly eui64: string;
  readonly clock: Clock;
  readonly prng: Prng;
  readonly mac: MacEngine;
  readonly securityLog: SecurityLog;
  readonly channels: ChannelSpec[];
  readonly preconfiguredKey: Uint8Array | null;
  readonly fragmentation: ResolvedFragmentationConfig;
  /** RAM: replaced at every power on and off. */
  state: NodeState;
  powered = false;
  /** The EPID a joiner accepts (config.extendedPanId; undefined = any). */
  epidFilter: string | undefined;
  readonly zclHandlers: ((msg: IncomingZcl) => void | Promise<void>)[] = [];
  /** The coordinator's application (admission, rejoins, Inter-PAN gate), if any. */
  coordinatorApp: CoordinatorApplication | null = null;

  // The parts, wired once by ZigbeeNode.
  nwk!: NwkLayer;
  aps!: ApsLayer;
  fragments!: ApsFragments;
  zdo!: ZdoLayer;
  poller!: Poller;
  scanner!: Scanner;
  role!: Role;
  /** Leave the network: what an obeyed leave request (NWK or Mgmt_Leave_req) does. */
  leave!: () => Promise<boolean>;

  constructor(
    readonly radio: BusRadio,
    readonly nvm: NvStore,
    readonly config: ZigbeeNodeConfig,
    /** What this device is (§7.3.1.2), fixed by its role. */
    readonly capability: CapabilityInformation,
    onFrame: (f: MacFrameIn, rx: ReceivedFrame) => void,
  ) {
    this.eui64 = radio.eui64;
    this.clock = radio.clock;
    this.prng = new Prng(`${config.seed}/${radio.eui64}`);
    const reg = radio.registration;
    this.channels = config.channels ?? [{ page: reg.page, channel: reg.channel }];
    this.preconfiguredKey =
      config.preconfiguredLinkKey ?? (config.installCode ? installCodeLinkKey(config.installCode) : null);
    this.fragmentation = resolveFragmentationConfig(config.apsFragmentation);
    this.mac = new MacEngine({
      radio,
      eui64: this.eui64,
      prng: this.prng,
      phy: phyForPage(reg.page),
      rxOnWhenIdle: capability.receiverOnWhenIdle,
      trace: (e) => this.emit(e),
      onFrame,
      ...(config.indirectExpiryUs !== undefined ? { indirectExpiryUs: config.indirectExpiryUs } : {}),
      ...(config.promiscuous ? { promiscuous: true } : {}),
    });
    this.securityLog = new SecurityLog(nvm, this.clock, (e) => this.emit(e));
    this.state = this.freshState();
    this.epidFilter = config.extendedPanId;
  }

  // ---------------------------------------------------------------- trace

  trace(event: DeviceTraceEvent): void {
    if (this.radio.closed) return;
    this.radio.trace(event);
  }

  /** The stack's own trace events (typed). */
  emit(event: StackTraceEvent): void {
    this.trace(event);
  }

  /** A received frame not accepted: `reason` must be one of `layer`'s (trace-events.ts). */
  drop<L extends FrameDropLayer>(
    layer: L,
    reason: DropReasonOf<L>,
    detail: Record<string, unknown> = {},
  ): void {
    this.emit(frameDropped(layer, reason, detail));
  }

  /** An attempt refused for want of authority: traced drop, security log entry and GB alert. */
  refuse<L extends FrameDropLayer>(
    layer: L,
    reason: DropReasonOf<L>,
    detail: Record<string, string | number | boolean>,
  ): void {
    this.drop(layer, reason, detail);
    this.securityLog.record(reason, detail, GbAlertCode.unauthorisedCommunicationAccess);
  }

  /** Hand a ZCL frame to the application; a handler's promise holds the bus until it settles. */
  deliver(msg: IncomingZcl): void {
    for (const h of this.zclHandlers) {
      try {
        const r = h(msg);
        if (r instanceof Promise) {
          const release = this.radio.hold();
          r.then(release, (e: unknown) => {
            release();
            this.emit({ type: 'application-error', detail: (e as Error)?.message ?? String(e) });
          });
        }
      } catch (e) {
        this.emit({ type: 'application-error', detail: (e as Error).message });
      }
    }
  }

  // ---------------------------------------------------------------- state

  freshState(): NodeState {
    const state = new NodeState(
      new PersistedCounter(this.nvm, NWK_FC_KEY),
      new PersistedCounter(this.nvm, APS_FC_KEY),
      this.prng,
      this.fragmentation,
      this.mac,
    );
    for (const [peer, rec] of Object.entries(this.readLinkKeys())) state.linkKeys.set(peer, rec);
    return state;
  }

  /** Drop network state from RAM (link keys and counters stay). */
  resetState(): void {
    const state = this.state;
    state.net = null;
    state.joined = false;
    state.networkKey = null;
    state.addressMap.clear();
    state.nwkIncoming.clear();
    state.permitJoinUntil = 0;
    state.fastPoll = false;
    state.linkKeys = new Map(Object.entries(this.readLinkKeys()));
    this.mac.panId = MAC_BROADCAST_PAN;
    this.mac.shortAddress = MAC_BROADCAST_ADDRESS;
  }

  get permittingJoin(): boolean {
    return this.clock.now() < this.state.permitJoinUntil;
  }

  setNwkState(state: NwkStateName): void {
    const n = this.state.net;
    this.emit({
      type: 'nwk-state',
      state,
      ...(n
        ? { panId: n.panId, extendedPanId: n.extendedPanId, short: n.short, channel: n.channel, page: n.page }
        : {}),
    });
  }

  persistNetwork(): void {
    if (this.state.net) this.nvm.commit({ [NETWORK_KEY]: this.state.net as unknown as NvValue });
  }

  restoreNetwork(net: NetworkRecord, joined: boolean): void {
    const state = this.state;
    state.net = net;
    state.networkKey = fromHex(net.networkKey);
    state.joined = joined;
    this.mac.panId = net.panId;
    this.mac.shortAddress = net.short;
    this.retune(net.page, net.channel);
    if (net.parentEui64 !== null && net.parentShort !== null)
      state.addressMap.set(net.parentEui64, net.parentShort);
    if (net.tcEui64 !== null && net.tcEui64 !== this.eui64) state.addressMap.set(net.tcEui64, 0x0000);
    this.exportKey('network', 'network', state.networkKey, undefined, net.keySequenceNumber);
  }

  /** Tune the radio; a page of the other band moves a dual-band radio there, and the MAC with it. */
  retune(page: number, channel: number): void {
    this.mac.retune(() => {
      const reg = this.radio.registration;
      if (reg.page === page && reg.channel === channel) return;
      const band = bandOfPage(page) ?? reg.band;
      const pageChanged = reg.page !== page;
      this.radio.setChannel(page, channel, band);
      if (pageChanged) this.mac.setPhy(phyForPage(page));
    });
  }

  // ---------------------------------------------------------------- keys

  readLinkKeys(): Record<string, LinkKeyRecord> {
    return this.nvm.read<Record<string, LinkKeyRecord>>(LINK_KEYS_KEY) ?? {};
  }

  linkKey(peer: string): Uint8Array | null {
    const r = this.state.linkKeys.get(peer);
    return r ? fromHex(r.key) : null;
  }

  setLinkKey(peer: string, key: Uint8Array, origin: LinkKeyRecord['origin']): void {
    if (key.length !== 16) throw new RangeError('a link key is 16 bytes');
    const rec: LinkKeyRecord = { key: toHex(key), origin };
    const table = this.nvm.read<Record<string, NvValue>>(LINK_KEYS_KEY) ?? {};
    table[peer] = rec as unknown as NvValue;
    this.nvm.commit({ [LINK_KEYS_KEY]: table }); // persisted before use
    this.state.linkKeys.set(peer, rec);
    this.state.apsIncoming.delete(peer); // a new key starts a new counter space
    this.emit({ type: 'link-key', peer, origin });
    this.exportKey('link', origin, key, peer);
  }

  removeLinkKey(peer: string): void {
    const table = this.nvm.read<Record<string, NvValue>>(LINK_KEYS_KEY) ?? {};
    delete table[peer];
    this.nvm.commit({ [LINK_KEYS_KEY]: table });
    this.state.linkKeys.delete(peer);
    this.emit({ type: 'link-key-removed', peer });
  }

  exportKey(
    kind: 'network' | 'link',
    origin: ExportedKeyOrigin,
    key: Uint8Array,
    peer?: string,
    keySequenceNumber?: number,
  ): void {
    const e = {
      t: this.clock.now(),
      kind,
      origin,
      key: toHex(key),
      reporter: this.eui64,
      ...(peer !== undefined ? { peer } : {}),
      ...(keySequenceNumber !== undefined ? { keySequenceNumber } : {}),
    };
    this.config.onKeyExport?.(e);
  }
}
