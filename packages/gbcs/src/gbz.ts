/**
 * GBZ: GBCS's wrapper of ZigBee (ZCL) commands for GSME and other ZigBee-side use cases
 * (gbcs-parser src/zigbee.ts; Wireshark gbcs_gbz):
 *   01 09 (profile id, SE)  <component count>
 *   per component: <extended header control: 0x01 last, 0x02 encrypted, 0x10 from-date-time>
 *     <cluster id, 2 BE> <length, 2 BE> [<from date-time, 4 BE, seconds since 2000>]
 *     encrypted: <additional header control> <frame counter> <ZCL header, 3> <len, 2>
 *                <security header, 5> <ciphertext> <MAC, 12>
 *     otherwise: <ZCL frame control> <sequence number> <command id> <ZCL payload>
 */
import { checkUint, concat, Reader, u16be, u32be } from './bytes.js';
import { GbcsError } from './errors.js';

export const GBZ_PROFILE_ID = 0x0109;
export const GBZ_MAX_COMPONENTS = 31;
const LAST = 0x01;
const ENCRYPTED = 0x02;
const FROM_DATE_TIME = 0x10;

export interface GbzEncrypted {
  additionalHeaderControl: number;
  frameCounter: number;
  /** Security header (5 bytes: control, invocation counter) || ciphertext || MAC. */
  cipheredInformation: Uint8Array;
}

export interface GbzComponent {
  clusterId: number;
  frameControl: number;
  sequenceNumber: number;
  commandId: number;
  /** Plain ZCL payload (empty when encrypted). */
  payload: Uint8Array;
  fromDateTime?: number;
  encrypted?: GbzEncrypted;
}

export function encodeGbz(components: GbzComponent[]): Uint8Array {
  if (components.length === 0 || components.length > GBZ_MAX_COMPONENTS)
    throw new GbcsError(
      'GBZ',
      'OUT_OF_RANGE',
      'components',
      `${components.length} is not 1-${GBZ_MAX_COMPONENTS}`,
    );
  const parts: Uint8Array[] = [u16be(GBZ_PROFILE_ID), Uint8Array.of(components.length)];
  components.forEach((c, i) => {
    checkUint('GBZ', 'clusterId', c.clusterId, 16);
    for (const f of ['frameControl', 'sequenceNumber', 'commandId'] as const) checkUint('GBZ', f, c[f], 8);
    const zclHeader = Uint8Array.of(c.frameControl, c.sequenceNumber, c.commandId);
    let control = i === components.length - 1 ? LAST : 0;
    let body: Uint8Array;
    if (c.encrypted !== undefined) {
      if (c.fromDateTime !== undefined)
        throw new GbcsError('GBZ', 'OUT_OF_RANGE', 'fromDateTime', 'not with an encrypted component');
      checkUint('GBZ', 'additionalHeaderControl', c.encrypted.additionalHeaderControl, 8);
      checkUint('GBZ', 'frameCounter', c.encrypted.frameCounter, 8);
      checkUint('GBZ', 'cipheredInformation', c.encrypted.cipheredInformation.length, 16);
      control |= ENCRYPTED;
      body = concat(
        Uint8Array.of(c.encrypted.additionalHeaderControl, c.encrypted.frameCounter),
        zclHeader,
        u16be(c.encrypted.cipheredInformation.length),
        c.encrypted.cipheredInformation,
      );
    } else {
      const dt = c.fromDateTime === undefined ? new Uint8Array(0) : u32be(c.fromDateTime);
      if (c.fromDateTime !== undefined) {
        checkUint('GBZ', 'fromDateTime', c.fromDateTime, 32);
        control |= FROM_DATE_TIME;
      }
      body = concat(dt, zclHeader, c.payload);
    }
    checkUint('GBZ', 'component.length', body.length, 16);
    parts.push(Uint8Array.of(control), u16be(c.clusterId), u16be(body.length), body);
  });
  return concat(...parts);
}

