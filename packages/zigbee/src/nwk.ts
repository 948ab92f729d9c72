/**
 * ZigBee NWK frames (05-3474 §3.3): data and command frames with the optional extended
 * addresses, multicast control and source route subframe, plus NWK security (§4.3, §4.5):
 * `secureNwkFrame` / `unsecureNwkFrame` apply CCM* with the network key the caller passes.
 * A secured frame that has not been decrypted decodes to `security: true` with the aux
 * header and the opaque encrypted payload (ciphertext || MIC), so relays can route it.
 */
import { bits, type Eui64, Reader, Writer } from './bytes.js';
import { ZigbeeDecodeError } from './errors.js';
import { type CapabilityInformation, decodeCapability, encodeCapability } from './mac.js';
import {
  type AuxHeader,
  DEFAULT_SECURITY_LEVEL,
  decodeAuxHeader,
  encodeAuxHeader,
} from './security/aux-header.js';
import { openFrame, sealFrame } from './security/seal.js';

export const NWK_PROTOCOL_VERSION = 2;
export const NWK_BROADCAST_ALL = 0xffff;
export const NWK_BROADCAST_RX_ON_WHEN_IDLE = 0xfffd;
export const NWK_BROADCAST_ROUTERS = 0xfffc;

/** NWK command identifiers (§3.4, Table 3.40). */
export const NwkCommandId = {
  routeRequest: 0x01,
  routeReply: 0x02,
  networkStatus: 0x03,
  leave: 0x04,
  routeRecord: 0x05,
  rejoinRequest: 0x06,
  rejoinResponse: 0x07,
  linkStatus: 0x08,
  endDeviceTimeoutRequest: 0x0b,
  endDeviceTimeoutResponse: 0x0c,
} as const;
type NwkCommandName = keyof typeof NwkCommandId;
const NWK_COMMAND_NAMES = new Map<number, NwkCommandName>(
  Object.entries(NwkCommandId).map(([k, v]) => [v, k as NwkCommandName]),
);

/** NWK header fields (§3.3.1). */
export interface NwkHeader {
  protocolVersion: number;
  /** 0 suppress, 1 enable route discovery. */
  discoverRoute: number;
  endDeviceInitiator: boolean;
  destination: number;
  source: number;
  radius: number;
  sequenceNumber: number;
  destinationIeee?: Eui64;
  sourceIeee?: Eui64;
  /** §3.3.1.8: present iff the multicast flag is set. */
  multicastControl?: { mode: number; nonmemberRadius: number; maxNonmemberRadius: number };
  /** §3.3.1.9: present iff the source route flag is set. */
  sourceRoute?: { relayIndex: number; relays: number[] };
}

export interface LinkStatusEntry {
  address: number;
  incomingCost: number;
  outgoingCost: number;
}

export type NwkCommand =
  | {
      id: 'routeRequest';
      /** 0 not many-to-one, 1 with route record table, 2 without. */
      manyToOne: number;
      multicast: boolean;
      routeRequestId: number;
      destination: number;
      pathCost: number;
      destinationIeee?: Eui64;
    }
  | {
      id: 'routeReply';
      multicast: boolean;
      routeRequestId: number;
      originator: number;
      responder: number;
      pathCost: number;
      originatorIeee?: Eui64;
      responderIeee?: Eui64;
    }
  | { id: 'networkStatus'; status: number; destination: number }
  | { id: 'leave'; rejoin: boolean; request: boolean; removeChildren: boolean }
  | { id: 'routeRecord'; relays: number[] }
  | { id: 'rejoinRequest'; capability: CapabilityInformation }
  | { id: 'rejoinResponse'; networkAddress: number; status: number }
  | { id: 'linkStatus'; firstFrame: boolean; lastFrame: boolean; links: LinkStatusEntry[] }
  | { id: 'endDeviceTimeoutRequest'; requestedTimeout: number; endDeviceConfiguration: number }
  | {
      id: 'endDeviceTimeoutResponse';
      status: number;
      macDataPollKeepalive: boolean;
      endDeviceTimeoutRequestKeepalive: boolean;
      powerNegotiationSupport: boolean;
    };

