/**
 * A running ZigBee node on the radio bus: NWK (NIB, network formation, discovery, join
 * through association §3.6.1.4.1, secured rejoin §3.6.1.4.2, leave, NWK security with
 * persisted frame counters), APS (data, APS security with the link key table, Transport Key),
 * the coordinator's Trust Centre, and the `ApplicationHost` contract the device applications
 * are written against. Everything in fields of `Ram` is RAM: `powerOff` drops it and
 * `powerOn` rebuilds it from NVM, as a real device's reset would.
 *
 * Topology (ASSUMPTION, see README): a star around the coordinator. Every device joins the
 * coordinator directly (routers do not accept children); end devices send everything to
 * their parent; routers send to the coordinator unless the destination is heard directly; the
 * coordinator relays between its children (indirectly for sleepy ones). NWK security is
 * hop-by-hop as in ZigBee PRO: a relay decrypts, checks and re-secures with its own counter.
 */
import type { Clock, Timer } from '@gbhan/clock';
import { type BusRadio, bandOfPage, Prng, type ReceivedFrame } from '@gbhan/radio-bus';
import {
  type ApsCommand,
  type ApsPlainFrame,
  type CapabilityInformation,
  decodeApsFrame,
  decodeInterPanFrame,
  decodeNwkFrame,
  decodeZdo,
  encodeApsFrame,
  encodeInterPanFrame,
  encodeNwkFrame,
  encodeZdo,
  fromHex,
  type InterPanPlainFrame,
  installCodeLinkKey,
  interPanMacFrame,
  isInterPanFrame,
  MAC_BROADCAST_ADDRESS,
  MAC_BROADCAST_PAN,
  type MacAddress,
  type MacFrame,
  NWK_BROADCAST_ALL,
  NWK_BROADCAST_ROUTERS,
  NWK_BROADCAST_RX_ON_WHEN_IDLE,
  type NwkCommand,
  type NwkPlainFrame,
  phyForPage,
  type SecurityKeyIdName,
  secureApsFrame,
  secureInterPanFrame,
  secureNwkFrame,
  toHex,
  unsecureApsFrame,
  unsecureInterPanFrame,
  unsecureNwkFrame,
  ZDO_ENDPOINT,
  ZDO_PROFILE_ID,
  type ZdoMessage,
  ZigbeeDecodeError,
} from '@gbhan/zigbee';
import {
  type ApsFragmentationConfig,
  ApsReassembler,
  apsBlockSize,
  needsFragmentation,
  type ResolvedFragmentationConfig,
  resolveFragmentationConfig,
  splitIntoBlocks,
} from './aps-fragmentation.js';
import { PersistedCounter } from './counters.js';
import type {
  ApplicationHost,
  DeviceTraceEvent,
  FrameSecurity,
  IncomingZcl,
  OutgoingZcl,
  PartnerKeyResult,
  PeerAddress,
  SendResult,
  SendStatus,
} from './host.js';
import { PROFILE_SMART_ENERGY, SE_ENDPOINT } from './host.js';
import type { ExportedKeyOrigin, KeyExportHook } from './key-export.js';
import { MacEngine, type MacTxStatus } from './mac.js';
import type { NvStore, NvValue } from './nvm.js';
import { type AlertSender, GbAlertCode, SecurityLog } from './security-log.js';
import type { NwkStateName, StackTraceEvent } from './trace-events.js';
import { type AdmissionPolicy, TrustCentre } from './trust-centre.js';

export type NodeRole = 'coordinator' | 'router' | 'end-device' | 'sleepy-end-device';

export interface ChannelSpec {
  page: number;
  channel: number;
}

export interface ZigbeeNodeConfig {
  role: NodeRole;
  /** The run seed; the node's Prng is seeded from it and the EUI64. */
  seed: number | string;
  /** Channels to scan (joiner) or the first one to form on (coordinator). Default: the radio's. */
  channels?: ChannelSpec[];
  /** Joiner: install code with its CRC (hex or bytes); the preconfigured TC link key is derived from it. */
  installCode?: string | Uint8Array;
  /** Joiner: the preconfigured TC link key itself (instead of an install code). */
  preconfiguredLinkKey?: Uint8Array;
  /** Coordinator: PAN id to form with (default drawn from the Prng). */
  panId?: number;
  /** Joiner: join only a network with this extended PAN id (GB: the CH's EUI64). */
  extendedPanId?: string;
  /** Coordinator: who may join (the CHF Device Log). Default: nobody. */
  admission?: AdmissionPolicy;
  /** Sleepy end device: data poll period (default 1 s). */
  pollPeriodUs?: number;
  /** Joiner: how long to wait for Transport Key after association (default 5 s). */
  transportKeyTimeoutUs?: number;
  /** Parent: how long a frame for a sleepy child is held (default macTransactionPersistenceTime). */
  indirectExpiryUs?: number;
  /** Every key the node learns, for Wireshark key files. */
  onKeyExport?: KeyExportHook;
  /** Scan duration exponent (§7.5.2.1.2: aBaseSuperframeDuration * (2^n + 1) symbols). Default 3. */
  scanDuration?: number;
  /**
   * Coordinator: may `requester` have a partner link key with `partner` (APS Request Key)?
   * Default: both are authenticated children of this Trust Centre.
   */
  partnerKeyPolicy?: (requester: string, partner: string) => boolean;
  /** APS fragmentation timing (apsInterframeDelay, apsAckWaitDuration, retries, reassembly timeout). */
  apsFragmentation?: ApsFragmentationConfig;
  /**
   * nwkLeaveRequestAllowed (NIB, 05-3474 R21): act on an NWK Leave request from the parent or
   * Trust Centre. Default false. ASSUMPTION: GB devices leave only on a Mgmt_Leave_req that the
   * Trust Centre secured with their APS link key, because any HAN member holds the network key
   * and can forge an NWK Leave in the parent's name; the CHF removes devices that way.
   */
  nwkLeaveRequestAllowed?: boolean;
}

export type JoinResult = 'joined' | 'no-network' | 'refused' | 'no-key' | 'busy' | 'powered-off';

/** The network state kept in NVM (`stack.network`); present = joined (or formed). */
type NetworkRecord = {
  panId: number;
  extendedPanId: string;
  short: number;
  page: number;
  channel: number;
  networkKey: string;
  keySequenceNumber: number;
  parentEui64: string | null;
  parentShort: number | null;
  tcEui64: string | null;
};

type LinkKeyRecord = {
  key: string;
  origin: 'install-code' | 'cbke' | 'partner';
};

type JoinState = 'idle' | 'scanning' | 'associating' | 'awaiting-key' | 'rejoining';

/**
 * How a received APS frame was protected (05-3474 §4.4.1.2): by the link key shared with
 * `peer`, or by the preconfigured (install-code) key before the Trust Centre is known, under
 * which key identifier (data, key-transport or key-load key derived from it). APS security
 * under the network key is refused on arrival: every member holds that key, so it proves
 * nothing about the sender, and GB/SE use link keys at the APS layer.
 */
type ApsProtection =
  | { by: 'none' }
  | { by: 'link'; peer: string; keyId: SecurityKeyIdName }
  | { by: 'preconfigured'; keyId: SecurityKeyIdName };

const NOT_PROTECTED: ApsProtection = { by: 'none' };
/** ZDO status NOT_AUTHORIZED (05-3474 Table 2.138). */
const ZDO_NOT_AUTHORIZED = 0x8d;

/** A ZigBee beacon heard during an active scan (`activeScan`, join). */
export interface Beacon {
  pan: number;
  short: number;
  eui64?: string;
  extendedPanId: string;
  page: number;
  channel: number;
  lqi: number;
  permit: boolean;
}

/** Everything lost at power off. */
class Ram {
  net: NetworkRecord | null = null;
  joined = false;
  joinState: JoinState = 'idle';
  networkKey: Uint8Array | null = null;
  linkKeys = new Map<string, LinkKeyRecord>();
  addressMap = new Map<string, number>();
  nwkIncoming = new Map<string, number>();
  apsIncoming = new Map<string, number>();
  nwkSeq: number;
  apsCounter: number;
  zdoTsn: number;
  permitJoinUntil = 0;
  beacons: Beacon[] = [];
  keyWaiter: ((ok: boolean) => void) | null = null;
  assocWaiter: ((r: { short: number; status: number } | null) => void) | null = null;
  rejoinWaiter: ((r: { short: number; status: number } | null) => void) | null = null;
  pollTimer: Timer | null = null;
  fastPoll = false;
  /** Reasons to poll fast besides `fastPoll`: APS acks awaited (count). */
  fastPollHolds = 0;
  /** Sleepy device: peer -> virtual time until which a reply from it is expected (fast poll). */
  awaitingReply = new Map<string, number>();
  /** APS acknowledgments awaited for blocks sent: `${peer}/${apsCounter}/${block}` -> resolver. */
  apsAckWaiters = new Map<string, (acked: boolean) => void>();
  reassembler: ApsReassembler;
  /** APS Request Key in flight: partner EUI64 -> resolver (true when the key arrived). */
  partnerKeyWaiters = new Map<string, (received: boolean) => void>();
  reassemblyTimer: Timer | null = null;
  /** NWK_addr_req in flight: EUI64 -> resolvers. */
  addrWaiters = new Map<string, ((short: number | undefined) => void)[]>();
  /** The parent's EUI64 as the association response gave it. */
  assocParentEui: string | null = null;
  constructor(
    readonly nwkFc: PersistedCounter,
    readonly apsFc: PersistedCounter,
    prng: Prng,
    fragmentation: ResolvedFragmentationConfig,
  ) {
    this.reassembler = new ApsReassembler(fragmentation);
    this.nwkSeq = prng.nextUint32() & 0xff;
    this.apsCounter = prng.nextUint32() & 0xff;
    this.zdoTsn = prng.nextUint32() & 0xff;
  }
}

const NETWORK_KEY = 'stack.network';
const LINK_KEYS_KEY = 'stack.linkKeys';
const NWK_FC_KEY = 'stack.nwkFrameCounter';
const APS_FC_KEY = 'stack.apsFrameCounter';
const DEFAULT_RADIUS = 10;
/** ASSUMPTION: how long a sleepy device keeps its receiver on after a poll with Frame Pending. */
const POLL_WINDOW_US = 50_000;
/** ASSUMPTION: poll period while joining or rejoining (ZigBee "fast poll"). */
const FAST_POLL_US = 250_000;
/** ZDO Device_annce cluster. */
const DEVICE_ANNCE_CLUSTER = 0x0013;

export class ZigbeeNode implements ApplicationHost {
  readonly eui64: string;
  readonly clock: Clock;
  readonly securityLog: SecurityLog;
  private readonly prng: Prng;
  private readonly mac: MacEngine;
  private ram: Ram;
  private tc: TrustCentre | null = null;
  private readonly zclHandlers: ((msg: IncomingZcl) => void | Promise<void>)[] = [];
  private readonly childRejoinHandlers: ((eui64: string) => void)[] = [];
  private readonly preconfiguredKey: Uint8Array | null;
  private readonly channels: ChannelSpec[];
  private readonly fragmentation: ResolvedFragmentationConfig;
  private powered = false;
  /** The EPID a joiner accepts (config.extendedPanId; undefined = any). */
  private epidFilter: string | undefined;
  private interPanGate: ((source: string | number) => string | null) | null = null;

