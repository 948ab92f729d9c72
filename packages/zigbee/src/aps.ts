/**
 * ZigBee APS frames (05-3474 §2.2.5): data, acknowledgment and command frames with the
 * extended header used for fragmentation, the APS commands the trust centre exchanges
 * (§4.4.10: transport/update/remove/request/switch/verify/confirm key), and APS security
 * (§4.4.1) with data, network, key-transport and key-load keys. As in nwk.ts a secured frame
 * decodes to `security: true` until `unsecureApsFrame` is given the key.
 */
import { type Eui64, Reader, Writer } from './bytes.js';
import { ZigbeeDecodeError } from './errors.js';
import {
  type AuxHeader,
  DEFAULT_SECURITY_LEVEL,
  decodeAuxHeader,
  encodeAuxHeader,
  type SecurityKeyIdName,
} from './security/aux-header.js';
import { frameKey } from './security/keys.js';
import { openFrame, sealFrame } from './security/seal.js';

/** Delivery mode subfield (§2.2.5.1.1.2); 1 (indirect) is reserved since R21. */
export const ApsDeliveryMode = { unicast: 0, broadcast: 2, group: 3 } as const;
export type ApsDeliveryModeName = keyof typeof ApsDeliveryMode;
const DELIVERY_NAMES: (ApsDeliveryModeName | undefined)[] = ['unicast', undefined, 'broadcast', 'group'];

/** Extended header (§2.2.5.1.8): fragmentation 0 none, 1 first block, 2 a later block. */
export interface ApsExtendedHeader {
  fragmentation: 0 | 1 | 2;
  /** Present iff fragmentation is not 0. */
  blockNumber?: number;
  /** Present iff fragmentation is not 0 in an acknowledgment. */
  ackBitfield?: number;
}

interface ApsCommon {
  deliveryMode: ApsDeliveryModeName;
  ackRequest: boolean;
  counter: number;
  extendedHeader?: ApsExtendedHeader;
}

export interface ApsDataHeader extends ApsCommon {
  frameType: 'data';
  /** Present for unicast and broadcast delivery. */
  destinationEndpoint?: number;
  /** Present for group delivery. */
  groupAddress?: number;
  clusterId: number;
  profileId: number;
  sourceEndpoint: number;
}

export interface ApsAckHeader extends ApsCommon {
  frameType: 'ack';
  /** 'data' acknowledges a data frame (endpoints, cluster, profile present), 'command' a command. */
  ackFormat: 'data' | 'command';
  destinationEndpoint?: number;
  clusterId?: number;
  profileId?: number;
  sourceEndpoint?: number;
}

export interface ApsCommandHeader extends ApsCommon {
  frameType: 'command';
}

export type ApsHeader = ApsDataHeader | ApsAckHeader | ApsCommandHeader;

/** APS command identifiers (§4.4.10, Table 4.14). */
export const ApsCommandId = {
  transportKey: 0x05,
  updateDevice: 0x06,
  removeDevice: 0x07,
  requestKey: 0x08,
  switchKey: 0x09,
  verifyKey: 0x0f,
  confirmKey: 0x10,
} as const;
type ApsCommandName = keyof typeof ApsCommandId;
const APS_COMMAND_NAMES = new Map<number, ApsCommandName>(
  Object.entries(ApsCommandId).map(([k, v]) => [v, k as ApsCommandName]),
);

/** Key type values (§4.4.10.1.1, Table 4.15). */
export const ApsKeyType = { network: 0x01, applicationLink: 0x03, trustCenterLink: 0x04 } as const;
/** Request Key key types (§4.4.10.5): 2 asks for an application link key. */
export const ApsRequestKeyType = { applicationLink: 0x02, trustCenterLink: 0x04 } as const;

