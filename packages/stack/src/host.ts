/**
 * The contract between the ZigBee stack and a device's application (CHF, GPF, ESME, GSME,
 * PPMID, HHT). The stack implements `ApplicationHost`; applications use nothing else of it,
 * so they can be tested on any host that keeps this contract and the stack can change
 * underneath them.
 */
import type { Clock } from '@gbhan/clock';
import type { NvStore } from './nvm.js';
import type { AlertLog } from './security-log.js';
import type { DropReasonOf } from './trace-events.js';

/** Smart Energy profile. */
export const PROFILE_SMART_ENERGY = 0x0109;
/** GB devices' application endpoint (ZSE convention). */
export const SE_ENDPOINT = 1;

export type GbDeviceType = 'CHF' | 'GPF' | 'ESME' | 'GSME' | 'PPMID' | 'HCALCS' | 'HHT' | 'Type2';

/** How a frame was (or must be) protected. */
export type FrameSecurity =
  /** No security at all (only Key Establishment may be sent like this, or Inter-PAN). */
  | 'none'
  /** NWK security with the network key only. */
  | 'nwk'
  /** NWK security plus APS security with the link key shared with the peer. */
  | 'aps-link';

export interface PeerAddress {
  eui64: string;
  /** NWK short address, when known. */
  short?: number;
}

/** A ZCL frame as the application sees it, on the way in. */
export interface IncomingZcl {
  from: PeerAddress;
  srcEndpoint: number;
  dstEndpoint: number;
  clusterId: number;
  profileId: number;
  /** The whole ZCL frame (header + payload). */
  zcl: Uint8Array;
  security: FrameSecurity;
  /** Arrived as Inter-PAN (not through the network). */
  interPan: boolean;
  /** PAN id the Inter-PAN frame came from (Inter-PAN only). */
  sourcePanId?: number;
  lqi: number;
  rssi: number;
}

export interface OutgoingZcl {
  clusterId: number;
  zcl: Uint8Array;
  security: FrameSecurity;
  profileId?: number;
  srcEndpoint?: number;
  dstEndpoint?: number;
  /**
   * The sender expects the peer to answer within this time (e.g. the next Key Establishment
   * message). A sleepy end device then polls its parent fast until the answer comes or the
   * time is up; other devices ignore it.
   */
  awaitReplyUs?: number;
}

export type SendStatus =
  | 'sent'
  /** No route / the peer never acknowledged. */
  | 'no-ack'
  /** No link key with the peer while aps-link security was asked for. */
  | 'no-link-key'
  /** The node is not joined to a network (and the frame is not Inter-PAN). */
  | 'not-joined'
  /** The radio refused (off, duty cycle). */
  | 'radio-refused';

export interface SendResult {
  status: SendStatus;
}

/** A device event for the run's trace (the stack adds nothing but the transport). */
export interface DeviceTraceEvent {
  type: string;
  [field: string]: unknown;
}

export interface ApplicationHost {
  readonly eui64: string;
  readonly clock: Clock;
  /** The device's non-volatile memory (shared with the stack, which owns keys prefixed `stack.`). */
  readonly nvm: NvStore;
  /** True once the node has joined (or formed) a network and holds the network key. */
  readonly joined: boolean;
  trace(event: DeviceTraceEvent): void;
  /** Send a ZCL frame through the network (NWK-secured; APS-secured for 'aps-link'). */
  sendZcl(to: PeerAddress, frame: OutgoingZcl): Promise<SendResult>;
  /** Send a ZCL frame as Inter-PAN: unicast to an EUI64 or broadcast. */
  sendInterPan(to: { eui64: string; panId: number } | 'broadcast', frame: OutgoingZcl): Promise<SendResult>;
  onZcl(handler: (msg: IncomingZcl) => void | Promise<void>): void;
  /** The APS link key shared with a peer (install-code TC key, CBKE key, partner key), if any. */
  linkKey(peer: string): Uint8Array | null;
  /** Install a link key (e.g. the keyData CBKE produced); persisted before it is used. */
  setLinkKey(peer: string, key: Uint8Array, origin: 'install-code' | 'cbke' | 'partner'): void;
  /** Forget a link key (Reset HAN, removal from the Device Log). */
  removeLinkKey(peer: string): void;
  /**
   * APS Request Key to the Trust Centre for a partner link key with `partner`; on 'received'
   * the key is installed (origin 'partner'). Optional: a host without a Trust Centre path
   * (a unit-test double) leaves it out.
   */
  requestPartnerLinkKey?(partner: string): Promise<PartnerKeyResult>;
}

export type PartnerKeyResult = 'received' | 'no-key' | 'not-joined' | 'no-link-key' | 'no-ack';

/**
 * What a coordinator asks the application on it (the CH's Device Log and Inter-PAN window).
 * Set with `CoordinatorHost.setCoordinatorApplication`; the comms-hub's `CommsHub` is one.
 */
export interface CoordinatorApplication {
  /** A device asks to join: the install-code link key to admit it with, or null to refuse. */
  admit(eui64: string): { linkKey: Uint8Array } | null;
  /** A child came back with a secured rejoin (it may have lost its RAM: redo what lived there). */
  childRejoined(eui64: string): void;
  /** Every Inter-PAN frame before it is decoded, by MAC source: null lets it in, else the drop reason. */
  interPanGate(source: string | number): DropReasonOf<'INTERPAN'> | null;
}

/** The host of a coordinator's application (the CH). `ZigbeeNode` implements it. */
export interface CoordinatorHost extends ApplicationHost {
  /** The application asked about admission, rejoins and Inter-PAN (null: none). */
  setCoordinatorApplication(app: CoordinatorApplication | null): void;
  /** Ask a device to leave and forget it (Device Log removal). */
  removeChild(eui64: string): Promise<SendStatus>;
  /** The node's security log and alert queue. */
  readonly securityLog: AlertLog;
}
