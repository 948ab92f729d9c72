/**
 * IEEE 802.15.4-2006 MAC frames (§7.2): beacon, data, acknowledgment and MAC command frames
 * as typed objects, encoded to and decoded from the PSDU including its FCS (CRC-16/KERMIT,
 * §7.2.1.9). ZigBee does not use MAC security, so a set security-enabled bit is rejected as
 * UNSUPPORTED. Addresses: a number is a 16-bit short address, a string an Eui64.
 */
import { bits, type Eui64, Reader, Writer } from './bytes.js';
import { crc16Kermit } from './crc.js';
import { ZigbeeDecodeError } from './errors.js';

/** aMaxPHYPacketSize (§6.4.1): the largest PSDU. */
export const MAC_MAX_PSDU = 127;
export const MAC_FCS_LENGTH = 2;
export const MAC_BROADCAST_ADDRESS = 0xffff;
export const MAC_BROADCAST_PAN = 0xffff;

/** Frame type subfield (§7.2.1.1.1, Table 79). */
export const MacFrameType = { beacon: 0, data: 1, ack: 2, command: 3 } as const;

/** MAC command identifiers (§7.3, Table 82). */
export const MacCommandId = {
  associationRequest: 0x01,
  associationResponse: 0x02,
  disassociationNotification: 0x03,
  dataRequest: 0x04,
  panIdConflictNotification: 0x05,
  orphanNotification: 0x06,
  beaconRequest: 0x07,
  coordinatorRealignment: 0x08,
} as const;

/** A short (number) or extended (Eui64) address. */
export type MacAddress = number | Eui64;

/** Fields common to beacon, data and command frames (§7.2.1). */
export interface MacHeader {
  sequenceNumber: number;
  framePending: boolean;
  ackRequest: boolean;
  /** PAN ID compression (§7.2.1.1.5): only with both addresses; then sourcePan is absent. */
  panIdCompression: boolean;
  /** 0 = 802.15.4-2003, 1 = 802.15.4-2006. */
  frameVersion: 0 | 1;
  destinationPan?: number;
  destination?: MacAddress;
  sourcePan?: number;
  source?: MacAddress;
}

/** Superframe specification (§7.2.2.1.2, Figure 47). */
export interface SuperframeSpec {
  beaconOrder: number;
  superframeOrder: number;
  finalCapSlot: number;
  batteryLifeExtension: boolean;
  panCoordinator: boolean;
  associationPermit: boolean;
}

export interface GtsDescriptor {
  shortAddress: number;
  startingSlot: number;
  length: number;
  /** true = receive-only GTS (direction bit 1). */
  receiveOnly: boolean;
}

/** ZigBee beacon payload (05-3474 §3.6.7, Table 3.56): 15 bytes. */
export interface ZigbeeBeaconPayload {
  protocolId: number;
  stackProfile: number;
  protocolVersion: number;
  routerCapacity: boolean;
  deviceDepth: number;
  endDeviceCapacity: boolean;
  extendedPanId: Eui64;
  txOffset: number;
  nwkUpdateId: number;
}

export interface MacBeaconFrame extends MacHeader {
  frameType: 'beacon';
  superframe: SuperframeSpec;
  gtsPermit: boolean;
  gts: GtsDescriptor[];
  pendingShort: number[];
  pendingExtended: Eui64[];
  /** Absent when the beacon payload is empty. */
  zigbee?: ZigbeeBeaconPayload;
}

export interface MacDataFrame extends MacHeader {
  frameType: 'data';
  payload: Uint8Array;
}

export interface MacAckFrame {
  frameType: 'ack';
  sequenceNumber: number;
  framePending: boolean;
  frameVersion: 0 | 1;
}

/** Capability information (§7.3.1.2, Figure 56), also used by NWK rejoin and ZDO. */
export interface CapabilityInformation {
  alternatePanCoordinator: boolean;
  /** Full-function device (router-capable). */
  deviceType: boolean;
  powerSource: boolean;
  receiverOnWhenIdle: boolean;
  securityCapability: boolean;
  allocateAddress: boolean;
}