export type ApsCommand =
  | {
      id: 'transportKey';
      keyType: 'network';
      key: Uint8Array;
      sequenceNumber: number;
      destination: Eui64;
      source: Eui64;
    }
  | { id: 'transportKey'; keyType: 'trustCenterLink'; key: Uint8Array; destination: Eui64; source: Eui64 }
  | { id: 'transportKey'; keyType: 'applicationLink'; key: Uint8Array; partner: Eui64; initiator: boolean }
  | { id: 'updateDevice'; device: Eui64; shortAddress: number; status: number }
  | { id: 'removeDevice'; target: Eui64 }
  | { id: 'requestKey'; keyType: 'applicationLink'; partner: Eui64 }
  | { id: 'requestKey'; keyType: 'trustCenterLink' }
  | { id: 'switchKey'; sequenceNumber: number }
  | { id: 'verifyKey'; keyType: number; source: Eui64; initiatorVerifyKeyHash: Uint8Array }
  | { id: 'confirmKey'; status: number; keyType: number; destination: Eui64 };

export type ApsDataFrame = ApsDataHeader & { security: false; payload: Uint8Array };
export type ApsAckFrame = ApsAckHeader & { security: false };
export type ApsCommandFrame = ApsCommandHeader & { security: false; command: ApsCommand };
export type ApsPlainFrame = ApsDataFrame | ApsAckFrame | ApsCommandFrame;
/** Secured, not yet decrypted: header in clear, `encrypted` = ciphertext || MIC. */
export type ApsSecuredFrame = ApsHeader & { security: true; aux: AuxHeader; encrypted: Uint8Array };
export type ApsFrame = ApsPlainFrame | ApsSecuredFrame;

const TYPE_BITS = { data: 0, command: 1, ack: 2 } as const;

function need<T>(v: T | undefined, field: string): T {
  if (v === undefined) throw new RangeError(`APS ${field} is required here`);
  return v;
}

function encodeHeader(w: Writer, h: ApsHeader, security: boolean): void {
  const ext = h.extendedHeader;
  w.u8(
    TYPE_BITS[h.frameType] |
      (ApsDeliveryMode[h.deliveryMode] << 2) |
      (h.frameType === 'ack' && h.ackFormat === 'command' ? 0x10 : 0) |
      (security ? 0x20 : 0) |
      (h.ackRequest ? 0x40 : 0) |
      (ext ? 0x80 : 0),
  );
  if (h.frameType === 'data') {
    if (h.deliveryMode === 'group') {
      if (h.destinationEndpoint !== undefined)
        throw new RangeError('group delivery has no destination endpoint');
      w.u16(need(h.groupAddress, 'groupAddress'), 'groupAddress');
    } else {
      if (h.groupAddress !== undefined) throw new RangeError('groupAddress needs group delivery');
      w.u8(need(h.destinationEndpoint, 'destinationEndpoint'), 'destinationEndpoint');
    }
    w.u16(h.clusterId, 'clusterId').u16(h.profileId, 'profileId').u8(h.sourceEndpoint, 'sourceEndpoint');
  } else if (h.frameType === 'ack') {
    if (h.deliveryMode === 'group') throw new RangeError('acknowledgments are not group-delivered');
    if (h.ackFormat === 'data') {
      w.u8(need(h.destinationEndpoint, 'destinationEndpoint'), 'destinationEndpoint');
      w.u16(need(h.clusterId, 'clusterId'), 'clusterId').u16(need(h.profileId, 'profileId'), 'profileId');
      w.u8(need(h.sourceEndpoint, 'sourceEndpoint'), 'sourceEndpoint');
    }
  } else if (h.deliveryMode === 'group') {
    throw new RangeError('APS commands are not group-delivered');
  }
  w.u8(h.counter, 'counter');
  if (ext) {
    w.u8(ext.fragmentation);
    if ((ext.blockNumber !== undefined) !== (ext.fragmentation !== 0)) {
      throw new RangeError('blockNumber is present iff fragmentation is not 0');
    }
    if ((ext.ackBitfield !== undefined) !== (ext.fragmentation !== 0 && h.frameType === 'ack')) {
      throw new RangeError('ackBitfield is present iff a fragmented acknowledgment');
    }
    if (ext.blockNumber !== undefined) w.u8(ext.blockNumber, 'blockNumber');
    if (ext.ackBitfield !== undefined) w.u8(ext.ackBitfield, 'ackBitfield');
  }
}

