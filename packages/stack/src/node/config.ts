/**
 * The node's public configuration and result types (re-exported by `node.ts` and the index).
 */
import type { ApsFragmentationConfig } from '../aps-fragmentation.js';
import type { KeyExportHook } from '../key-export.js';
import type { AdmissionPolicy } from '../trust-centre.js';

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
  /**
   * Another listener on this radio reads every frame it hears (an attacker's sniffer): do not
   * declare the MAC's address filter to the bus (default false: declared).
   */
  promiscuous?: boolean;
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