export type MacCommand =
  | { id: 'associationRequest'; capability: CapabilityInformation }
  | { id: 'associationResponse'; shortAddress: number; status: number }
  | { id: 'disassociationNotification'; reason: number }
  | { id: 'dataRequest' }
  | { id: 'panIdConflictNotification' }
  | { id: 'orphanNotification' }
  | { id: 'beaconRequest' }
  | {
      id: 'coordinatorRealignment';
      panId: number;
      coordinatorShortAddress: number;
      logicalChannel: number;
      shortAddress: number;
      /** Present iff frameVersion is 1 (§7.3.8). */
      channelPage?: number;
    };

export interface MacCommandFrame extends MacHeader {
  frameType: 'command';
  command: MacCommand;
}

export type MacFrame = MacBeaconFrame | MacDataFrame | MacAckFrame | MacCommandFrame;

export function encodeCapability(c: CapabilityInformation): number {
  return (
    (c.alternatePanCoordinator ? 0x01 : 0) |
    (c.deviceType ? 0x02 : 0) |
    (c.powerSource ? 0x04 : 0) |
    (c.receiverOnWhenIdle ? 0x08 : 0) |
    (c.securityCapability ? 0x40 : 0) |
    (c.allocateAddress ? 0x80 : 0)
  );
}

/** Bits 4-5 are reserved (§7.3.1.2) and must be zero. */
export function decodeCapability(r: Reader, field: string): CapabilityInformation {
  const b = r.u8(field);
  if (b & 0x30) throw r.invalid(field, `reserved bits set (0x${b.toString(16)})`);
  return {
    alternatePanCoordinator: (b & 0x01) !== 0,
    deviceType: (b & 0x02) !== 0,
    powerSource: (b & 0x04) !== 0,
    receiverOnWhenIdle: (b & 0x08) !== 0,
    securityCapability: (b & 0x40) !== 0,
    allocateAddress: (b & 0x80) !== 0,
  };
}

function addressMode(a: MacAddress | undefined): number {
  if (a === undefined) return 0;
  return typeof a === 'number' ? 2 : 3;
}

function writeAddress(w: Writer, a: MacAddress): void {
  if (typeof a === 'number') w.u16(a, 'address');
  else w.eui64(a);
}

/** The PSDU of `frame`, FCS appended unless `fcs` is false. */
export function encodeMacFrame(frame: MacFrame, options: { fcs?: boolean } = {}): Uint8Array {
  const w = new Writer(MAC_MAX_PSDU);
  const type = MacFrameType[frame.frameType];
  if (frame.frameType === 'ack') {
    w.u16(type | (frame.framePending ? 0x10 : 0) | (frame.frameVersion << 12));
    w.u8(frame.sequenceNumber, 'sequenceNumber');
  } else {
    const dstMode = addressMode(frame.destination);
    const srcMode = addressMode(frame.source);
    if ((dstMode === 0) !== (frame.destinationPan === undefined)) {
      throw new RangeError('destinationPan must be given exactly when destination is');
    }
    if (frame.panIdCompression) {
      if (dstMode === 0 || srcMode === 0) throw new RangeError('PAN ID compression needs both addresses');
      if (frame.sourcePan !== undefined)
        throw new RangeError('sourcePan must be absent with PAN ID compression');
    } else if ((srcMode === 0) !== (frame.sourcePan === undefined)) {
      throw new RangeError('sourcePan must be given exactly when source is (without PAN ID compression)');
    }
    const fcf =
      type |
      (frame.framePending ? 0x10 : 0) |
      (frame.ackRequest ? 0x20 : 0) |
      (frame.panIdCompression ? 0x40 : 0) |
      (dstMode << 10) |
      (bits(frame.frameVersion, 2, 'frameVersion') << 12) |
      (srcMode << 14);
    w.u16(fcf);
    w.u8(frame.sequenceNumber, 'sequenceNumber');
    if (frame.destination !== undefined) {
      w.u16(frame.destinationPan!, 'destinationPan');
      writeAddress(w, frame.destination);
    }
    if (frame.source !== undefined) {
      if (!frame.panIdCompression) w.u16(frame.sourcePan!, 'sourcePan');
      writeAddress(w, frame.source);
    }
    if (frame.frameType === 'data') w.bytes(frame.payload);
    else if (frame.frameType === 'beacon') encodeBeaconPayload(w, frame);
    else encodeMacCommand(w, frame);
  }
  if (options.fcs !== false) {
    const fcs = crc16Kermit(w.written());
    w.u16(fcs);
  }
  const out = w.finish();
  if (out.length > MAC_MAX_PSDU) throw new RangeError(`PSDU of ${out.length} bytes exceeds ${MAC_MAX_PSDU}`);
  return out;
}