/** Command identifier and payload (§4.4.10). */
export function encodeApsCommand(c: ApsCommand): Uint8Array {
  const w = new Writer(48);
  w.u8(ApsCommandId[c.id]);
  const key16 = (k: Uint8Array) => {
    if (k.length !== 16) throw new RangeError(`key must be 16 bytes, got ${k.length}`);
    w.bytes(k);
  };
  switch (c.id) {
    case 'transportKey':
      w.u8(ApsKeyType[c.keyType]);
      key16(c.key);
      if (c.keyType === 'network')
        w.u8(c.sequenceNumber, 'sequenceNumber').eui64(c.destination).eui64(c.source);
      else if (c.keyType === 'trustCenterLink') w.eui64(c.destination).eui64(c.source);
      else w.eui64(c.partner).u8(c.initiator ? 1 : 0);
      break;
    case 'updateDevice':
      w.eui64(c.device).u16(c.shortAddress, 'shortAddress').u8(c.status, 'status');
      break;
    case 'removeDevice':
      w.eui64(c.target);
      break;
    case 'requestKey':
      w.u8(ApsRequestKeyType[c.keyType]);
      if (c.keyType === 'applicationLink') w.eui64(c.partner);
      break;
    case 'switchKey':
      w.u8(c.sequenceNumber, 'sequenceNumber');
      break;
    case 'verifyKey':
      w.u8(c.keyType, 'keyType').eui64(c.source);
      if (c.initiatorVerifyKeyHash.length !== 16)
        throw new RangeError('initiatorVerifyKeyHash must be 16 bytes');
      w.bytes(c.initiatorVerifyKeyHash);
      break;
    case 'confirmKey':
      w.u8(c.status, 'status').u8(c.keyType, 'keyType').eui64(c.destination);
      break;
  }
  return w.finish();
}

export function decodeApsCommand(bytes: Uint8Array): ApsCommand {
  const r = new Reader(bytes, 'APS');
  const idByte = r.u8('commandId');
  const id = APS_COMMAND_NAMES.get(idByte);
  if (!id)
    throw new ZigbeeDecodeError('APS', 'UNSUPPORTED', 'commandId', `APS command 0x${idByte.toString(16)}`);
  let c: ApsCommand;
  switch (id) {
    case 'transportKey': {
      const t = r.u8('keyType');
      const key = r.bytes(16, 'key');
      if (t === ApsKeyType.network) {
        c = {
          id,
          keyType: 'network',
          key,
          sequenceNumber: r.u8('keySequenceNumber'),
          destination: r.eui64('destinationAddress'),
          source: r.eui64('sourceAddress'),
        };
      } else if (t === ApsKeyType.trustCenterLink) {
        c = {
          id,
          keyType: 'trustCenterLink',
          key,
          destination: r.eui64('destinationAddress'),
          source: r.eui64('sourceAddress'),
        };
      } else if (t === ApsKeyType.applicationLink) {
        const partner = r.eui64('partnerAddress');
        const init = r.u8('initiatorFlag');
        if (init > 1) throw r.invalid('initiatorFlag', `${init} is not 0 or 1`);
        c = { id, keyType: 'applicationLink', key, partner, initiator: init === 1 };
      } else {
        throw new ZigbeeDecodeError(
          'APS',
          'UNSUPPORTED',
          'keyType',
          `transport key type 0x${t.toString(16)}`,
        );
      }
      break;
    }
    case 'updateDevice':
      c = {
        id,
        device: r.eui64('deviceAddress'),
        shortAddress: r.u16('deviceShortAddress'),
        status: r.u8('status'),
      };
      break;
    case 'removeDevice':
      c = { id, target: r.eui64('targetAddress') };
      break;
    case 'requestKey': {
      const t = r.u8('keyType');
      if (t === ApsRequestKeyType.applicationLink)
        c = { id, keyType: 'applicationLink', partner: r.eui64('partnerAddress') };
      else if (t === ApsRequestKeyType.trustCenterLink) c = { id, keyType: 'trustCenterLink' };
      else
        throw new ZigbeeDecodeError('APS', 'UNSUPPORTED', 'keyType', `request key type 0x${t.toString(16)}`);
      break;
    }
    case 'switchKey':
      c = { id, sequenceNumber: r.u8('keySequenceNumber') };
      break;
    case 'verifyKey':
      c = {
        id,
        keyType: r.u8('keyType'),
        source: r.eui64('sourceAddress'),
        initiatorVerifyKeyHash: r.bytes(16, 'initiatorVerifyKeyHash'),
      };
      break;
    case 'confirmKey':
      c = {
        id,
        status: r.u8('status'),
        keyType: r.u8('keyType'),
        destination: r.eui64('destinationAddress'),
      };
      break;
  }
  r.done('command');
  return c;
}