  constructor(
    readonly radio: BusRadio,
    readonly nvm: NvStore,
    readonly config: ZigbeeNodeConfig,
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
      rxOnWhenIdle: config.role !== 'sleepy-end-device',
      trace: (e) => this.emit(e),
      onFrame: (f, rx) => this.onMacFrame(f, rx),
      ...(config.indirectExpiryUs !== undefined ? { indirectExpiryUs: config.indirectExpiryUs } : {}),
    });
    this.securityLog = new SecurityLog(nvm, this.clock, (e) => this.emit(e));
    this.ram = this.freshRam();
    this.epidFilter = config.extendedPanId;
  }

  /**
   * Joiner: the Extended PAN ID the next join accepts (undefined = any network, the
   * nwkExtendedPANId 0 of 05-3474 §3.6.1.4.1), e.g. after a meter's Reset HAN.
   */
  setExtendedPanIdFilter(epid: string | undefined): void {
    this.epidFilter = epid;
  }

  /**
   * Gate every Inter-PAN frame before it is decoded (the CH's 60-minute window): return a
   * reason to drop it (traced `frame-dropped`, layer INTERPAN), or null to let it in.
   * `source` is the MAC source (an EUI64, or a short address).
   */
  setInterPanGate(gate: ((source: string | number) => string | null) | null): void {
    this.interPanGate = gate;
  }

  // ---------------------------------------------------------------- ApplicationHost

  get joined(): boolean {
    return this.powered && this.ram.joined;
  }

  trace(event: DeviceTraceEvent): void {
    if (this.radio.closed) return;
    this.radio.trace(event);
  }

  /** The stack's own trace events (typed). */
  private emit(event: StackTraceEvent): void {
    this.trace(event);
  }

  onZcl(handler: (msg: IncomingZcl) => void | Promise<void>): void {
    this.zclHandlers.push(handler);
  }

  /**
   * Coordinator: a child came back with a secured rejoin and got its Rejoin Response. It may
   * have lost its RAM (a power cycle), so the application redoes what lived there (the CHF's
   * GB-HGRP tunnel).
   */
  onChildRejoined(handler: (eui64: string) => void): void {
    this.childRejoinHandlers.push(handler);
  }

  linkKey(peer: string): Uint8Array | null {
    const r = this.ram.linkKeys.get(peer);
    return r ? fromHex(r.key) : null;
  }

  setLinkKey(peer: string, key: Uint8Array, origin: 'install-code' | 'cbke' | 'partner'): void {
    if (key.length !== 16) throw new RangeError('a link key is 16 bytes');
    const rec: LinkKeyRecord = { key: toHex(key), origin };
    const table = this.nvm.read<Record<string, NvValue>>(LINK_KEYS_KEY) ?? {};
    table[peer] = rec as unknown as NvValue;
    this.nvm.commit({ [LINK_KEYS_KEY]: table }); // persisted before use
    this.ram.linkKeys.set(peer, rec);
    this.ram.apsIncoming.delete(peer); // a new key starts a new counter space
    this.emit({ type: 'link-key', peer, origin });
    this.exportKey('link', origin, key, peer);
  }

  removeLinkKey(peer: string): void {
    const table = this.nvm.read<Record<string, NvValue>>(LINK_KEYS_KEY) ?? {};
    delete table[peer];
    this.nvm.commit({ [LINK_KEYS_KEY]: table });
    this.ram.linkKeys.delete(peer);
    this.emit({ type: 'link-key-removed', peer });
  }

  async sendZcl(to: PeerAddress, frame: OutgoingZcl): Promise<SendResult> {
    if (!this.joined || !this.ram.net || !this.ram.networkKey) return { status: 'not-joined' };
    let linkKey: Uint8Array | null = null;
    if (frame.security === 'aps-link') {
      linkKey = this.linkKey(to.eui64);
      if (!linkKey) return { status: 'no-link-key' };
    }
    const dest = to.short ?? this.lookupShort(to.eui64) ?? (await this.resolveAddress(to.eui64));
    if (dest === undefined) {
      this.emit({ type: 'send-failed', reason: 'no-address', to: to.eui64 });
      return { status: 'no-ack' };
    }
    const ram = this.ram;
    if (frame.awaitReplyUs !== undefined && !this.mac.rxOnWhenIdle) {
      const until = this.clock.now() + frame.awaitReplyUs;
      ram.awaitingReply.set(to.eui64, Math.max(until, ram.awaitingReply.get(to.eui64) ?? 0));
    }
    const header = {
      frameType: 'data' as const,
      deliveryMode: 'unicast' as const,
      destinationEndpoint: frame.dstEndpoint ?? SE_ENDPOINT,
      clusterId: frame.clusterId,
      profileId: frame.profileId ?? PROFILE_SMART_ENERGY,
      sourceEndpoint: frame.srcEndpoint ?? SE_ENDPOINT,
      security: false as const,
    };
    const shape = { destinationIeee: dest < 0xfff8, apsSecured: linkKey !== null };
    if (needsFragmentation(frame.zcl.length, shape)) {
      const status = await this.sendFragmented(ram, dest, to.eui64, header, frame.zcl, linkKey);
      if (status === 'sent') this.pollSoon(ram);
      return { status };
    }
    const aps: ApsPlainFrame = {
      ...header,
      ackRequest: false,
      counter: this.nextApsCounter(),
      payload: frame.zcl,
    };
    const apsBytes = linkKey
      ? secureApsFrame(aps, {
          key: linkKey,
          keyId: 'data',
          frameCounter: this.ram.apsFc.take(),
          sourceEui64: this.eui64,
        })
      : encodeApsFrame(aps);
    const status = await this.nwkSendData(dest, to.eui64, apsBytes, true);
    if (status === 'sent' && ram.awaitingReply.has(to.eui64)) this.pollSoon(ram);
    return { status: toSendStatus(status) };
  }

  /**
   * Fragmented transmission (05-3474 §2.2.8.4.5) with a window of one block: each block is
   * sent with an APS ack request and resent up to apsMaxFrameRetries times until its
   * acknowledgment arrives within apsAckWaitDuration; apsInterframeDelay between blocks.
   * Every block carries the same APS counter; APS-secured blocks each take a frame counter.
   */
  private async sendFragmented(
    ram: Ram,
    dest: number,
    eui64: string,
    header: Omit<Extract<ApsPlainFrame, { frameType: 'data' }>, 'ackRequest' | 'counter' | 'payload'>,
    asdu: Uint8Array,
    linkKey: Uint8Array | null,
  ): Promise<SendStatus> {
    const cfg = this.fragmentation;
    const blocks = splitIntoBlocks(
      asdu,
      apsBlockSize({ destinationIeee: dest < 0xfff8, apsSecured: linkKey !== null }),
    );
    const counter = this.nextApsCounter();
    const done = (status: SendStatus, sentBlocks: number) => {
      this.emit({
        type: 'aps-fragmented-send',
        to: eui64,
        counter,
        blocks: blocks.length,
        sentBlocks,
        octets: asdu.length,
        status,
      });
      return status;
    };
    for (let i = 0; i < blocks.length; i++) {
      if (i > 0 && cfg.interframeDelayUs > 0) await this.mac.sleep(cfg.interframeDelayUs);
      let acked = false;
      for (let attempt = 0; attempt <= cfg.maxFrameRetries && !acked; attempt++) {
        if (this.ram !== ram || !ram.joined) return done('no-ack', i);
        const aps: ApsPlainFrame = {
          ...header,
          ackRequest: true,
          counter,
          extendedHeader: { fragmentation: i === 0 ? 1 : 2, blockNumber: i === 0 ? blocks.length : i },
          payload: blocks[i]!,
        };
        let bytes: Uint8Array;
        try {
          bytes = linkKey
            ? secureApsFrame(aps, {
                key: linkKey,
                keyId: 'data',
                frameCounter: ram.apsFc.take(),
                sourceEui64: this.eui64,
              })
            : encodeApsFrame(aps);
        } catch (e) {
          this.emit({ type: 'send-failed', reason: 'nvm', to: eui64, detail: (e as Error).message });
          return done('radio-refused', i);
        }
        acked = await this.sendBlockAwaitingAck(ram, dest, eui64, bytes, `${eui64}/${counter}/${i}`);
      }
      if (!acked) return done('no-ack', i);
    }
    return done('sent', blocks.length);
  }

  /** Send one block and wait apsAckWaitDuration for its APS ack (a sleepy sender polls fast meanwhile). */
  private async sendBlockAwaitingAck(
    ram: Ram,
    dest: number,
    eui64: string,
    bytes: Uint8Array,
    key: string,
  ): Promise<boolean> {
    let resolveAck: (ok: boolean) => void = () => {};
    const acked = new Promise<boolean>((r) => {
      resolveAck = r;
    });
    ram.apsAckWaiters.set(key, resolveAck);
    ram.fastPollHolds++;
    let timer: Timer | null = null;
    try {
      const st = await this.nwkSendData(dest, eui64, bytes, true);
      if (st !== 'sent') {
        resolveAck(false);
      } else {
        this.pollSoon(ram);
        timer = this.mac.timer(this.fragmentation.ackWaitUs, () => resolveAck(false));
      }
      return await acked;
    } finally {
      timer?.cancel();
      ram.apsAckWaiters.delete(key);
      ram.fastPollHolds--;
    }
  }

  async sendInterPan(
    to: { eui64: string; panId: number } | 'broadcast',
    frame: OutgoingZcl,
  ): Promise<SendResult> {
    if (!this.powered) return { status: 'radio-refused' };
    const plain: InterPanPlainFrame = {
      deliveryMode: to === 'broadcast' ? 'broadcast' : 'unicast',
      clusterId: frame.clusterId,
      profileId: frame.profileId ?? PROFILE_SMART_ENERGY,
      security: false,
      payload: frame.zcl,
    };
    let payload: Uint8Array;
    if (frame.security === 'aps-link') {
      const key = to === 'broadcast' ? null : this.linkKey(to.eui64);
      if (!key) return { status: 'no-link-key' };
      payload = secureInterPanFrame(plain, {
        key,
        frameCounter: this.ram.apsFc.take(),
        sourceEui64: this.eui64,
      });
    } else {
      // ASSUMPTION: 'nwk' has no meaning outside a network; it is sent like 'none'.
      payload = encodeInterPanFrame(plain);
    }
    const mac = interPanMacFrame({
      sequenceNumber: 0,
      destinationPan: to === 'broadcast' ? MAC_BROADCAST_PAN : to.panId,
      destination: to === 'broadcast' ? MAC_BROADCAST_ADDRESS : to.eui64,
      sourcePan: this.mac.panId,
      source: this.eui64,
      payload,
    });
    const r = await this.mac.send(mac);
    return { status: toSendStatus(r.status) };
  }

  // ---------------------------------------------------------------- node control

  /** Power on: rebuild RAM from NVM; a coordinator forms (or resumes) its network, a device with network state rejoins. */
  async powerOn(): Promise<JoinResult | 'formed' | 'not-joined'> {
    if (this.powered) return this.ram.joined ? 'joined' : 'not-joined';
    this.powered = true;
    this.ram = this.freshRam();
    this.tc =
      this.config.role === 'coordinator'
        ? new TrustCentre(this.nvm, this.prng, this.config.admission ?? (() => null))
        : null;
    this.mac.powerOn();
    this.emit({ type: 'power', on: true });
    // A process restarted from its state file reports its keys again (the registry dedupes).
    for (const [peer, rec] of this.ram.linkKeys) this.exportKey('link', rec.origin, fromHex(rec.key), peer);
    const net = this.nvm.read<NetworkRecord>(NETWORK_KEY);
    if (this.config.role === 'coordinator') {
      if (net) this.restoreNetwork(net, true);
      else this.form();
      for (const c of this.tc?.all() ?? []) this.ram.addressMap.set(c.eui64, c.short);
      this.setNwkState('formed');
      void this.securityLog.flush();
      return 'formed';
    }
    if (net) {
      this.restoreNetwork(net, false);
      return this.rejoin();
    }
    this.setNwkState('not-joined');
    return 'not-joined';
  }

  /** Power off: the radio goes off and RAM is lost (NVM stays). */
  powerOff(): void {
    if (!this.powered) return;
    this.powered = false;
    this.mac.powerOff();
    const ram = this.ram;
    ram.keyWaiter?.(false);
    ram.assocWaiter?.(null);
    ram.rejoinWaiter?.(null);
    for (const w of ram.apsAckWaiters.values()) w(false);
    for (const w of ram.partnerKeyWaiters.values()) w(false);
    this.ram = this.freshRam();
    this.tc = null;
    this.emit({ type: 'power', on: false });
  }

  get isPowered(): boolean {
    return this.powered;
  }

  get role(): NodeRole {
    return this.config.role;
  }

  /** NWK state for reports and tests (a copy). */
  get network(): Readonly<NetworkRecord> | null {
    return this.ram.net ? { ...this.ram.net } : null;
  }

  get shortAddress(): number {
    return this.mac.shortAddress;
  }

  /** Coordinator: its children (a copy). */
  children(): { eui64: string; short: number; rxOnWhenIdle: boolean; authenticated: boolean }[] {
    return this.tc?.all() ?? [];
  }

  /** The application's alert sender (e.g. a GBCS alert to the CH); queued alerts go at once. */
  setAlertSender(sender: AlertSender | null): void {
    this.securityLog.setSender(sender);
  }

  /**
   * Scenario commands (deliver them from `radio.onControl`; not registered automatically, so
   * the device application decides): `{type:'power', on}`, `{type:'join'}`, `{type:'leave'}`,
   * `{type:'permit-join', seconds}`, `{type:'reset-network-state'}`. Returns false for
   * anything else, so the application can handle its own commands.
   */
  async handleControl(command: Record<string, unknown>): Promise<boolean> {
    switch (command.type) {
      case 'power':
        if (command.on === false) this.powerOff();
        else await this.powerOn();
        return true;
      case 'join':
        await this.join();
        return true;
      case 'leave':
        await this.leave();
        return true;
      case 'permit-join':
        this.permitJoin(typeof command.seconds === 'number' ? command.seconds : 60);
        return true;
      case 'reset-network-state':
        this.resetNetworkState();
        return true;
      default:
        return false;
    }
  }

  /**
   * Tune the radio (e.g. an HHT talking Inter-PAN to a hub it found by scanning). A joined
   * node stays on its network's channel: it is retuned on the next power on or join.
   */
  tune(page: number, channel: number): void {
    this.retune(page, channel);
  }

  /** Coordinator: allow joining for `seconds` (0 closes, 255 = until closed, §3.2.2.5). */
  permitJoin(seconds: number): void {
    if (this.config.role !== 'coordinator')
      throw new Error('permitJoin: only the coordinator admits joiners here');
    this.ram.permitJoinUntil =
      seconds >= 255 ? Number.POSITIVE_INFINITY : this.clock.now() + seconds * 1_000_000;
    this.emit({ type: 'permit-join', seconds });
  }

  get permittingJoin(): boolean {
    return this.clock.now() < this.ram.permitJoinUntil;
  }

  /**
   * Join through association (05-3474 §3.6.1.4.1): active scan over the channel list, parent
   * selection, MAC association, then wait for Transport Key under the preconfigured link key.
   */
  async join(): Promise<JoinResult> {
    if (!this.powered) return 'powered-off';
    if (this.config.role === 'coordinator') throw new Error('the coordinator forms, it does not join');
    if (this.ram.joined || this.ram.joinState !== 'idle') return 'busy';
    const ram = this.ram;
    const result = await this.joinSteps(ram);
    if (this.ram !== ram) return 'powered-off';
    ram.joinState = 'idle';
    if (result === 'joined') {
      this.securityLog.record('join-succeeded', { pan: ram.net?.panId ?? 0 }, GbAlertCode.joinSucceeded);
    } else {
      this.securityLog.record('join-failed', { reason: result }, GbAlertCode.joinFailed);
      this.resetRam();
      this.setNwkState('not-joined');
    }
    return result;
  }

  /** Leave the network (NWK Leave, §3.6.1.10) and return to the post-reset state. */
  async leave(): Promise<boolean> {
    if (!this.joined || !this.ram.net) {
      this.securityLog.record('unjoin-failed', { reason: 'not-joined' }, GbAlertCode.unjoinFailed);
      return false;
    }
    if (this.config.role !== 'coordinator') {
      await this.nwkSendCommand(NWK_BROADCAST_RX_ON_WHEN_IDLE, undefined, {
        id: 'leave',
        rejoin: false,
        request: false,
        removeChildren: false,
      });
    }
    this.resetNetworkState();
    this.securityLog.record('unjoin-succeeded', {}, GbAlertCode.unjoinSucceeded);
    return true;
  }

  /**
   * Coordinator: ask a child to leave (Device Log removal) and forget it. The request is a
   * Mgmt_Leave_req secured with the child's APS link key, the only leave a GB device obeys
   * (see `nwkLeaveRequestAllowed`).
   */
  async removeChild(eui64: string): Promise<SendStatus> {
    const c = this.tc?.child(eui64);
    if (!c) return 'no-ack';
    const key = this.linkKey(eui64);
    this.ram.zdoTsn = (this.ram.zdoTsn + 1) & 0xff;
    const st = key
      ? await this.sendZdo(
          c.short,
          {
            command: 'mgmtLeaveReq',
            transactionSequenceNumber: this.ram.zdoTsn,
            deviceAddress: eui64,
            removeChildren: false,
            rejoin: false,
          },
          key,
        )
      : 'no-ack';
    this.tc?.remove(eui64);
    this.ram.addressMap.delete(eui64);
    this.emit({ type: 'child-removed', eui64 });
    return toSendStatus(st);
  }

  /**
   * The post-reset state of §3.6.1.4.1: not joined, EPID 0, PAN 0xffff, short 0xffff, no
   * network key, no neighbours, no parent. Kept: EUI64, the preconfigured (install-code) key
   * material, frame counters (never reused), the security log. ASSUMPTION: CBKE and partner
   * link keys belong to the old HAN association and are dropped; install-code keys stay.
   */
  resetNetworkState(): void {
    const table = this.nvm.read<Record<string, LinkKeyRecord>>(LINK_KEYS_KEY) ?? {};
    for (const [peer, rec] of Object.entries(table)) if (rec.origin !== 'install-code') delete table[peer];
    this.nvm.commit({
      [NETWORK_KEY]: undefined,
      'stack.children': undefined,
      [LINK_KEYS_KEY]: table as unknown as NvValue,
    });
    this.resetRam();
    if (this.tc) this.tc.clear();
    this.setNwkState('not-joined');
  }

  // ---------------------------------------------------------------- internals: state

  private freshRam(): Ram {
    const ram = new Ram(
      new PersistedCounter(this.nvm, NWK_FC_KEY),
      new PersistedCounter(this.nvm, APS_FC_KEY),
      this.prng,
      this.fragmentation,
    );
    const table = this.nvm.read<Record<string, LinkKeyRecord>>(LINK_KEYS_KEY) ?? {};
    for (const [peer, rec] of Object.entries(table)) ram.linkKeys.set(peer, rec);
    return ram;
  }

  /** Drop network state from RAM (link keys and counters stay). */
  private resetRam(): void {
    const ram = this.ram;
    ram.net = null;
    ram.joined = false;
    ram.networkKey = null;
    ram.addressMap.clear();
    ram.nwkIncoming.clear();
    ram.permitJoinUntil = 0;
    ram.fastPoll = false;
    const table = this.nvm.read<Record<string, LinkKeyRecord>>(LINK_KEYS_KEY) ?? {};
    ram.linkKeys = new Map(Object.entries(table));
    this.mac.panId = MAC_BROADCAST_PAN;
    this.mac.shortAddress = MAC_BROADCAST_ADDRESS;
  }

  private setNwkState(state: NwkStateName): void {
    const n = this.ram.net;
    this.emit({
      type: 'nwk-state',
      state,
      ...(n
        ? { panId: n.panId, extendedPanId: n.extendedPanId, short: n.short, channel: n.channel, page: n.page }
        : {}),
    });
  }

  private persistNetwork(): void {
    if (this.ram.net) this.nvm.commit({ [NETWORK_KEY]: this.ram.net as unknown as NvValue });
  }

  private form(): void {
    const ch = this.channels[0]!;
    const key = new Uint8Array(16);
    // ASSUMPTION: the network key comes from the seeded Prng (a real CH uses its TRNG) so runs repeat.
    for (let i = 0; i < 16; i++) key[i] = this.prng.nextUint32() & 0xff;
    const net: NetworkRecord = {
      panId: this.config.panId ?? 1 + (this.prng.nextUint32() % 0xfffe),
      extendedPanId: this.eui64, // GB: EPID = the CH's EUI64 (protocol-notes §3)
      short: 0x0000,
      page: ch.page,
      channel: ch.channel,
      networkKey: toHex(key),
      keySequenceNumber: 0,
      parentEui64: null,
      parentShort: null,
      tcEui64: this.eui64,
    };
    this.nvm.commit({ [NETWORK_KEY]: net as unknown as NvValue });
    this.restoreNetwork(net, true);
    this.emit({
      type: 'formed',
      panId: net.panId,
      extendedPanId: net.extendedPanId,
      channel: net.channel,
      page: net.page,
    });
  }

  private restoreNetwork(net: NetworkRecord, joined: boolean): void {
    this.ram.net = net;
    this.ram.networkKey = fromHex(net.networkKey);
    this.ram.joined = joined;
    this.mac.panId = net.panId;
    this.mac.shortAddress = net.short;
    this.retune(net.page, net.channel);
    if (net.parentEui64 !== null && net.parentShort !== null)
      this.ram.addressMap.set(net.parentEui64, net.parentShort);
    if (net.tcEui64 !== null && net.tcEui64 !== this.eui64) this.ram.addressMap.set(net.tcEui64, 0x0000);
    this.exportKey('network', 'network', this.ram.networkKey, undefined, net.keySequenceNumber);
  }

  /** Tune the radio; a page of the other band moves a dual-band radio there, and the MAC with it. */
  private retune(page: number, channel: number): void {
    this.mac.retune(() => {
      const reg = this.radio.registration;
      if (reg.page === page && reg.channel === channel) return;
      const band = bandOfPage(page) ?? reg.band;
      const pageChanged = reg.page !== page;
      this.radio.setChannel(page, channel, band);
      if (pageChanged) this.mac.setPhy(phyForPage(page));
    });
  }

  private exportKey(
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

  private lookupShort(eui64: string): number | undefined {
    if (eui64 === this.ram.net?.tcEui64) return 0x0000;
    return this.ram.addressMap.get(eui64) ?? this.tc?.child(eui64)?.short;
  }

  /**
   * NWK address discovery (ZDO NWK_addr_req, §2.4.3.1.1). ASSUMPTION: sent unicast to the
   * coordinator, which is every device's parent in this star and answers for all of them.
   */
  private async resolveAddress(eui64: string): Promise<number | undefined> {
    const ram = this.ram;
    if (this.config.role === 'coordinator' || !ram.joined) return undefined;
    const waiting = ram.addrWaiters.get(eui64);
    const result = new Promise<number | undefined>((resolve) => {
      const list = waiting ?? [];
      list.push(resolve);
      ram.addrWaiters.set(eui64, list);
    });
    if (!waiting) {
      ram.fastPoll = true;
      this.pollSoon(ram);
      const t = this.mac.timer(Math.max(2_000_000, (this.config.pollPeriodUs ?? 0) + 1_000_000), () =>
        this.settleAddress(ram, eui64, undefined),
      );
      void result.then(() => t.cancel());
      ram.zdoTsn = (ram.zdoTsn + 1) & 0xff;
      await this.sendZdo(0x0000, {
        command: 'nwkAddrReq',
        transactionSequenceNumber: ram.zdoTsn,
        ieeeAddress: eui64,
        requestType: 0,
        startIndex: 0,
      });
    }
    const short = await result;
    this.emit({ type: 'address-resolved', eui64, short: short ?? null });
    return short;
  }

  private settleAddress(ram: Ram, eui64: string, short: number | undefined): void {
    const list = ram.addrWaiters.get(eui64);
    if (!list) return;
    ram.addrWaiters.delete(eui64);
    if (ram.addrWaiters.size === 0) ram.fastPoll = false;
    if (short !== undefined) ram.addressMap.set(eui64, short);
    for (const r of list) r(short);
  }

  /** A unicast ZDO message; APS-secured with `linkKey` (data key) when given. */
  private async sendZdo(dest: number, msg: ZdoMessage, linkKey?: Uint8Array): Promise<MacTxStatus> {
    const zdo = encodeZdo(msg);
    const frame: ApsPlainFrame = {
      frameType: 'data',
      deliveryMode: 'unicast',
      ackRequest: false,
      counter: this.nextApsCounter(),
      destinationEndpoint: ZDO_ENDPOINT,
      clusterId: zdo.clusterId,
      profileId: ZDO_PROFILE_ID,
      sourceEndpoint: ZDO_ENDPOINT,
      security: false,
      payload: zdo.payload,
    };
    let aps: Uint8Array;
    try {
      aps = linkKey
        ? secureApsFrame(frame, {
            key: linkKey,
            keyId: 'data',
            frameCounter: this.ram.apsFc.take(),
            sourceEui64: this.eui64,
          })
        : encodeApsFrame(frame);
    } catch (e) {
      this.emit({ type: 'send-failed', reason: 'nvm', detail: (e as Error).message });
      return 'radio-refused';
    }
    return this.nwkSendData(dest, this.euiOf(dest), aps, true);
  }

  private nextApsCounter(): number {
    this.ram.apsCounter = (this.ram.apsCounter + 1) & 0xff;
    return this.ram.apsCounter;
  }

  private capability(): CapabilityInformation {
    const role = this.config.role;
    return {
      alternatePanCoordinator: false,
      deviceType: role === 'router' || role === 'coordinator',
      powerSource: role !== 'sleepy-end-device',
      receiverOnWhenIdle: role !== 'sleepy-end-device',
      securityCapability: false,
      allocateAddress: true,
    };
  }

  // ---------------------------------------------------------------- join / rejoin

  /**
   * One active scan (Beacon Request on each channel, scan duration each) without joining:
   * every ZigBee beacon heard (an HHT lists the CHs by EPID). Not while joined or joining;
   * the radio is left on the last channel scanned.
   */
  async activeScan(channels: readonly ChannelSpec[] = this.channels): Promise<Beacon[]> {
    const ram = this.ram;
    if (!this.powered || ram.joinState !== 'idle' || ram.joined) return [];
    ram.joinState = 'scanning';
    ram.beacons = [];
    const release = this.mac.stayAwake();
    try {
      await this.scanChannels(ram, channels, this.config.scanDuration ?? 3);
    } finally {
      release();
      if (this.ram === ram) ram.joinState = 'idle';
    }
    return this.ram === ram ? [...ram.beacons] : [];
  }

  /** Beacon Request on each channel, then listen scan duration n; false if powered off meanwhile. */
  private async scanChannels(ram: Ram, channels: readonly ChannelSpec[], n: number): Promise<boolean> {
    for (const ch of channels) {
      this.retune(ch.page, ch.channel);
      const phy = phyForPage(ch.page);
      await this.mac.send({
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
      await this.mac.sleep(960 * (2 ** n + 1) * phy.symbolPeriodUs);
      if (this.ram !== ram) return false;
    }
    return true;
  }

  private async joinSteps(ram: Ram): Promise<JoinResult> {
    if (!this.preconfiguredKey) {
      this.emit({ type: 'join-failed', reason: 'no-preconfigured-link-key' });
      return 'no-key';
    }
    ram.joinState = 'scanning';
    this.setNwkState('scanning');
    const release = this.mac.stayAwake();
    const n = this.config.scanDuration ?? 3;
    ram.beacons = [];
    // ASSUMPTION: up to 3 active scans (beacons from several routers can collide on air).
    for (let scan = 0; scan < 3 && !ram.beacons.some((b) => this.suitable(b)); scan++)
      if (!(await this.scanChannels(ram, this.channels, n))) return 'powered-off';
    release();
    // Parent selection (§3.6.1.4.1.1): EPID match if configured, association permitted, best LQI.
    const candidates = ram.beacons
      .filter((b) => this.suitable(b))
      .sort((a, b) => b.lqi - a.lqi || a.short - b.short);
    this.emit({ type: 'scan-done', beacons: ram.beacons.length, candidates: candidates.length });
    const parent = candidates[0];
    if (!parent) return 'no-network';
    ram.joinState = 'associating';
    this.setNwkState('associating');
    this.retune(parent.page, parent.channel);
    this.mac.panId = parent.pan;
    const assoc = await this.associate(ram, parent);
    if (this.ram !== ram) return 'powered-off';
    if (assoc?.status !== 0) {
      this.emit({ type: 'join-refused', by: parent.eui64 ?? parent.short, status: assoc?.status ?? null });
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
    this.mac.shortAddress = assoc.short;
    ram.joinState = 'awaiting-key';
    this.setNwkState('awaiting-key');
    const gotKey = await this.waitFor<boolean>(
      ram,
      (resolve) => {
        ram.keyWaiter = resolve;
      },
      this.config.transportKeyTimeoutUs ?? 5_000_000,
      false,
    );
    ram.keyWaiter = null;
    if (this.ram !== ram) return 'powered-off';
    if (!gotKey) {
      this.emit({ type: 'join-failed', reason: 'transport-key-timeout' });
      return 'no-key';
    }
    await this.becomeJoined(ram, 'joined');
    return 'joined';
  }

  private suitable(b: Beacon): boolean {
    return b.permit && (this.epidFilter === undefined || b.extendedPanId === this.epidFilter);
  }

  /** Wait for a waiter to be resolved, polling the parent meanwhile when sleepy. */
  private async waitFor<T>(
    ram: Ram,
    arm: (resolve: (v: T) => void) => void,
    timeoutUs: number,
    onTimeout: T,
  ): Promise<T> {
    ram.fastPoll = true;
    const result = await new Promise<T>((resolve) => {
      let done = false;
      const finish = (v: T) => {
        if (done) return;
        done = true;
        t.cancel();
        resolve(v);
      };
      const t = this.mac.timer(timeoutUs, () => finish(onTimeout));
      arm(finish);
      if (!this.mac.rxOnWhenIdle) this.schedulePoll(ram, this.mac.responseWaitUs);
    });
    ram.fastPoll = false;
    return result;
  }

  private associate(ram: Ram, parent: Beacon): Promise<{ short: number; status: number } | null> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: { short: number; status: number } | null) => {
        if (done) return;
        done = true;
        ram.assocWaiter = null;
        resolve(r);
      };
      ram.assocWaiter = finish;
      void (async () => {
        const r = await this.mac.send({
          frameType: 'command',
          sequenceNumber: 0,
          framePending: false,
          ackRequest: true,
          panIdCompression: false,
          frameVersion: 0,
          destinationPan: parent.pan,
          destination: parent.short,
          sourcePan: MAC_BROADCAST_PAN,
          source: this.eui64,
          command: { id: 'associationRequest', capability: this.capability() },
        });
        if (r.status !== 'sent') return finish(null);
        // §7.5.3.1: wait macResponseWaitTime, then extract the response with a Data Request.
        for (let attempt = 0; attempt < 3 && !done; attempt++) {
          await this.mac.sleep(attempt === 0 ? this.mac.responseWaitUs : FAST_POLL_US);
          if (done || this.ram !== ram) return;
          const release = this.mac.stayAwake();
          const p = await this.mac.send(this.dataRequest(parent.pan, parent.short, this.eui64));
          if (p.status === 'sent' && p.ack?.framePending) await this.mac.sleep(POLL_WINDOW_US);
          release();
        }
        if (!done) finish(null);
      })();
    });
  }

  private dataRequest(pan: number, parent: number, source: MacAddress): MacFrame {
    return {
      frameType: 'command',
      sequenceNumber: 0,
      framePending: false,
      ackRequest: true,
      panIdCompression: true,
      frameVersion: 0,
      destinationPan: pan,
      destination: parent,
      source,
      command: { id: 'dataRequest' },
    };
  }

  /** Secured NWK rejoin (§3.6.1.4.2) from the network state in NVM. */
  /**
   * APS Request Key for an application (partner) link key with `partner` (05-3474 §4.4.5,
   * §4.4.10.5): the Trust Centre sends both devices the same new key in Transport Key
   * (applicationLink), which is stored with origin 'partner'. `'no-key'` when none arrived
   * within `timeoutUs` (a Trust Centre that refuses stays silent).
   */
  async requestPartnerLinkKey(partner: string, timeoutUs = 5_000_000): Promise<PartnerKeyResult> {
    const ram = this.ram;
    const tc = ram.net?.tcEui64;
    if (!this.joined || !ram.net || !tc || this.config.role === 'coordinator') return 'not-joined';
    const tcKey = this.linkKey(tc);
    if (!tcKey) return 'no-link-key';
    if (ram.partnerKeyWaiters.has(partner)) return 'no-ack';
    const received = new Promise<boolean>((resolve) => ram.partnerKeyWaiters.set(partner, resolve));
    ram.fastPollHolds++;
    const timer = this.mac.timer(timeoutUs, () => ram.partnerKeyWaiters.get(partner)?.(false));
    try {
      const bytes = this.secureApsCommand(
        { id: 'requestKey', keyType: 'applicationLink', partner },
        tcKey,
        'data',
      );
      const st = await this.nwkSendData(0x0000, tc, bytes, true);
      if (st !== 'sent') return 'no-ack';
      this.pollSoon(ram);
      return (await received) ? 'received' : 'no-key';
    } finally {
      timer.cancel();
      ram.partnerKeyWaiters.delete(partner);
      ram.fastPollHolds--;
    }
  }

  /** A unicast APS command secured with `key` (counter persisted before use; throws if NVM fails). */
  private secureApsCommand(command: ApsCommand, key: Uint8Array, keyId: 'data' | 'keyTransport'): Uint8Array {
    const aps: ApsPlainFrame = {
      frameType: 'command',
      deliveryMode: 'unicast',
      ackRequest: false,
      counter: this.nextApsCounter(),
      security: false,
      command,
    };
    return secureApsFrame(aps, { key, keyId, frameCounter: this.ram.apsFc.take(), sourceEui64: this.eui64 });
  }

  /** Trust Centre: a Request Key for a partner link key -> Transport Key to both, or silence. */
  private onRequestPartnerKey(partner: string, apsSecured: boolean, requester: string | undefined): void {
    const tc = this.tc;
    if (!tc) {
      this.drop('APS', 'request-key-not-trust-centre');
      return;
    }
    if (!apsSecured || !requester) {
      this.drop('APS', 'request-key-unsecured', { from: requester ?? 'unknown' });
      return;
    }
    const allowed = this.config.partnerKeyPolicy
      ? this.config.partnerKeyPolicy(requester, partner)
      : tc.child(requester)?.authenticated === true && tc.child(partner)?.authenticated === true;
    const a = tc.child(requester);
    const b = tc.child(partner);
    const keyA = this.linkKey(requester);
    const keyB = this.linkKey(partner);
    if (!allowed || !a || !b || !keyA || !keyB || requester === partner) {
      this.emit({ type: 'partner-key', requester, partner, status: 'refused' });
      this.securityLog.record('partner-key-refused', { requester, partner });
      return;
    }
    // ASSUMPTION: the Trust Centre's seeded Prng stands in for its TRNG (runs repeat).
    const key = new Uint8Array(16);
    for (let i = 0; i < 16; i++) key[i] = this.prng.nextUint32() & 0xff;
    this.emit({ type: 'partner-key', requester, partner, status: 'sent' });
    void this.sendPartnerKey(a.short, requester, keyA, key, partner, true);
    void this.sendPartnerKey(b.short, partner, keyB, key, requester, false);
  }

  private async sendPartnerKey(
    short: number,
    to: string,
    toKey: Uint8Array,
    key: Uint8Array,
    partner: string,
    initiator: boolean,
  ): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = this.secureApsCommand(
        { id: 'transportKey', keyType: 'applicationLink', key, partner, initiator },
        toKey,
        'keyTransport',
      );
    } catch (e) {
      this.emit({ type: 'send-failed', reason: 'nvm', to, detail: (e as Error).message });
      return;
    }
    await this.nwkSendData(short, to, bytes, true);
  }

  async rejoin(): Promise<JoinResult> {
    const ram = this.ram;
    const net = ram.net;
    if (!this.powered || !net || !ram.networkKey || net.parentShort === null) return 'no-network';
    if (ram.joinState !== 'idle') return 'busy';
    ram.joinState = 'rejoining';
    this.setNwkState('rejoining');
    let response: { short: number; status: number } | null = null;
    for (let attempt = 0; attempt < 3 && response === null; attempt++) {
      const wait = this.waitFor<{ short: number; status: number } | null>(
        ram,
        (resolve) => {
          ram.rejoinWaiter = resolve;
        },
        2_000_000,
        null,
      );
      const sent = await this.nwkSendCommand(net.parentShort, net.parentEui64 ?? undefined, {
        id: 'rejoinRequest',
        capability: this.capability(),
      });
      if (sent !== 'sent') ram.rejoinWaiter?.(null);
      response = await wait;
      ram.rejoinWaiter = null;
      if (this.ram !== ram) return 'powered-off';
    }
    ram.joinState = 'idle';
    if (response?.status !== 0) {
      this.emit({ type: 'rejoin-failed', status: response?.status ?? null });
      this.securityLog.record('rejoin-failed', { status: response?.status ?? -1 }, GbAlertCode.joinFailed);
      this.setNwkState('not-joined');
      return response ? 'refused' : 'no-network';
    }
    net.short = response.short;
    this.mac.shortAddress = response.short;
    await this.becomeJoined(ram, 'rejoined');
    this.securityLog.record('rejoin-succeeded', { short: response.short }, GbAlertCode.joinSucceeded);
    return 'joined';
  }

  private async becomeJoined(ram: Ram, how: 'joined' | 'rejoined'): Promise<void> {
    ram.joined = true;
    this.persistNetwork();
    this.setNwkState('joined');
    this.emit({ type: how, panId: ram.net?.panId, short: ram.net?.short, parent: ram.net?.parentEui64 });
    if (!this.mac.rxOnWhenIdle) this.schedulePoll(ram, this.config.pollPeriodUs ?? 1_000_000);
    await this.sendDeviceAnnce();
    void this.securityLog.flush();
  }

  private async sendDeviceAnnce(): Promise<void> {
    const net = this.ram.net;
    if (!net) return;
    this.ram.zdoTsn = (this.ram.zdoTsn + 1) & 0xff;
    const zdo = encodeZdo({
      command: 'deviceAnnce',
      transactionSequenceNumber: this.ram.zdoTsn,
      nwkAddress: net.short,
      ieeeAddress: this.eui64,
      capability: this.capability(),
    });
    const aps = encodeApsFrame({
      frameType: 'data',
      deliveryMode: 'broadcast',
      ackRequest: false,
      counter: this.nextApsCounter(),
      destinationEndpoint: ZDO_ENDPOINT,
      clusterId: zdo.clusterId,
      profileId: ZDO_PROFILE_ID,
      sourceEndpoint: ZDO_ENDPOINT,
      security: false,
      payload: zdo.payload,
    });
    await this.nwkSendData(NWK_BROADCAST_RX_ON_WHEN_IDLE, undefined, aps, true);
  }

  /** Sleepy device: poll the parent every period (fast while joining or awaiting a reply). */
  private schedulePoll(ram: Ram, firstUs: number): void {
    const at = this.clock.now() + firstUs;
    if (ram.pollTimer?.active) {
      if (ram.pollTimer.at <= at) return;
      ram.pollTimer.cancel(); // a sooner poll is wanted (fast poll started)
    }
    const tick = () => {
      ram.pollTimer = null;
      if (this.ram !== ram || !this.powered) return;
      const net = ram.net;
      const fast = this.pollingFast(ram);
      if (!net || net.parentShort === null || (!ram.joined && !fast)) return;
      void this.poll(ram);
      ram.pollTimer = this.mac.timer(fast ? FAST_POLL_US : (this.config.pollPeriodUs ?? 1_000_000), tick);
    };
    ram.pollTimer = this.mac.timer(firstUs, tick);
  }

  /**
   * ZigBee "fast poll": while joining, resolving an address, waiting for an APS ack, or after
   * sending a frame whose reply is expected (`OutgoingZcl.awaitReplyUs`), a sleepy device polls
   * every 250 ms instead of its poll period.
   */
  private pollingFast(ram: Ram): boolean {
    if (ram.fastPoll || ram.fastPollHolds > 0) return true;
    const now = this.clock.now();
    for (const [peer, until] of ram.awaitingReply) {
      if (until > now) return true;
      ram.awaitingReply.delete(peer);
    }
    return false;
  }

  /** Sleepy device: make the next poll a fast one. */
  private pollSoon(ram: Ram): void {
    if (!this.mac.rxOnWhenIdle && ram.net) this.schedulePoll(ram, FAST_POLL_US);
  }

  private async poll(ram: Ram): Promise<void> {
    const net = ram.net;
    if (!net || net.parentShort === null) return;
    const release = this.mac.stayAwake();
    const r = await this.mac.send(this.dataRequest(net.panId, net.parentShort, net.short));
    if (r.status === 'sent' && r.ack?.framePending) await this.mac.sleep(POLL_WINDOW_US);
    release();
  }

  // ---------------------------------------------------------------- NWK transmit

  /** Next hop for a NWK destination: MAC address and whether to hold it for a sleepy child. */
  private nextHop(dest: number): { mac: number; indirect: boolean } | null {
    const net = this.ram.net;
    if (!net) return null;
    if (dest >= 0xfff8) return { mac: MAC_BROADCAST_ADDRESS, indirect: false };
    if (this.config.role === 'end-device' || this.config.role === 'sleepy-end-device') {
      return net.parentShort === null ? null : { mac: net.parentShort, indirect: false };
    }
    if (this.config.role === 'coordinator') {
      const c = this.tc?.childByShort(dest);
      if (c) return { mac: c.short, indirect: !c.rxOnWhenIdle };
      return { mac: dest, indirect: false };
    }
    // ASSUMPTION (star, README): routers have no children of their own, and every device's
    // frames go through the coordinator both ways - as an end device's do - so a frame between
    // two HAN devices takes the same path whichever of them sends it.
    return { mac: 0x0000, indirect: false };
  }

  private macData(dest: number | string, payload: Uint8Array, pan: number, ackRequest: boolean): MacFrame {
    return {
      frameType: 'data',
      sequenceNumber: 0,
      framePending: false,
      ackRequest,
      panIdCompression: true,
      frameVersion: 0,
      destinationPan: pan,
      destination: dest,
      source: this.mac.shortAddress,
      payload,
    };
  }

  private async macSendNwk(destShortNwk: number, nwkBytes: Uint8Array): Promise<MacTxStatus> {
    const net = this.ram.net;
    const hop = this.nextHop(destShortNwk);
    if (!net || !hop) return 'no-ack';
    const broadcast = hop.mac === MAC_BROADCAST_ADDRESS;
    const frame = this.macData(hop.mac, nwkBytes, net.panId, !broadcast);
    const r = hop.indirect ? await this.mac.sendIndirect(frame) : await this.mac.send(frame);
    return r.status;
  }

  private nwkHeader(dest: number, destIeee: string | undefined) {
    this.ram.nwkSeq = (this.ram.nwkSeq + 1) & 0xff;
    return {
      protocolVersion: 2,
      discoverRoute: 0,
      endDeviceInitiator: false,
      destination: dest,
      source: this.mac.shortAddress,
      radius: DEFAULT_RADIUS,
      sequenceNumber: this.ram.nwkSeq,
      ...(destIeee !== undefined && dest < 0xfff8 ? { destinationIeee: destIeee } : {}),
      sourceIeee: this.eui64,
    };
  }

  private secureNwk(frame: NwkPlainFrame): Uint8Array {
    const net = this.ram.net!;
    return secureNwkFrame(frame, {
      key: this.ram.networkKey!,
      frameCounter: this.ram.nwkFc.take(), // persisted before use
      sourceEui64: this.eui64,
      keySequenceNumber: net.keySequenceNumber,
    });
  }

  private async nwkSendData(
    dest: number,
    destIeee: string | undefined,
    aps: Uint8Array,
    secure: boolean,
  ): Promise<MacTxStatus> {
    if (!this.ram.net) return 'no-ack';
    const frame: NwkPlainFrame = {
      ...this.nwkHeader(dest, destIeee),
      frameType: 'data',
      security: false,
      payload: aps,
    };
    let bytes: Uint8Array;
    try {
      bytes = secure ? this.secureNwk(frame) : encodeNwkFrame(frame);
    } catch (e) {
      this.emit({ type: 'send-failed', reason: 'nvm', detail: (e as Error).message });
      return 'radio-refused';
    }
    return this.macSendNwk(dest, bytes);
  }

  private async nwkSendCommand(
    dest: number,
    destIeee: string | undefined,
    command: NwkCommand,
  ): Promise<MacTxStatus> {
    if (!this.ram.net || !this.ram.networkKey) return 'no-ack';
    const frame: NwkPlainFrame = {
      ...this.nwkHeader(dest, destIeee),
      frameType: 'command',
      security: false,
      command,
    };
    let bytes: Uint8Array;
    try {
      bytes = this.secureNwk(frame);
    } catch (e) {
      this.emit({ type: 'send-failed', reason: 'nvm', detail: (e as Error).message });
      return 'radio-refused';
    }
    return this.macSendNwk(dest, bytes);
  }

  // ---------------------------------------------------------------- receive

  private drop(layer: string, reason: string, detail: Record<string, unknown> = {}): void {
    this.emit({ type: 'frame-dropped', layer, reason, ...detail });
  }

  /** An attempt refused for want of authority: traced drop, security log entry and GB alert. */
  private refuse(layer: string, reason: string, detail: Record<string, string | number | boolean>): void {
    this.drop(layer, reason, detail);
    this.securityLog.record(reason, detail, GbAlertCode.unauthorisedCommunicationAccess);
  }

  private onMacFrame(f: Exclude<MacFrame, { frameType: 'ack' }>, rx: ReceivedFrame): void {
    try {
      this.handleMacFrame(f, rx);
    } catch (e) {
      // Bad input never crashes a node: anything a handler did not expect is a traced drop.
      const reason =
        e instanceof ZigbeeDecodeError
          ? `${e.layer.toLowerCase()}-${e.code.toLowerCase()}`
          : 'unexpected-error';
      this.drop('NODE', reason, { detail: (e as Error).message });
    }
  }

  private handleMacFrame(f: Exclude<MacFrame, { frameType: 'ack' }>, rx: ReceivedFrame): void {
    if (f.frameType === 'beacon') {
      this.onBeacon(f, rx);
      return;
    }
    if (f.frameType === 'command') {
      this.onMacCommand(f);
      return;
    }
    if (isInterPanFrame(f.payload)) {
      this.onInterPan(f, rx);
      return;
    }
    this.onNwk(f, rx);
  }

  private onBeacon(f: Extract<MacFrame, { frameType: 'beacon' }>, rx: ReceivedFrame): void {
    if (
      this.ram.joinState !== 'scanning' ||
      !f.zigbee ||
      typeof f.source !== 'number' ||
      f.sourcePan === undefined
    )
      return;
    this.ram.beacons.push({
      pan: f.sourcePan,
      short: f.source,
      extendedPanId: f.zigbee.extendedPanId,
      page: this.radio.registration.page,
      channel: this.radio.registration.channel,
      lqi: rx.lqi,
      permit: f.superframe.associationPermit && f.zigbee.endDeviceCapacity,
      ...(f.source === 0 ? { eui64: f.zigbee.extendedPanId } : {}),
    });
  }

  private onMacCommand(f: Extract<MacFrame, { frameType: 'command' }>): void {
    const c = f.command;
    const net = this.ram.net;
    switch (c.id) {
      case 'beaconRequest':
        if (
          net &&
          this.ram.joined &&
          this.config.role !== 'end-device' &&
          this.config.role !== 'sleepy-end-device'
        ) {
          void this.sendBeacon();
        }
        return;
      case 'associationRequest':
        if (typeof f.source === 'string') this.onAssociationRequest(f.source, c.capability);
        return;
      case 'associationResponse':
        if (this.ram.assocWaiter) {
          // the parent's EUI64 comes with the response (§7.3.2: source is extended)
          if (typeof f.source === 'string') this.ram.assocParentEui = f.source;
          this.ram.assocWaiter({ short: c.shortAddress, status: c.status });
        }
        return;
      default:
        return; // data requests are served by the MAC engine
    }
  }

  private async sendBeacon(): Promise<void> {
    const net = this.ram.net!;
    const coordinator = this.config.role === 'coordinator';
    const permit = coordinator && this.permittingJoin;
    await this.mac.send({
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
        panCoordinator: coordinator,
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
        deviceDepth: coordinator ? 0 : 1,
        endDeviceCapacity: permit,
        extendedPanId: net.extendedPanId,
        txOffset: 0xffffff,
        nwkUpdateId: 0,
      },
    });
  }

  /** Coordinator (TC and parent): MAC association (§7.5.3) then Transport Key (§4.6.3.2). */
  private onAssociationRequest(eui64: string, capability: CapabilityInformation): void {
    const tc = this.tc;
    const net = this.ram.net;
    if (!tc || !net) return;
    let status = 0x00;
    let linkKey: Uint8Array | null = null;
    if (!this.permittingJoin) {
      status = 0x02; // PAN access denied
      this.emit({ type: 'join-refused', eui64, reason: 'permit-join-off' });
    } else {
      const verdict = tc.admission(eui64);
      if (!verdict) {
        // ASSUMPTION: the TC's refusal is given as MAC association status "PAN access denied".
        status = 0x02;
        this.emit({ type: 'join-refused', eui64, reason: 'not-in-device-log' });
        this.securityLog.record('join-refused', { eui64 }, GbAlertCode.unauthorisedCommunicationAccess);
      } else {
        linkKey = verdict.linkKey;
      }
    }
    const short = status === 0 ? tc.allocate(eui64) : MAC_BROADCAST_ADDRESS;
    if (status === 0) {
      tc.upsert({
        eui64,
        short,
        rxOnWhenIdle: capability.receiverOnWhenIdle,
        router: capability.deviceType,
        authenticated: false,
      });
      this.ram.addressMap.set(eui64, short);
      this.emit({ type: 'associated', eui64, short, rxOnWhenIdle: capability.receiverOnWhenIdle });
    }
    const ram = this.ram;
    void this.mac
      .sendIndirect({
        frameType: 'command',
        sequenceNumber: 0,
        framePending: false,
        ackRequest: true,
        panIdCompression: true,
        frameVersion: 0,
        destinationPan: net.panId,
        destination: eui64,
        source: this.eui64,
        command: { id: 'associationResponse', shortAddress: short, status },
      })
      .then((r) => {
        if (this.ram !== ram || status !== 0 || !linkKey) return;
        if (r.status !== 'sent') {
          this.emit({ type: 'join-failed', eui64, reason: `association-response-${r.status}` });
          return;
        }
        this.setLinkKey(eui64, linkKey, 'install-code');
        void this.sendTransportKey(eui64, short, linkKey);
      });
  }

  private async sendTransportKey(eui64: string, short: number, linkKey: Uint8Array): Promise<void> {
    const net = this.ram.net;
    if (!net || !this.ram.networkKey) return;
    const apsBytes = this.secureApsCommand(
      {
        id: 'transportKey',
        keyType: 'network',
        key: this.ram.networkKey,
        sequenceNumber: net.keySequenceNumber,
        destination: eui64,
        source: this.eui64,
      },
      linkKey,
      'keyTransport',
    );
    // The joiner has no network key yet: the NWK frame carrying Transport Key is not NWK-secured (§4.6.3.2.1).
    const st = await this.nwkSendData(short, eui64, apsBytes, false);
    this.emit({ type: 'transport-key', to: eui64, keyType: 'network', status: st });
  }

  private onNwk(f: Extract<MacFrame, { frameType: 'data' }>, rx: ReceivedFrame): void {
    const ram = this.ram;
    let decoded: ReturnType<typeof decodeNwkFrame>;
    try {
      decoded = decodeNwkFrame(f.payload);
    } catch (e) {
      this.drop('NWK', 'nwk-malformed', { detail: (e as Error).message });
      return;
    }
    let frame: NwkPlainFrame;
    let secured = false;
    /** The EUI64 that secured the frame (NWK auxiliary header source, §4.5.1). */
    let securedBy: string | undefined;
    if (decoded.security) {
      if (!ram.networkKey) {
        this.drop('NWK', 'nwk-no-network-key');
        return;
      }
      const src = decoded.aux.sourceAddress;
      if (!src) {
        this.drop('NWK', 'nwk-no-source-address');
        return;
      }
      try {
        frame = unsecureNwkFrame(f.payload, { key: ram.networkKey }).frame;
      } catch (e) {
        this.securityLog.record('nwk-authentication-failed', { from: src });
        this.drop('NWK', 'nwk-bad-mic', { from: src, detail: (e as Error).message });
        return;
      }
      // Incoming frame counter check per sender (§4.3.1.2 step 5): replays are dropped.
      const last = ram.nwkIncoming.get(src);
      if (last !== undefined && decoded.aux.frameCounter <= last) {
        this.securityLog.record('nwk-replay', { from: src, counter: decoded.aux.frameCounter });
        this.drop('NWK', 'nwk-replay', { from: src, counter: decoded.aux.frameCounter, last });
        return;
      }
      ram.nwkIncoming.set(src, decoded.aux.frameCounter);
      secured = true;
      securedBy = src;
    } else {
      // Unsecured NWK frames are accepted only while waiting for Transport Key.
      if (ram.joinState !== 'awaiting-key' || decoded.frameType !== 'data') {
        this.drop('NWK', 'nwk-unsecured', { source: decoded.source });
        return;
      }
      frame = decoded;
    }
    if (frame.sourceIeee) {
      ram.addressMap.set(frame.sourceIeee, frame.source);
      if (secured && this.tc && this.tc.child(frame.sourceIeee)?.short === frame.source) {
        if (this.tc.markAuthenticated(frame.sourceIeee))
          this.emit({ type: 'child-authenticated', eui64: frame.sourceIeee });
      }
    }
    const myShort = this.mac.shortAddress;
    const dest = frame.destination;
    const isRouter = this.config.role === 'coordinator' || this.config.role === 'router';
    const forMe =
      dest === myShort ||
      dest === NWK_BROADCAST_ALL ||
      dest === NWK_BROADCAST_RX_ON_WHEN_IDLE ||
      (dest === NWK_BROADCAST_ROUTERS && isRouter);
    if (!forMe) {
      if (dest < 0xfff8 && this.config.role === 'coordinator' && secured) return void this.relay(frame);
      this.drop('NWK', 'nwk-not-for-me', { destination: dest });
      return;
    }
    if (frame.frameType === 'command') {
      this.onNwkCommand(frame, secured, f.source, securedBy);
      return;
    }
    this.onAps(frame, secured, rx);
  }

  /** Coordinator relays a frame for one of its children (re-secured with its own counter). */
  private async relay(frame: NwkPlainFrame): Promise<void> {
    if (frame.radius <= 1)
      return this.drop('NWK', 'nwk-radius-exhausted', { destination: frame.destination });
    const child = this.tc?.childByShort(frame.destination);
    if (!child) return this.drop('NWK', 'nwk-no-route', { destination: frame.destination });
    const out: NwkPlainFrame = { ...frame, radius: frame.radius - 1 };
    let bytes: Uint8Array;
    try {
      bytes = this.secureNwk(out);
    } catch {
      return;
    }
    const st = await this.macSendNwk(frame.destination, bytes);
    this.emit({ type: 'nwk-relayed', to: child.eui64, status: st });
  }

  /**
   * NWK commands travel one hop (a leave's radius is 1, §3.4.4.2; a rejoin request goes to the
   * parent), so the MAC source, the NWK source and the device that secured the frame must be
   * one and the same: a network-key holder speaking in another's name is refused here unless
   * it forges every one of those fields (the limit of NWK group security, see README).
   */
  private onNwkCommand(
    frame: Extract<NwkPlainFrame, { frameType: 'command' }>,
    secured: boolean,
    macSource: MacAddress | undefined,
    securedBy: string | undefined,
  ): void {
    const c = frame.command;
    const from = frame.sourceIeee ?? this.euiOf(frame.source);
    const macOk = typeof macSource === 'number' ? macSource === frame.source : macSource === from;
    const securedOk = securedBy === undefined || from === undefined || securedBy === from;
    if (!macOk || !securedOk) {
      this.refuse('NWK', 'nwk-command-source-mismatch', {
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
        else if (this.tc && from && this.tc.child(from)) {
          if (this.tc.child(from)?.short !== frame.source) {
            this.refuse('NWK', 'nwk-leave-source-mismatch', { claimed: from, nwkSource: frame.source });
            return;
          }
          this.tc.remove(from);
          this.ram.addressMap.delete(from);
          this.emit({ type: 'child-left', eui64: from });
        }
        return;
      case 'rejoinRequest':
        if (this.tc && from && secured) void this.onRejoinRequest(from, frame.source, c.capability);
        return;
      case 'rejoinResponse':
        this.ram.rejoinWaiter?.({ short: c.networkAddress, status: c.status });
        return;
      default:
        this.emit({ type: 'nwk-command-ignored', command: c.id });
    }
  }

  /**
   * An NWK Leave request (§3.6.1.10.3): acted on only if nwkLeaveRequestAllowed and it came
   * from our parent or the Trust Centre; otherwise refused and logged.
   */
  private onLeaveRequest(sourceShort: number, from: string | undefined): void {
    const net = this.ram.net;
    const fromParent =
      net !== null &&
      ((sourceShort === net.parentShort && (from === undefined || from === net.parentEui64)) ||
        (sourceShort === 0x0000 && (from === undefined || from === net.tcEui64)));
    if (!this.config.nwkLeaveRequestAllowed || !fromParent) {
      this.refuse('NWK', fromParent ? 'nwk-leave-request-not-allowed' : 'nwk-leave-not-from-parent', {
        by: from ?? sourceShort,
      });
      return;
    }
    this.emit({ type: 'leave-requested', by: from ?? sourceShort });
    void this.leave();
  }

  /** Coordinator: secured rejoin (§3.6.1.4.2): known children and logged devices keep their place. */
  private async onRejoinRequest(
    eui64: string,
    oldShort: number,
    capability: CapabilityInformation,
  ): Promise<void> {
    const tc = this.tc!;
    const known = tc.child(eui64);
    let status = 0;
    if (!known && !tc.admission(eui64)) {
      status = 0x02;
      this.emit({ type: 'join-refused', eui64, reason: 'rejoin-not-in-device-log' });
    }
    const short = status === 0 ? tc.allocate(eui64, oldShort) : oldShort;
    if (status === 0) {
      tc.upsert({
        eui64,
        short,
        rxOnWhenIdle: capability.receiverOnWhenIdle,
        router: capability.deviceType,
        authenticated: true,
      });
      this.ram.addressMap.set(eui64, short);
    }
    // Reply to the address the device used (it learns its new one from the payload).
    const frame: NwkPlainFrame = {
      ...this.nwkHeader(oldShort, eui64),
      frameType: 'command',
      security: false,
      command: { id: 'rejoinResponse', networkAddress: short, status },
    };
    const net = this.ram.net!;
    const bytes = this.secureNwk(frame);
    const mf = this.macData(oldShort, bytes, net.panId, true);
    const r = capability.receiverOnWhenIdle ? await this.mac.send(mf) : await this.mac.sendIndirect(mf);
    this.emit({ type: 'rejoin-response', to: eui64, short, status, delivery: r.status });
    if (status === 0 && r.status === 'sent') for (const h of this.childRejoinHandlers) h(eui64);
  }

  private euiOf(short: number): string | undefined {
    for (const [e, s] of this.ram.addressMap) if (s === short) return e;
    return undefined;
  }

  private onAps(
    frame: Extract<NwkPlainFrame, { frameType: 'data' }>,
    nwkSecured: boolean,
    rx: ReceivedFrame,
  ): void {
    const ram = this.ram;
    const decoded = decodeApsFrame(frame.payload);
    const fromEui = frame.sourceIeee ?? this.euiOf(frame.source);
    let plain: ApsPlainFrame;
    let protection: ApsProtection = NOT_PROTECTED;
    if (decoded.security) {
      const src = decoded.aux.sourceAddress ?? fromEui;
      if (!src) {
        this.drop('APS', 'aps-unknown-source');
        return;
      }
      const keyId = decoded.aux.keyId;
      if (keyId === 'network') {
        this.refuse('APS', 'aps-network-key-security', { from: src });
        return;
      }
      const candidates: { key: Uint8Array; protection: ApsProtection }[] = [];
      const k = this.linkKey(src);
      if (k) candidates.push({ key: k, protection: { by: 'link', peer: src, keyId } });
      if (keyId !== 'data' && this.preconfiguredKey)
        candidates.push({ key: this.preconfiguredKey, protection: { by: 'preconfigured', keyId } });
      if (candidates.length === 0) {
        this.drop('APS', 'aps-no-link-key', { from: src });
        return;
      }
      let result: ReturnType<typeof unsecureApsFrame> | null = null;
      for (const c of candidates) {
        try {
          result = unsecureApsFrame(frame.payload, { key: c.key, sourceEui64: src });
          protection = c.protection;
          break;
        } catch {
          /* try the next candidate key */
        }
      }
      if (!result) {
        this.securityLog.record('aps-authentication-failed', { from: src, keyId: decoded.aux.keyId });
        this.drop('APS', 'aps-bad-mic', { from: src, keyId: decoded.aux.keyId });
        return;
      }
      const last = ram.apsIncoming.get(src);
      if (last !== undefined && result.aux.frameCounter <= last) {
        this.drop('APS', 'aps-replay', { from: src, counter: result.aux.frameCounter, last });
        return;
      }
      ram.apsIncoming.set(src, result.aux.frameCounter);
      plain = result.frame;
    } else {
      plain = decoded;
    }
    const apsSecured = protection.by !== 'none';
    if (
      !nwkSecured &&
      !(plain.frameType === 'command' && plain.command.id === 'transportKey' && apsSecured)
    ) {
      this.drop('APS', 'aps-unsecured-before-key');
      return;
    }
    // A link key vouches for its peer only: the NWK source must be that peer.
    if (protection.by === 'link' && fromEui !== undefined && protection.peer !== fromEui) {
      this.refuse('APS', 'aps-source-mismatch', { from: fromEui, securedBy: protection.peer });
      return;
    }
    if (plain.frameType === 'command') {
      this.onApsCommand(plain.command, protection, fromEui);
      return;
    }
    if (plain.frameType === 'ack') {
      this.onApsAck(plain, fromEui);
      return;
    }
    const ext = plain.extendedHeader;
    if (ext !== undefined && ext.fragmentation !== 0) {
      const asdu = this.onApsBlock(
        plain,
        ext.fragmentation,
        ext.blockNumber ?? 0,
        fromEui,
        frame.source,
        apsSecured,
      );
      if (asdu === null) return;
      plain = { ...plain, payload: asdu };
    }
    if (plain.profileId === ZDO_PROFILE_ID && plain.destinationEndpoint === ZDO_ENDPOINT) {
      this.onZdo(plain.clusterId, plain.payload, frame.source, protection);
      return;
    }
    if (!fromEui) {
      this.drop('APS', 'aps-unknown-source-eui64', { source: frame.source });
      return;
    }
    ram.awaitingReply.delete(fromEui); // the reply came
    // The application sees link-key security only for the data key of the sender's own link key.
    const security: FrameSecurity =
      protection.by === 'link' && protection.keyId === 'data' ? 'aps-link' : 'nwk';
    const msg: IncomingZcl = {
      from: { eui64: fromEui, short: frame.source },
      srcEndpoint: plain.sourceEndpoint,
      dstEndpoint: plain.destinationEndpoint ?? SE_ENDPOINT,
      clusterId: plain.clusterId,
      profileId: plain.profileId,
      zcl: plain.payload,
      security,
      interPan: false,
      lqi: rx.lqi,
      rssi: rx.rssi,
    };
    this.deliver(msg);
  }

  /** An APS acknowledgment: only those of blocks we sent are awaited (no other APS acks are requested). */
  private onApsAck(ack: Extract<ApsPlainFrame, { frameType: 'ack' }>, fromEui: string | undefined): void {
    const ext = ack.extendedHeader;
    if (!fromEui || ext === undefined || ext.fragmentation === 0) return;
    // Window size 1: the ack names the block (the window's first) and bit 0 says it arrived.
    if (((ext.ackBitfield ?? 0) & 1) === 0) return;
    const w = this.ram.apsAckWaiters.get(`${fromEui}/${ack.counter}/${ext.blockNumber ?? 0}`);
    if (w) w(true);
    else
      this.drop('APS', 'aps-unexpected-ack', {
        from: fromEui,
        counter: ack.counter,
        block: ext.blockNumber ?? 0,
      });
  }

  /**
   * A block of a fragmented ASDU (§2.2.8.4.5.2): into the reassembly buffer, acknowledged
   * (window of one: block number of the window's first block, bit 0 of the ack bitfield).
   * Returns the whole ASDU when this block completed it, else null. Bad, unexpected or
   * duplicate blocks are traced drops; a buffer that times out is traced when it expires.
   */
  private onApsBlock(
    plain: Extract<ApsPlainFrame, { frameType: 'data' }>,
    fragmentation: 1 | 2,
    blockNumber: number,
    fromEui: string | undefined,
    fromShort: number,
    apsSecured: boolean,
  ): Uint8Array | null {
    const ram = this.ram;
    if (!fromEui) {
      this.drop('APS', 'aps-unknown-source-eui64', { source: fromShort });
      return null;
    }
    const now = this.clock.now();
    const r = ram.reassembler.accept(
      {
        source: fromEui,
        apsCounter: plain.counter,
        fragmentation,
        blockNumber,
        clusterId: plain.clusterId,
        payload: plain.payload,
      },
      now,
    );
    if (r.kind === 'dropped') {
      this.drop('APS', r.reason, {
        from: fromEui,
        counter: plain.counter,
        fragmentation,
        block: blockNumber,
      });
      return null;
    }
    if (plain.ackRequest) void this.sendBlockAck(plain, r.block, fromEui, fromShort, apsSecured);
    this.armReassemblyTimer(ram);
    if (r.duplicate) {
      this.drop('APS', 'aps-fragment-duplicate', { from: fromEui, counter: plain.counter, block: r.block });
      return null;
    }
    if (r.asdu === undefined) {
      // More blocks to come: a sleepy receiver fetches them from its parent without waiting a poll period.
      ram.awaitingReply.set(
        fromEui,
        Math.max(ram.awaitingReply.get(fromEui) ?? 0, now + this.fragmentation.ackWaitUs * 2),
      );
      this.pollSoon(ram);
      return null;
    }
    this.emit({ type: 'aps-reassembled', from: fromEui, counter: plain.counter, octets: r.asdu.length });
    return r.asdu;
  }

  private async sendBlockAck(
    plain: Extract<ApsPlainFrame, { frameType: 'data' }>,
    block: number,
    toEui: string,
    toShort: number,
    apsSecured: boolean,
  ): Promise<void> {
    const ack: ApsPlainFrame = {
      frameType: 'ack',
      deliveryMode: 'unicast',
      ackRequest: false,
      ackFormat: 'data',
      // An ack's endpoints are the data frame's, swapped (§2.2.5.2.3).
      destinationEndpoint: plain.sourceEndpoint,
      clusterId: plain.clusterId,
      profileId: plain.profileId,
      sourceEndpoint: plain.destinationEndpoint ?? SE_ENDPOINT,
      counter: plain.counter,
      extendedHeader: { fragmentation: block === 0 ? 1 : 2, blockNumber: block, ackBitfield: 0x01 },
      security: false,
    };
    const key = apsSecured ? this.linkKey(toEui) : null;
    let bytes: Uint8Array;
    try {
      bytes = key
        ? secureApsFrame(ack, {
            key,
            keyId: 'data',
            frameCounter: this.ram.apsFc.take(),
            sourceEui64: this.eui64,
          })
        : encodeApsFrame(ack);
    } catch (e) {
      this.emit({ type: 'send-failed', reason: 'nvm', to: toEui, detail: (e as Error).message });
      return;
    }
    await this.nwkSendData(toShort, toEui, bytes, true);
  }

  /** Expire idle reassembly buffers (traced as `aps-fragment-timeout` when incomplete). */
  private armReassemblyTimer(ram: Ram): void {
    if (ram.reassemblyTimer?.active) return;
    ram.reassemblyTimer = this.mac.timer(this.fragmentation.reassemblyTimeoutUs, () => {
      ram.reassemblyTimer = null;
      for (const x of ram.reassembler.expire(this.clock.now()))
        this.drop('APS', 'aps-fragment-timeout', {
          from: x.source,
          counter: x.apsCounter,
          received: x.received,
          blocks: x.total,
        });
      if (ram.reassembler.size > 0) this.armReassemblyTimer(ram);
    });
  }

  private deliver(msg: IncomingZcl): void {
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

  private onApsCommand(c: ApsCommand, protection: ApsProtection, fromEui: string | undefined): void {
    const ram = this.ram;
    if (c.id === 'requestKey' && c.keyType === 'applicationLink') {
      const byRequester = protection.by === 'link' && protection.peer === fromEui;
      this.onRequestPartnerKey(c.partner, byRequester, fromEui);
      return;
    }
    if (c.id === 'transportKey' && c.keyType === 'applicationLink') {
      // A partner link key comes from the Trust Centre under the key-transport key derived from
      // the TC link key (§4.4.1.1, §4.4.3.3): only the TC holds that key with us.
      const tc = ram.net?.tcEui64;
      if (
        protection.by !== 'link' ||
        protection.keyId !== 'keyTransport' ||
        !tc ||
        protection.peer !== tc ||
        fromEui !== tc
      ) {
        this.refuse('APS', 'transport-key-not-from-trust-centre', {
          from: fromEui ?? 'unknown',
          security: protection.by === 'none' ? 'none' : `${protection.by}/${protection.keyId}`,
        });
        return;
      }
      // The TC link key itself is never replaced by a partner key (CBKE made it).
      if (c.partner === tc || c.partner === this.eui64) {
        this.refuse('APS', 'transport-key-partner-invalid', { from: fromEui, partner: c.partner });
        return;
      }
      this.setLinkKey(c.partner, c.key, 'partner');
      this.emit({
        type: 'partner-key',
        requester: c.initiator ? this.eui64 : c.partner,
        partner: c.initiator ? c.partner : this.eui64,
        status: 'received',
      });
      ram.partnerKeyWaiters.get(c.partner)?.(true);
      return;
    }
    if (c.id === 'transportKey' && c.keyType === 'network') {
      // Only under the key-transport key of the install-code / TC link key (§4.4.1.1, §4.6.3.2.1).
      if (protection.by === 'none' || protection.keyId !== 'keyTransport') {
        this.refuse('APS', 'transport-key-unsecured', {
          from: fromEui ?? 'unknown',
          security: protection.by === 'none' ? 'none' : `${protection.by}/${protection.keyId}`,
        });
        return;
      }
      if (ram.joinState !== 'awaiting-key' || c.destination !== this.eui64 || !ram.net) {
        this.drop('APS', 'transport-key-unexpected');
        return;
      }
      ram.networkKey = c.key.slice();
      ram.net.networkKey = toHex(c.key);
      ram.net.keySequenceNumber = c.sequenceNumber;
      ram.net.tcEui64 = c.source;
      if (ram.net.parentEui64 === null && ram.assocParentEui) ram.net.parentEui64 = ram.assocParentEui;
      ram.addressMap.set(c.source, 0x0000);
      this.emit({
        type: 'transport-key',
        from: c.source,
        keyType: 'network',
        keySequenceNumber: c.sequenceNumber,
      });
      this.exportKey('network', 'network', c.key, undefined, c.sequenceNumber);
      if (this.preconfiguredKey && !this.linkKey(c.source))
        this.setLinkKey(c.source, this.preconfiguredKey, 'install-code');
      ram.keyWaiter?.(true);
      return;
    }
    this.emit({ type: 'aps-command-ignored', command: c.id });
  }

  private onZdo(
    clusterId: number,
    payload: Uint8Array,
    sourceShort: number,
    protection: ApsProtection,
  ): void {
    let msg: ZdoMessage;
    try {
      msg = decodeZdo(clusterId, payload);
    } catch (e) {
      this.drop('ZDO', 'zdo-malformed', { detail: (e as Error).message });
      return;
    }
    if (msg.command === 'deviceAnnce') {
      this.ram.addressMap.set(msg.ieeeAddress, msg.nwkAddress);
      this.emit({ type: 'device-announced', eui64: msg.ieeeAddress, short: msg.nwkAddress });
      if (this.tc?.child(msg.ieeeAddress) && clusterId === DEVICE_ANNCE_CLUSTER) {
        this.securityLog.record('device-joined', { eui64: msg.ieeeAddress }, GbAlertCode.deviceJoinedSmhan);
      }
      return;
    }
    if (msg.command === 'nwkAddrReq') {
      const short =
        msg.ieeeAddress === this.eui64 ? this.mac.shortAddress : this.lookupShort(msg.ieeeAddress);
      void this.sendZdo(sourceShort, {
        command: 'nwkAddrRsp',
        transactionSequenceNumber: msg.transactionSequenceNumber,
        ...(short === undefined
          ? { status: 0x81 }
          : { status: 0, ieeeAddress: msg.ieeeAddress, nwkAddress: short }),
      });
      return;
    }
    if (msg.command === 'nwkAddrRsp') {
      if (msg.status === 0 && msg.ieeeAddress !== undefined)
        this.settleAddress(this.ram, msg.ieeeAddress, msg.nwkAddress);
      return;
    }
    if (msg.command === 'mgmtLeaveReq') this.onMgmtLeaveRequest(msg, sourceShort, protection);
  }

  /**
   * Mgmt_Leave_req is a restricted ZDO command (05-3474 R22 §2.4.3.3.5, apsZdoRestrictedMode
   * TRUE, as SE devices run): acted on only when the Trust Centre sent it APS-secured with our
   * link key. Anything else is refused (NOT_AUTHORIZED to a unicast) and logged.
   */
  private onMgmtLeaveRequest(
    msg: Extract<ZdoMessage, { command: 'mgmtLeaveReq' }>,
    sourceShort: number,
    protection: ApsProtection,
  ): void {
    const tc = this.ram.net?.tcEui64;
    const fromTc =
      protection.by === 'link' && protection.keyId === 'data' && tc !== undefined && protection.peer === tc;
    if (!fromTc) {
      this.refuse('ZDO', 'mgmt-leave-not-authorised', {
        source: sourceShort,
        security: protection.by === 'none' ? 'nwk' : `${protection.by}/${protection.keyId}`,
      });
      void this.sendZdo(sourceShort, {
        command: 'mgmtLeaveRsp',
        transactionSequenceNumber: msg.transactionSequenceNumber,
        status: ZDO_NOT_AUTHORIZED,
      });
      return;
    }
    if (msg.deviceAddress !== this.eui64) return;
    this.emit({ type: 'leave-requested', by: tc });
    void this.leave();
  }

  private onInterPan(f: Extract<MacFrame, { frameType: 'data' }>, rx: ReceivedFrame): void {
    const refusal = this.interPanGate?.(f.source ?? 0xffff) ?? null;
    if (refusal !== null) {
      this.drop('INTERPAN', refusal, typeof f.source === 'string' ? { from: f.source } : {});
      return;
    }
    if (typeof f.source !== 'string') {
      this.drop('INTERPAN', 'interpan-short-source');
      return;
    }
    const decoded = decodeInterPanFrame(f.payload);
    let payload: Uint8Array;
    let security: FrameSecurity = 'none';
    if (decoded.security) {
      const src = decoded.aux.sourceAddress ?? f.source;
      const key = this.linkKey(src);
      if (!key) {
        this.drop('INTERPAN', 'interpan-no-link-key', { from: src });
        return;
      }
      try {
        const r = unsecureInterPanFrame(f.payload, { key, sourceEui64: src });
        const last = this.ram.apsIncoming.get(src);
        if (last !== undefined && r.aux.frameCounter <= last) {
          this.drop('INTERPAN', 'interpan-replay', { from: src, counter: r.aux.frameCounter });
          return;
        }
        this.ram.apsIncoming.set(src, r.aux.frameCounter);
        payload = r.frame.payload;
        security = 'aps-link';
      } catch (e) {
        this.drop('INTERPAN', 'interpan-bad-mic', { from: src, detail: (e as Error).message });
        return;
      }
    } else {
      payload = decoded.payload;
    }
    this.deliver({
      from: { eui64: f.source },
      srcEndpoint: SE_ENDPOINT,
      dstEndpoint: SE_ENDPOINT,
      clusterId: decoded.clusterId,
      profileId: decoded.profileId,
      zcl: payload,
      security,
      interPan: true,
      ...(f.sourcePan !== undefined ? { sourcePanId: f.sourcePan } : {}),
      lqi: rx.lqi,
      rssi: rx.rssi,
    });
  }
}

function toSendStatus(s: MacTxStatus): SendStatus {
  switch (s) {
    case 'sent':
      return 'sent';
    case 'radio-refused':
      return 'radio-refused';
    default:
      return 'no-ack';
  }
}