function encodeBeaconPayload(w: Writer, f: MacBeaconFrame): void {
  const s = f.superframe;
  w.u16(
    bits(s.beaconOrder, 4, 'beaconOrder') |
      (bits(s.superframeOrder, 4, 'superframeOrder') << 4) |
      (bits(s.finalCapSlot, 4, 'finalCapSlot') << 8) |
      (s.batteryLifeExtension ? 0x1000 : 0) |
      (s.panCoordinator ? 0x4000 : 0) |
      (s.associationPermit ? 0x8000 : 0),
  );
  w.u8(bits(f.gts.length, 3, 'gts count') | (f.gtsPermit ? 0x80 : 0));
  if (f.gts.length > 0) {
    let dir = 0;
    f.gts.forEach((g, i) => {
      if (g.receiveOnly) dir |= 1 << i;
    });
    w.u8(dir);
    for (const g of f.gts) {
      w.u16(g.shortAddress, 'gts shortAddress');
      w.u8(bits(g.startingSlot, 4, 'startingSlot') | (bits(g.length, 4, 'gts length') << 4));
    }
  }
  w.u8(
    bits(f.pendingShort.length, 3, 'pendingShort') |
      (bits(f.pendingExtended.length, 3, 'pendingExtended') << 4),
  );
  for (const a of f.pendingShort) w.u16(a, 'pendingShort');
  for (const a of f.pendingExtended) w.eui64(a);
  const z = f.zigbee;
  if (z) {
    w.u8(z.protocolId, 'protocolId');
    w.u8(bits(z.stackProfile, 4, 'stackProfile') | (bits(z.protocolVersion, 4, 'protocolVersion') << 4));
    w.u8(
      (z.routerCapacity ? 0x04 : 0) |
        (bits(z.deviceDepth, 4, 'deviceDepth') << 3) |
        (z.endDeviceCapacity ? 0x80 : 0),
    );
    w.eui64(z.extendedPanId);
    w.u24(z.txOffset, 'txOffset');
    w.u8(z.nwkUpdateId, 'nwkUpdateId');
  }
}

function encodeMacCommand(w: Writer, f: MacCommandFrame): void {
  const c = f.command;
  w.u8(MacCommandId[c.id]);
  switch (c.id) {
    case 'associationRequest':
      w.u8(encodeCapability(c.capability));
      break;
    case 'associationResponse':
      w.u16(c.shortAddress, 'shortAddress').u8(c.status, 'status');
      break;
    case 'disassociationNotification':
      w.u8(c.reason, 'reason');
      break;
    case 'coordinatorRealignment':
      w.u16(c.panId, 'panId').u16(c.coordinatorShortAddress, 'coordinatorShortAddress');
      w.u8(c.logicalChannel, 'logicalChannel').u16(c.shortAddress, 'shortAddress');
      if ((c.channelPage !== undefined) !== (f.frameVersion === 1)) {
        throw new RangeError('coordinatorRealignment channelPage is present iff frameVersion is 1');
      }
      if (c.channelPage !== undefined) w.u8(c.channelPage, 'channelPage');
      break;
    default:
      break;
  }
}