/** Encode a plain frame, or re-emit a secured one exactly as decoded. */
export function encodeApsFrame(frame: ApsFrame): Uint8Array {
  const w = new Writer(96);
  encodeHeader(w, frame, frame.security);
  if (frame.security) {
    encodeAuxHeader(w, frame.aux);
    w.bytes(frame.encrypted);
  } else if (frame.frameType === 'data') {
    w.bytes(frame.payload);
  } else if (frame.frameType === 'command') {
    w.bytes(encodeApsCommand(frame.command));
  }
  return w.finish();
}

function decodeHeader(r: Reader): { header: ApsHeader; security: boolean } {
  const fc = r.u8('frameControl');
  const type = fc & 3;
  if (type === 3)
    throw new ZigbeeDecodeError('APS', 'UNSUPPORTED', 'frameType', 'Inter-PAN stub: use decodeInterPanFrame');
  const deliveryMode = DELIVERY_NAMES[(fc >> 2) & 3];
  if (!deliveryMode) throw r.invalid('deliveryMode', 'indirect delivery (1) is reserved');
  const ackFormat = (fc & 0x10) !== 0;
  const security = (fc & 0x20) !== 0;
  const ackRequest = (fc & 0x40) !== 0;
  const hasExt = (fc & 0x80) !== 0;
  if (ackFormat && type !== TYPE_BITS.ack)
    throw r.invalid('ackFormat', 'set on a frame that is not an acknowledgment');
  let header: ApsHeader;
  if (type === TYPE_BITS.data) {
    const h: Partial<ApsDataHeader> = {};
    if (deliveryMode === 'group') h.groupAddress = r.u16('groupAddress');
    else h.destinationEndpoint = r.u8('destinationEndpoint');
    header = {
      frameType: 'data',
      deliveryMode,
      ackRequest,
      ...h,
      clusterId: r.u16('clusterId'),
      profileId: r.u16('profileId'),
      sourceEndpoint: r.u8('sourceEndpoint'),
      counter: 0,
    };
  } else if (type === TYPE_BITS.ack) {
    if (deliveryMode === 'group') throw r.invalid('deliveryMode', 'group-delivered acknowledgment');
    if (ackFormat) header = { frameType: 'ack', deliveryMode, ackRequest, ackFormat: 'command', counter: 0 };
    else {
      header = {
        frameType: 'ack',
        deliveryMode,
        ackRequest,
        ackFormat: 'data',
        destinationEndpoint: r.u8('destinationEndpoint'),
        clusterId: r.u16('clusterId'),
        profileId: r.u16('profileId'),
        sourceEndpoint: r.u8('sourceEndpoint'),
        counter: 0,
      };
    }
  } else {
    if (deliveryMode === 'group') throw r.invalid('deliveryMode', 'group-delivered APS command');
    header = { frameType: 'command', deliveryMode, ackRequest, counter: 0 };
  }
  header.counter = r.u8('counter');
  if (hasExt) {
    const efc = r.u8('extendedFrameControl');
    const fragmentation = efc & 3;
    if (efc & 0xfc || fragmentation === 3)
      throw r.invalid('extendedFrameControl', `reserved value 0x${efc.toString(16)}`);
    const ext: ApsExtendedHeader = { fragmentation: fragmentation as 0 | 1 | 2 };
    if (fragmentation !== 0) {
      ext.blockNumber = r.u8('blockNumber');
      if (type === TYPE_BITS.ack) ext.ackBitfield = r.u8('ackBitfield');
    }
    header.extendedHeader = ext;
  }
  return { header, security };
}

