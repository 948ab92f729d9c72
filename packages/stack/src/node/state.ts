/**
 * What a node knows: the network record it keeps in NVM (the NIB fields that survive a power
 * cycle), its link key records, and `NodeState`, everything lost at power off (05-3474 §3.6.1.4.1
 * post-reset state): a power off drops the object, a power on builds a new one from NVM, as a
 * real device's reset would. Code that awaits across a power cycle keeps the state it began
 * with and checks it is still the current one.
 */
import type { Timer } from '@gbhan/clock';
import type { Prng } from '@gbhan/radio-bus';
import { ApsReassembler, type ResolvedFragmentationConfig } from '../aps-fragmentation.js';
import type { PersistedCounter } from '../counters.js';
import type { Beacon } from './config.js';
import { Pending, type TimerSource } from './pending.js';

export const NETWORK_KEY = 'stack.network';
export const LINK_KEYS_KEY = 'stack.linkKeys';
export const NWK_FC_KEY = 'stack.nwkFrameCounter';
export const APS_FC_KEY = 'stack.apsFrameCounter';
/** The Trust Centre's child table (owned by `TrustCentre`; dropped with the network state). */
export const CHILDREN_KEY = 'stack.children';

/** The network state kept in NVM (`stack.network`); present = joined (or formed). */
export type NetworkRecord = {
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

export type LinkKeyRecord = {
  key: string;
  origin: 'install-code' | 'cbke' | 'partner';
};

export type JoinState = 'idle' | 'scanning' | 'associating' | 'awaiting-key' | 'rejoining';

/** An association or rejoin response: the address given and the status. */
export type AddressAnswer = { short: number; status: number };

/** Everything lost at power off. */
export class NodeState {
  net: NetworkRecord | null = null;
  joined = false;
  joinState: JoinState = 'idle';
  networkKey: Uint8Array | null = null;
  linkKeys = new Map<string, LinkKeyRecord>();
  /** nwkAddressMap: EUI64 -> NWK address of every device heard. */
  addressMap = new Map<string, number>();
  /** Last frame counter per sender (replay check, §4.3.1.2 / §4.4.1.2). */
  nwkIncoming = new Map<string, number>();
  apsIncoming = new Map<string, number>();
  nwkSeq: number;
  apsCounter: number;
  zdoTsn: number;
  permitJoinUntil = 0;
  beacons: Beacon[] = [];
  pollTimer: Timer | null = null;
  fastPoll = false;
  /** Reasons to poll fast besides `fastPoll`: APS acks and partner keys awaited (count). */
  fastPollHolds = 0;
  /** Sleepy device: peer -> virtual time until which a reply from it is expected (fast poll). */
  awaitingReply = new Map<string, number>();
  reassembler: ApsReassembler;
  reassemblyTimer: Timer | null = null;
  /** The parent's EUI64 as the association response gave it. */
  assocParentEui: string | null = null;

  // Answers awaited; `cancelPending` settles them all at power off.
  /** Transport Key with the network key (joiner, §4.6.3.2.1): true when it arrived. */
  readonly networkKeyArrival: Pending<'network-key', boolean>;
  /** MAC association response (§7.5.3.1). */
  readonly association: Pending<'association', AddressAnswer | null>;
  /** NWK rejoin response (§3.6.1.4.2). */
  readonly rejoin: Pending<'rejoin', AddressAnswer | null>;
  /** APS acks of blocks sent: `${peer}/${apsCounter}/${block}` -> acked. */
  readonly apsAcks: Pending<string, boolean>;
  /** APS Request Key in flight: partner EUI64 -> the key arrived. */
  readonly partnerKeys: Pending<string, boolean>;
  /** NWK_addr_req in flight: EUI64 -> its NWK address (undefined: unknown). */
  readonly addresses: Pending<string, number | undefined>;

  constructor(
    readonly nwkFc: PersistedCounter,
    readonly apsFc: PersistedCounter,
    prng: Prng,
    fragmentation: ResolvedFragmentationConfig,
    timers: TimerSource,
  ) {
    this.reassembler = new ApsReassembler(fragmentation);
    this.nwkSeq = prng.nextUint32() & 0xff;
    this.apsCounter = prng.nextUint32() & 0xff;
    this.zdoTsn = prng.nextUint32() & 0xff;
    this.networkKeyArrival = new Pending(timers, false);
    this.association = new Pending<'association', AddressAnswer | null>(timers, null);
    this.rejoin = new Pending<'rejoin', AddressAnswer | null>(timers, null);
    this.apsAcks = new Pending(timers, false);
    this.partnerKeys = new Pending(timers, false);
    this.addresses = new Pending<string, number | undefined>(timers, undefined, (eui64, short) => {
      if (this.addresses.size === 0) this.fastPoll = false;
      if (short !== undefined) this.addressMap.set(eui64, short);
    });
  }

  /** The next NWK sequence number, APS counter or ZDO transaction sequence number (8 bits, wrapping). */
  next(sequence: 'nwkSeq' | 'apsCounter' | 'zdoTsn'): number {
    this[sequence] = (this[sequence] + 1) & 0xff;
    return this[sequence];
  }

  /** Power off: every answer still awaited ends (false / null / no address). */
  cancelPending(): void {
    this.networkKeyArrival.cancelAll();
    this.association.cancelAll();
    this.rejoin.cancelAll();
    this.apsAcks.cancelAll();
    this.partnerKeys.cancelAll();
    this.addresses.cancelAll();
  }
}