/** Decode a PSDU; with `fcs` (default) its last two bytes must be a matching FCS. */
export function decodeMacFrame(psdu: Uint8Array, options: { fcs?: boolean } = {}): MacFrame {
  const withFcs = options.fcs !== false;
  if (psdu.length > MAC_MAX_PSDU) {
    throw new ZigbeeDecodeError('MAC', 'OVERLONG', 'psdu', `${psdu.length} bytes > ${MAC_MAX_PSDU}`);
  }
  let end = psdu.length;
  if (withFcs) {
    if (psdu.length < 5) throw new ZigbeeDecodeError('MAC', 'TRUNCATED', 'psdu', `${psdu.length} bytes < 5`);
    end -= 2;
    const want = crc16Kermit(psdu, 0, end);
    const got = psdu[end]! | (psdu[end + 1]! << 8);
    if (want !== got) {
      throw new ZigbeeDecodeError('MAC', 'BAD_FCS', 'fcs', `0x${got.toString(16)} != 0x${want.toString(16)}`);
    }
  }
  const r = new Reader(psdu, 'MAC', 0, end);
  const fcf = r.u16('frameControl');
  const typeBits = fcf & 0x07;
  if (fcf & 0x08)
    throw new ZigbeeDecodeError(
      'MAC',
      'UNSUPPORTED',
      'securityEnabled',
      'MAC security is not used by ZigBee',
    );
  if (fcf & 0x0380) throw r.invalid('frameControl', 'reserved bits 7-9 set');
  const framePending = (fcf & 0x10) !== 0;
  const ackRequest = (fcf & 0x20) !== 0;
  const panIdCompression = (fcf & 0x40) !== 0;
  const dstMode = (fcf >> 10) & 3;
  const version = (fcf >> 12) & 3;
  const srcMode = (fcf >> 14) & 3;
  if (version > 1) throw new ZigbeeDecodeError('MAC', 'UNSUPPORTED', 'frameVersion', `version ${version}`);
  const frameVersion = version as 0 | 1;
  if (dstMode === 1 || srcMode === 1) throw r.invalid('addressingMode', 'reserved addressing mode 1');
  const sequenceNumber = r.u8('sequenceNumber');
  if (typeBits === MacFrameType.ack) {
    if (dstMode !== 0 || srcMode !== 0 || ackRequest || panIdCompression) {
      throw r.invalid('frameControl', 'acknowledgment with addressing or request bits');
    }
    r.done('ack');
    return { frameType: 'ack', sequenceNumber, framePending, frameVersion };
  }
  if (typeBits > 3) throw r.invalid('frameType', `reserved frame type ${typeBits}`);
  if (panIdCompression && (dstMode === 0 || srcMode === 0)) {
    throw r.invalid('panIdCompression', 'set without both addresses');
  }
  const h: MacHeader = { sequenceNumber, framePending, ackRequest, panIdCompression, frameVersion };
  if (dstMode !== 0) {
    h.destinationPan = r.u16('destinationPan');
    h.destination = dstMode === 2 ? r.u16('destination') : r.eui64('destination');
  }
  if (srcMode !== 0) {
    if (!panIdCompression) h.sourcePan = r.u16('sourcePan');
    h.source = srcMode === 2 ? r.u16('source') : r.eui64('source');
  }
  if (typeBits === MacFrameType.data) return { frameType: 'data', ...h, payload: r.rest() };
  if (typeBits === MacFrameType.beacon) {
    if (dstMode !== 0 || srcMode === 0)
      throw r.invalid('addressingMode', 'beacon needs a source and no destination');
    return decodeBeacon(r, h);
  }
  return { frameType: 'command', ...h, command: decodeMacCommand(r, frameVersion) };
}