export interface NwkDataFrame extends NwkHeader {
  frameType: 'data';
  security: false;
  payload: Uint8Array;
}

export interface NwkCommandFrame extends NwkHeader {
  frameType: 'command';
  security: false;
  command: NwkCommand;
}

/** A secured frame as seen before decryption. */
export interface NwkSecuredFrame extends NwkHeader {
  frameType: 'data' | 'command';
  security: true;
  aux: AuxHeader;
  /** Encrypted payload followed by the MIC. */
  encrypted: Uint8Array;
}

export type NwkPlainFrame = NwkDataFrame | NwkCommandFrame;
export type NwkFrame = NwkPlainFrame | NwkSecuredFrame;

function encodeHeader(w: Writer, f: NwkHeader & { frameType: 'data' | 'command' }, security: boolean): void {
  const fcf =
    (f.frameType === 'data' ? 0 : 1) |
    (bits(f.protocolVersion, 4, 'protocolVersion') << 2) |
    (bits(f.discoverRoute, 2, 'discoverRoute') << 6) |
    (f.multicastControl ? 0x0100 : 0) |
    (security ? 0x0200 : 0) |
    (f.sourceRoute ? 0x0400 : 0) |
    (f.destinationIeee !== undefined ? 0x0800 : 0) |
    (f.sourceIeee !== undefined ? 0x1000 : 0) |
    (f.endDeviceInitiator ? 0x2000 : 0);
  w.u16(fcf);
  w.u16(f.destination, 'destination').u16(f.source, 'source');
  w.u8(f.radius, 'radius').u8(f.sequenceNumber, 'sequenceNumber');
  if (f.destinationIeee !== undefined) w.eui64(f.destinationIeee);
  if (f.sourceIeee !== undefined) w.eui64(f.sourceIeee);
  const m = f.multicastControl;
  if (m) {
    w.u8(
      bits(m.mode, 2, 'multicast mode') |
        (bits(m.nonmemberRadius, 3, 'nonmemberRadius') << 2) |
        (bits(m.maxNonmemberRadius, 3, 'maxNonmemberRadius') << 5),
    );
  }
  const sr = f.sourceRoute;
  if (sr) {
    w.u8(sr.relays.length, 'relayCount').u8(sr.relayIndex, 'relayIndex');
    for (const a of sr.relays) w.u16(a, 'relay');
  }
}

/** Command identifier and payload (§3.4). */
export function encodeNwkCommand(c: NwkCommand): Uint8Array {
  const w = new Writer(32);
  w.u8(NwkCommandId[c.id]);
  switch (c.id) {
    case 'routeRequest':
      w.u8(
        (bits(c.manyToOne, 2, 'manyToOne') << 3) |
          (c.destinationIeee !== undefined ? 0x20 : 0) |
          (c.multicast ? 0x40 : 0),
      );
      w.u8(c.routeRequestId, 'routeRequestId').u16(c.destination, 'destination').u8(c.pathCost, 'pathCost');
      if (c.destinationIeee !== undefined) w.eui64(c.destinationIeee);
      break;
    case 'routeReply':
      w.u8(
        (c.originatorIeee !== undefined ? 0x10 : 0) |
          (c.responderIeee !== undefined ? 0x20 : 0) |
          (c.multicast ? 0x40 : 0),
      );
      w.u8(c.routeRequestId, 'routeRequestId').u16(c.originator, 'originator').u16(c.responder, 'responder');
      w.u8(c.pathCost, 'pathCost');
      if (c.originatorIeee !== undefined) w.eui64(c.originatorIeee);
      if (c.responderIeee !== undefined) w.eui64(c.responderIeee);
      break;
    case 'networkStatus':
      w.u8(c.status, 'status').u16(c.destination, 'destination');
      break;
    case 'leave':
      w.u8((c.rejoin ? 0x20 : 0) | (c.request ? 0x40 : 0) | (c.removeChildren ? 0x80 : 0));
      break;
    case 'routeRecord':
      w.u8(c.relays.length, 'relayCount');
      for (const a of c.relays) w.u16(a, 'relay');
      break;
    case 'rejoinRequest':
      w.u8(encodeCapability(c.capability));
      break;
    case 'rejoinResponse':
      w.u16(c.networkAddress, 'networkAddress').u8(c.status, 'rejoinStatus');
      break;
    case 'linkStatus':
      w.u8(bits(c.links.length, 5, 'link count') | (c.firstFrame ? 0x20 : 0) | (c.lastFrame ? 0x40 : 0));
      for (const l of c.links) {
        w.u16(l.address, 'neighbor');
        w.u8(bits(l.incomingCost, 3, 'incomingCost') | (bits(l.outgoingCost, 3, 'outgoingCost') << 4));
      }
      break;
    case 'endDeviceTimeoutRequest':
      w.u8(c.requestedTimeout, 'requestedTimeout').u8(c.endDeviceConfiguration, 'endDeviceConfiguration');
      break;
    case 'endDeviceTimeoutResponse':
      w.u8(c.status, 'status');
      w.u8(
        (c.macDataPollKeepalive ? 1 : 0) |
          (c.endDeviceTimeoutRequestKeepalive ? 2 : 0) |
          (c.powerNegotiationSupport ? 4 : 0),
      );
      break;
  }
  return w.finish();
}