export function decodeGbz(bytes: Uint8Array): GbzComponent[] {
  const r = new Reader(bytes, 'GBZ');
  const profile = r.u16('profileId');
  if (profile !== GBZ_PROFILE_ID)
    throw new GbcsError('GBZ', 'INVALID_FIELD', 'profileId', `0x${profile.toString(16)} is not 0x0109`);
  const count = r.u8('components');
  if (count === 0 || count > GBZ_MAX_COMPONENTS)
    throw new GbcsError('GBZ', 'INVALID_FIELD', 'components', `${count} is not 1-${GBZ_MAX_COMPONENTS}`);
  const out: GbzComponent[] = [];
  for (let i = 0; i < count; i++) {
    const control = r.u8('extendedHeaderControl');
    if ((control & LAST) !== (i === count - 1 ? LAST : 0))
      throw new GbcsError(
        'GBZ',
        'INVALID_FIELD',
        'extendedHeaderControl',
        `last-component bit on component ${i + 1}`,
      );
    if (
      (control & ~(LAST | ENCRYPTED | FROM_DATE_TIME)) !== 0 ||
      (control & ENCRYPTED && control & FROM_DATE_TIME)
    )
      throw new GbcsError('GBZ', 'INVALID_FIELD', 'extendedHeaderControl', `0x${control.toString(16)}`);
    const clusterId = r.u16('extendedHeaderCluster');
    const len = r.u16('extendedHeaderLength');
    const c = new Reader(r.take(len, 'component'), 'GBZ');
    if (control & ENCRYPTED) {
      const additionalHeaderControl = c.u8('additionalHeaderControl');
      const frameCounter = c.u8('additionalFrameCounter');
      const frameControl = c.u8('frameControl');
      const sequenceNumber = c.u8('sequenceNumber');
      const commandId = c.u8('commandId');
      const cl = c.u16('cipheredInformation.length');
      const cipheredInformation = c.take(cl, 'cipheredInformation');
      c.end('cipheredInformation');
      out.push({
        clusterId,
        frameControl,
        sequenceNumber,
        commandId,
        payload: new Uint8Array(0),
        encrypted: { additionalHeaderControl, frameCounter, cipheredInformation },
      });
      continue;
    }
    const fromDateTime = control & FROM_DATE_TIME ? c.u32('fromDateTime') : undefined;
    const comp: GbzComponent = {
      clusterId,
      frameControl: c.u8('frameControl'),
      sequenceNumber: c.u8('sequenceNumber'),
      commandId: c.u8('commandId'),
      payload: c.take(c.remaining, 'payload'),
    };
    if (fromDateTime !== undefined) comp.fromDateTime = fromDateTime;
    out.push(comp);
  }
  r.end('components');
  return out;
}

export const PREPAYMENT_CLUSTER = 0x0705;
/** ZCL frame control: cluster-specific, client to server (0x01) / server to client (0x09). */
export const ZCL_CLUSTER_TO_SERVER = 0x01;
export const ZCL_CLUSTER_TO_CLIENT = 0x09;
/** Profile-wide command, client to server, default response disabled (Read Attributes). */
export const ZCL_GLOBAL_TO_SERVER = 0x10;

/** CS01b: Prepayment Consumer Top Up (0x04), originating device 0 = ESME/HES (RTDS value). */
export function gbzConsumerTopUp(utrn: string, sequenceNumber = 0, originatingDevice = 0): Uint8Array {
  const text = new TextEncoder().encode(utrn);
  if (text.length > 0xff) throw new GbcsError('GBZ', 'OUT_OF_RANGE', 'utrn', 'too long');
  return encodeGbz([
    {
      clusterId: PREPAYMENT_CLUSTER,
      frameControl: ZCL_CLUSTER_TO_SERVER,
      sequenceNumber,
      commandId: 0x04,
      payload: concat(Uint8Array.of(originatingDevice, text.length), text),
    },
  ]);
}

/** A GSME read: ZCL Read Attributes (0x00) on one cluster, attribute ids little-endian. */
export function gbzReadAttributes(clusterId: number, attributeIds: number[], sequenceNumber = 0): Uint8Array {
  const ids = new Uint8Array(attributeIds.length * 2);
  attributeIds.forEach((a, i) => {
    checkUint('GBZ', 'attributeId', a, 16);
    ids[2 * i] = a & 0xff;
    ids[2 * i + 1] = a >>> 8;
  });
  return encodeGbz([
    { clusterId, frameControl: ZCL_GLOBAL_TO_SERVER, sequenceNumber, commandId: 0x00, payload: ids },
  ]);
}