/** Decode an APS frame (the NWK data payload). Secured frames stay encrypted. */
export function decodeApsFrame(bytes: Uint8Array): ApsFrame {
  const r = new Reader(bytes, 'APS');
  const { header, security } = decodeHeader(r);
  if (security) return { ...header, security: true, aux: decodeAuxHeader(r), encrypted: r.rest() };
  return plainFrame(header, r.rest(), r);
}

function plainFrame(header: ApsHeader, body: Uint8Array, r: Reader): ApsPlainFrame {
  if (header.frameType === 'data') return { ...header, security: false, payload: body };
  if (header.frameType === 'command') return { ...header, security: false, command: decodeApsCommand(body) };
  if (body.length !== 0)
    throw new ZigbeeDecodeError(r.layer, 'OVERLONG', 'ack', `${body.length} trailing byte(s)`);
  return { ...header, security: false };
}

export interface ApsSecureOptions {
  /** The link key (or network key for keyId 'network'); key-transport/key-load keys are derived from it here. */
  key: Uint8Array;
  keyId: SecurityKeyIdName;
  frameCounter: number;
  /** The sender's EUI64 (nonce source address). */
  sourceEui64: Eui64;
  /** Required with keyId 'network'. */
  keySequenceNumber?: number;
  /** Real level (default 5). */
  level?: number;
  /** On-air level: 0 as ZigBee does (default) or 'real'. */
  onAirLevel?: 0 | 'real';
  /** Carry sourceEui64 in the aux header (default true; needed by receivers that cannot learn it). */
  extendedNonce?: boolean;
}

/** Secure a plain frame (§4.4.1.1): returns the on-air APS bytes. */
export function secureApsFrame(frame: ApsPlainFrame, o: ApsSecureOptions): Uint8Array {
  const level = o.level ?? DEFAULT_SECURITY_LEVEL;
  const extendedNonce = o.extendedNonce ?? true;
  const aux: AuxHeader = { level, keyId: o.keyId, frameCounter: o.frameCounter };
  if (extendedNonce) aux.sourceAddress = o.sourceEui64;
  if (o.keyId === 'network') aux.keySequenceNumber = need(o.keySequenceNumber, 'keySequenceNumber');
  const w = new Writer(96);
  encodeHeader(w, frame, true);
  const auxOffset = w.length;
  encodeAuxHeader(w, aux);
  const a = w.finish();
  const m =
    frame.frameType === 'data'
      ? frame.payload
      : frame.frameType === 'command'
        ? encodeApsCommand(frame.command)
        : new Uint8Array(0);
  return sealFrame(
    a,
    0,
    auxOffset,
    m,
    frameKey(o.key, o.keyId),
    o.sourceEui64,
    o.frameCounter,
    level,
    o.onAirLevel,
  );
}

export interface ApsUnsecureOptions {
  /** Base key as in ApsSecureOptions; the aux header's key id picks the derivation. */
  key: Uint8Array;
  level?: number;
  /** Needed when the aux header carries no source address (e.g. the NWK source IEEE). */
  sourceEui64?: Eui64;
}

/** Decrypt and authenticate a secured APS frame (§4.4.1.2). */
export function unsecureApsFrame(
  bytes: Uint8Array,
  o: ApsUnsecureOptions,
): { frame: ApsPlainFrame; aux: AuxHeader } {
  const r = new Reader(bytes, 'APS');
  const { header } = decodeHeader(r);
  if (!((bytes[0] ?? 0) & 0x20)) throw r.invalid('security', 'frame is not secured');
  const auxOffset = r.offset;
  const aux = decodeAuxHeader(r);
  const level = o.level ?? DEFAULT_SECURITY_LEVEL;
  const m = openFrame(bytes, 0, auxOffset, r.offset, aux, frameKey(o.key, aux.keyId), level, o.sourceEui64);
  return { frame: plainFrame(header, m, r), aux };
}