/** Encode an unsecured frame, or re-emit a secured one exactly as decoded. */
export function encodeNwkFrame(frame: NwkFrame): Uint8Array {
  const w = new Writer(128);
  encodeHeader(w, frame, frame.security);
  if (frame.security) {
    encodeAuxHeader(w, frame.aux);
    w.bytes(frame.encrypted);
  } else if (frame.frameType === 'data') {
    w.bytes(frame.payload);
  } else {
    w.bytes(encodeNwkCommand(frame.command));
  }
  return w.finish();
}

function decodeHeader(r: Reader): NwkHeader & { frameType: 'data' | 'command'; securityFlag: boolean } {
  const fcf = r.u16('frameControl');
  const type = fcf & 0x03;
  if (type === 3) {
    throw new ZigbeeDecodeError('NWK', 'UNSUPPORTED', 'frameType', 'Inter-PAN stub: use decodeInterPanFrame');
  }
  if (type === 2) throw r.invalid('frameType', 'reserved frame type 2');
  const protocolVersion = (fcf >> 2) & 0x0f;
  if (protocolVersion !== NWK_PROTOCOL_VERSION) {
    throw new ZigbeeDecodeError('NWK', 'UNSUPPORTED', 'protocolVersion', `version ${protocolVersion}`);
  }
  if (fcf & 0xc000) throw r.invalid('frameControl', 'reserved bits 14-15 set');
  const h: NwkHeader & { frameType: 'data' | 'command'; securityFlag: boolean } = {
    frameType: type === 0 ? 'data' : 'command',
    securityFlag: (fcf & 0x0200) !== 0,
    protocolVersion,
    discoverRoute: (fcf >> 6) & 3,
    endDeviceInitiator: (fcf & 0x2000) !== 0,
    destination: r.u16('destination'),
    source: r.u16('source'),
    radius: r.u8('radius'),
    sequenceNumber: r.u8('sequenceNumber'),
  };
  if (fcf & 0x0800) h.destinationIeee = r.eui64('destinationIeee');
  if (fcf & 0x1000) h.sourceIeee = r.eui64('sourceIeee');
  if (fcf & 0x0100) {
    const m = r.u8('multicastControl');
    h.multicastControl = { mode: m & 3, nonmemberRadius: (m >> 2) & 7, maxNonmemberRadius: m >> 5 };
  }
  if (fcf & 0x0400) {
    const count = r.u8('relayCount');
    const relayIndex = r.u8('relayIndex');
    if (count > 0 && relayIndex >= count)
      throw r.invalid('relayIndex', `${relayIndex} >= relay count ${count}`);
    const relays: number[] = [];
    for (let i = 0; i < count; i++) relays.push(r.u16('relayList'));
    h.sourceRoute = { relayIndex, relays };
  }
  return h;
}

