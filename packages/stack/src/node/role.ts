/**
 * What differs between the coordinator (Trust Centre, parent of every device) and a joiner
 * (router, end device, sleepy end device): one `Role` object chosen when the node is built,
 * called by the layers wherever the two differ, so nothing else asks `config.role`.
 */
import type { ApsCommand, CapabilityInformation, MacFrame, NwkPlainFrame } from '@gbhan/zigbee';
import type { PartnerKeyResult, SendStatus } from '../host.js';
import type { MacTxStatus } from '../mac.js';
import type { ChildEntry } from '../trust-centre.js';
import type { JoinResult, NodeRole } from './config.js';
import type { NetworkRecord } from './state.js';

export type MacCommandFrame = Extract<MacFrame, { frameType: 'command' }>;
export type NetworkKeyTransport = Extract<ApsCommand, { id: 'transportKey'; keyType: 'network' }>;

/** First hop of a NWK frame: MAC address, and whether to hold it for a sleepy child to poll. */
export interface NextHop {
  mac: number;
  indirect: boolean;
}

export interface Role {
  // ------------------------------------------------ power and control
  /** Power on, before the MAC starts (the Trust Centre's child table from NVM). */
  powerUp(): void;
  /** Power on with the network record from NVM, or none: form / resume, rejoin, or stay out. */
  start(net: NetworkRecord | null): JoinResult | 'formed' | 'not-joined' | Promise<JoinResult>;
  powerOff(): void;
  join(): Promise<JoinResult>;
  rejoin(): Promise<JoinResult>;
  /** The NWK Leave (§3.6.1.10) sent before leaving; the coordinator sends none. */
  announceLeave(): Promise<MacTxStatus> | null;
  /** The network state was dropped (leave, Reset HAN). */
  networkReset(): void;
  requestPartnerLinkKey(partner: string, timeoutUs: number): Promise<PartnerKeyResult>;
  permitJoin(seconds: number): void;
  removeChild(eui64: string): Promise<SendStatus>;
  children(): ChildEntry[];
  child(eui64: string): ChildEntry | undefined;

  // ------------------------------------------------ NWK
  nextHop(dest: number, net: NetworkRecord): NextHop | null;
  /** Unknown addresses are asked of the coordinator (which knows them all: the star). */
  readonly discoversAddresses: boolean;
  /** MAC commands: beacon requests, association request (coordinator) or response (joiner). */
  onMacCommand(f: MacCommandFrame): void;
  /** A NWK-secured frame came from `eui64` at `short` (a child proves it holds the key). */
  onSecuredFrame(eui64: string, short: number): void;
  /** A secured unicast for someone else: true if this node relays it. */
  relay(frame: NwkPlainFrame): boolean;
  /** A NWK Leave (not a request) from `eui64`: a child leaving. */
  onChildLeave(eui64: string, short: number): void;
  onRejoinRequest(eui64: string, oldShort: number, capability: CapabilityInformation): void;

  // ------------------------------------------------ APS
  /** APS Request Key for a partner link key (only a Trust Centre answers). */
  onRequestKey(partner: string, apsSecured: boolean, requester: string | undefined): void;
  /** Transport Key of the network key, already checked to be under a key-transport key. */
  onNetworkKey(c: NetworkKeyTransport): void;
}

/** MAC capability information (§7.3.1.2) of each role: a router is an FFD, a sleepy device's receiver is off. */
export function capabilityOf(role: NodeRole): CapabilityInformation {
  return {
    alternatePanCoordinator: false,
    deviceType: role === 'router' || role === 'coordinator',
    powerSource: role !== 'sleepy-end-device',
    receiverOnWhenIdle: role !== 'sleepy-end-device',
    securityCapability: false,
    allocateAddress: true,
  };
}