function decodeBeacon(r: Reader, h: MacHeader): MacBeaconFrame {
  const sf = r.u16('superframeSpec');
  if (sf & 0x2000) throw r.invalid('superframeSpec', 'reserved bit 13 set');
  const superframe: SuperframeSpec = {
    beaconOrder: sf & 0x0f,
    superframeOrder: (sf >> 4) & 0x0f,
    finalCapSlot: (sf >> 8) & 0x0f,
    batteryLifeExtension: (sf & 0x1000) !== 0,
    panCoordinator: (sf & 0x4000) !== 0,
    associationPermit: (sf & 0x8000) !== 0,
  };
  const gtsSpec = r.u8('gtsSpec');
  if (gtsSpec & 0x78) throw r.invalid('gtsSpec', 'reserved bits set');
  const gtsCount = gtsSpec & 0x07;
  const gts: GtsDescriptor[] = [];
  if (gtsCount > 0) {
    const dir = r.u8('gtsDirections');
    if (dir >> gtsCount) throw r.invalid('gtsDirections', 'direction bits beyond the descriptor count');
    for (let i = 0; i < gtsCount; i++) {
      const shortAddress = r.u16('gtsShortAddress');
      const b = r.u8('gtsSlot');
      gts.push({ shortAddress, startingSlot: b & 0x0f, length: b >> 4, receiveOnly: ((dir >> i) & 1) === 1 });
    }
  }
  const pend = r.u8('pendingAddressSpec');
  if (pend & 0x88) throw r.invalid('pendingAddressSpec', 'reserved bits set');
  const pendingShort: number[] = [];
  const pendingExtended: Eui64[] = [];
  for (let i = 0; i < (pend & 7); i++) pendingShort.push(r.u16('pendingShort'));
  for (let i = 0; i < ((pend >> 4) & 7); i++) pendingExtended.push(r.eui64('pendingExtended'));
  const frame: MacBeaconFrame = {
    frameType: 'beacon',
    ...h,
    superframe,
    gtsPermit: (gtsSpec & 0x80) !== 0,
    gts,
    pendingShort,
    pendingExtended,
  };
  if (r.remaining === 0) return frame;
  if (r.remaining < 15) r.need(15, 'zigbeeBeaconPayload');
  const protocolId = r.u8('protocolId');
  if (protocolId !== 0)
    throw new ZigbeeDecodeError('MAC', 'UNSUPPORTED', 'protocolId', `non-ZigBee beacon ${protocolId}`);
  const sp = r.u8('stackProfile');
  const cap = r.u8('deviceCapacity');
  if (cap & 0x03) throw r.invalid('deviceCapacity', 'reserved bits set');
  frame.zigbee = {
    protocolId,
    stackProfile: sp & 0x0f,
    protocolVersion: sp >> 4,
    routerCapacity: (cap & 0x04) !== 0,
    deviceDepth: (cap >> 3) & 0x0f,
    endDeviceCapacity: (cap & 0x80) !== 0,
    extendedPanId: r.eui64('extendedPanId'),
    txOffset: r.u24('txOffset'),
    nwkUpdateId: r.u8('nwkUpdateId'),
  };
  r.done('beaconPayload');
  return frame;
}

function decodeMacCommand(r: Reader, frameVersion: 0 | 1): MacCommand {
  const id = r.u8('commandId');
  let c: MacCommand;
  switch (id) {
    case MacCommandId.associationRequest:
      c = { id: 'associationRequest', capability: decodeCapability(r, 'capabilityInformation') };
      break;
    case MacCommandId.associationResponse:
      c = {
        id: 'associationResponse',
        shortAddress: r.u16('shortAddress'),
        status: r.u8('associationStatus'),
      };
      break;
    case MacCommandId.disassociationNotification:
      c = { id: 'disassociationNotification', reason: r.u8('disassociationReason') };
      break;
    case MacCommandId.dataRequest:
      c = { id: 'dataRequest' };
      break;
    case MacCommandId.panIdConflictNotification:
      c = { id: 'panIdConflictNotification' };
      break;
    case MacCommandId.orphanNotification:
      c = { id: 'orphanNotification' };
      break;
    case MacCommandId.beaconRequest:
      c = { id: 'beaconRequest' };
      break;
    case MacCommandId.coordinatorRealignment: {
      const panId = r.u16('panId');
      const coordinatorShortAddress = r.u16('coordinatorShortAddress');
      const logicalChannel = r.u8('logicalChannel');
      const shortAddress = r.u16('shortAddress');
      c = { id: 'coordinatorRealignment', panId, coordinatorShortAddress, logicalChannel, shortAddress };
      if (frameVersion === 1) c.channelPage = r.u8('channelPage');
      break;
    }
    default:
      throw new ZigbeeDecodeError('MAC', 'UNSUPPORTED', 'commandId', `MAC command 0x${id.toString(16)}`);
  }
  r.done('command');
  return c;
}