function stripFlag<T extends { securityFlag: boolean }>(h: T): Omit<T, 'securityFlag'> {
  const { securityFlag: _, ...rest } = h;
  return rest;
}

export function decodeNwkCommand(bytes: Uint8Array): NwkCommand {
  const r = new Reader(bytes, 'NWK');
  const idByte = r.u8('commandId');
  const id = NWK_COMMAND_NAMES.get(idByte);
  if (!id)
    throw new ZigbeeDecodeError('NWK', 'UNSUPPORTED', 'commandId', `NWK command 0x${idByte.toString(16)}`);
  let c: NwkCommand;
  switch (id) {
    case 'routeRequest': {
      const o = r.u8('routeRequestOptions');
      if (o & 0x87) throw r.invalid('routeRequestOptions', 'reserved bits set');
      c = {
        id,
        manyToOne: (o >> 3) & 3,
        multicast: (o & 0x40) !== 0,
        routeRequestId: r.u8('routeRequestId'),
        destination: r.u16('destination'),
        pathCost: r.u8('pathCost'),
      };
      if (c.manyToOne === 3) throw r.invalid('manyToOne', 'reserved value 3');
      if (o & 0x20) c.destinationIeee = r.eui64('destinationIeee');
      break;
    }
    case 'routeReply': {
      const o = r.u8('routeReplyOptions');
      if (o & 0x8f) throw r.invalid('routeReplyOptions', 'reserved bits set');
      c = {
        id,
        multicast: (o & 0x40) !== 0,
        routeRequestId: r.u8('routeRequestId'),
        originator: r.u16('originator'),
        responder: r.u16('responder'),
        pathCost: r.u8('pathCost'),
      };
      if (o & 0x10) c.originatorIeee = r.eui64('originatorIeee');
      if (o & 0x20) c.responderIeee = r.eui64('responderIeee');
      break;
    }
    case 'networkStatus':
      c = { id, status: r.u8('statusCode'), destination: r.u16('destination') };
      break;
    case 'leave': {
      const o = r.u8('leaveOptions');
      if (o & 0x1f) throw r.invalid('leaveOptions', 'reserved bits set');
      c = { id, rejoin: (o & 0x20) !== 0, request: (o & 0x40) !== 0, removeChildren: (o & 0x80) !== 0 };
      break;
    }
    case 'routeRecord': {
      const n = r.u8('relayCount');
      const relays: number[] = [];
      for (let i = 0; i < n; i++) relays.push(r.u16('relayList'));
      c = { id, relays };
      break;
    }
    case 'rejoinRequest':
      c = { id, capability: decodeCapability(r, 'capabilityInformation') };
      break;
    case 'rejoinResponse':
      c = { id, networkAddress: r.u16('networkAddress'), status: r.u8('rejoinStatus') };
      break;
    case 'linkStatus': {
      const o = r.u8('linkStatusOptions');
      if (o & 0x80) throw r.invalid('linkStatusOptions', 'reserved bit 7 set');
      const links: LinkStatusEntry[] = [];
      for (let i = 0; i < (o & 0x1f); i++) {
        const address = r.u16('neighborAddress');
        const cost = r.u8('linkCost');
        if (cost & 0x88) throw r.invalid('linkCost', 'reserved bits set');
        links.push({ address, incomingCost: cost & 7, outgoingCost: (cost >> 4) & 7 });
      }
      c = { id, firstFrame: (o & 0x20) !== 0, lastFrame: (o & 0x40) !== 0, links };
      break;
    }
    case 'endDeviceTimeoutRequest': {
      const requestedTimeout = r.u8('requestedTimeout');
      if (requestedTimeout > 14) throw r.invalid('requestedTimeout', `${requestedTimeout} > 14`);
      c = { id, requestedTimeout, endDeviceConfiguration: r.u8('endDeviceConfiguration') };
      break;
    }
    case 'endDeviceTimeoutResponse': {
      const status = r.u8('status');
      const p = r.u8('parentInformation');
      if (p & 0xf8) throw r.invalid('parentInformation', 'reserved bits set');
      c = {
        id,
        status,
        macDataPollKeepalive: (p & 1) !== 0,
        endDeviceTimeoutRequestKeepalive: (p & 2) !== 0,
        powerNegotiationSupport: (p & 4) !== 0,
      };
      break;
    }
  }
  r.done('command');
  return c;
}

/** Decode a NWK frame (the MAC data payload). Secured frames stay encrypted. */
export function decodeNwkFrame(bytes: Uint8Array): NwkFrame {
  const r = new Reader(bytes, 'NWK');
  const h = decodeHeader(r);
  if (h.securityFlag) {
    const aux = decodeAuxHeader(r);
    if (aux.keyId !== 'network')
      throw r.invalid('keyIdentifier', `NWK frames use the network key, not ${aux.keyId}`);
    return { ...stripFlag(h), security: true, aux, encrypted: r.rest() };
  }
  if (h.frameType === 'data')
    return { ...stripFlag(h), frameType: 'data', security: false, payload: r.rest() };
  return { ...stripFlag(h), frameType: 'command', security: false, command: decodeNwkCommand(r.rest()) };
}

export interface NwkSecureOptions {
  /** The network key. */
  key: Uint8Array;
  frameCounter: number;
  /** The sender's EUI64 (the nonce's source address). */
  sourceEui64: Eui64;
  keySequenceNumber: number;
  /** Real security level (default 5, ENC-MIC-32). */
  level?: number;
  /** Level written on air: 0 as ZigBee does (default), or 'real'. */
  onAirLevel?: 0 | 'real';
  /** Carry the source EUI64 in the aux header (default true, as §4.3.1.1 requires for NWK). */
  extendedNonce?: boolean;
}

/** Secure a plain frame (§4.3.1.1): returns the on-air NWK bytes. */
export function secureNwkFrame(frame: NwkPlainFrame, o: NwkSecureOptions): Uint8Array {
  const level = o.level ?? DEFAULT_SECURITY_LEVEL;
  const extendedNonce = o.extendedNonce ?? true;
  const aux: AuxHeader = {
    level,
    keyId: 'network',
    frameCounter: o.frameCounter,
    keySequenceNumber: o.keySequenceNumber,
  };
  if (extendedNonce) aux.sourceAddress = o.sourceEui64;
  const w = new Writer(128);
  encodeHeader(w, frame, true);
  const auxOffset = w.length;
  encodeAuxHeader(w, aux);
  const a = w.finish();
  const m = frame.frameType === 'data' ? frame.payload : encodeNwkCommand(frame.command);
  return sealFrame(a, 0, auxOffset, m, o.key, o.sourceEui64, o.frameCounter, level, o.onAirLevel);
}

export interface NwkUnsecureOptions {
  key: Uint8Array;
  /** Real security level (default 5); used whatever the on-air field says. */
  level?: number;
  /** Needed only when the aux header has no source address (extended nonce clear). */
  sourceEui64?: Eui64;
}

/** Decrypt and authenticate a secured NWK frame (§4.3.1.2). */
export function unsecureNwkFrame(
  bytes: Uint8Array,
  o: NwkUnsecureOptions,
): { frame: NwkPlainFrame; aux: AuxHeader } {
  const r = new Reader(bytes, 'NWK');
  const h = decodeHeader(r);
  if (!h.securityFlag) throw r.invalid('securityEnabled', 'frame is not secured');
  const auxOffset = r.offset;
  const aux = decodeAuxHeader(r);
  if (aux.keyId !== 'network')
    throw r.invalid('keyIdentifier', `NWK frames use the network key, not ${aux.keyId}`);
  const level = o.level ?? DEFAULT_SECURITY_LEVEL;
  const m = openFrame(bytes, 0, auxOffset, r.offset, aux, o.key, level, o.sourceEui64);
  const base = stripFlag(h);
  const frame: NwkPlainFrame =
    h.frameType === 'data'
      ? { ...base, frameType: 'data', security: false, payload: m }
      : { ...base, frameType: 'command', security: false, command: decodeNwkCommand(m) };
  return { frame, aux };
}
