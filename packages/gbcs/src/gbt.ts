/**
 * GBCS General Block Transfer: a message longer than one tunnel transfer travels as blocks.
 * Layout (Wireshark 4.0 gbcs_message dissector, packet-zbee-zcl-se.c; facts only):
 *   routing header: DD 09 <CRA> <originator counter, 8> 08 <business originator> 08 <target>
 *                   00 (date-time) <len> <message code, 2> 00 (key-info) <len> <security
 *                   control> <invocation counter, 4>
 *   GBT header:     E0 <block control: 0x80 last block, 0x40 streaming, 0x3F window>
 *                   <block number, 2> <block number ack, 2> <len> <block data>
 * Wireshark reassembles by (originator, counter) with block numbers from 1.
 */
import { checkBytes, checkU64, checkUint, concat, equalBytes, Reader, u16be, u32be, u64be } from './bytes.js';
import { GbcsError } from './errors.js';
import { GENERAL_CIPHERING_TAG } from './general-ciphering.js';
import type { CraFlag } from './general-signing.js';
import { decodeLength, encodeLength } from './length.js';

export const GBT_TAG = 0xe0;
export const GBT_LAST_BLOCK = 0x80;
export const GBT_STREAMING = 0x40;
/**
 * ASSUMPTIONS (GBCS not at hand): the routing header's security control is 0x00 (the blocks
 * carry pieces of a message that has its own MAC/signature), its invocation counter 0, its length
 * covers the security header and the GBT APDU, window 1, block number ack 0, not streaming.
 */
export const GBT_SECURITY_CONTROL = 0x00;
export const GBT_WINDOW = 1;

export interface GbtBlock {
  cra: CraFlag;
  originatorCounter: bigint;
  originator: Uint8Array;
  recipient: Uint8Array;
  messageCode: number;
  last: boolean;
  streaming: boolean;
  window: number;
  blockNumber: number;
  blockNumberAck: number;
  data: Uint8Array;
}

const CRA = { command: 1, response: 2, alert: 3 } as const;

export function encodeGbtBlock(b: GbtBlock): Uint8Array {
  checkU64('GBT', 'originatorCounter', b.originatorCounter);
  checkBytes('GBT', 'originator', b.originator, 8);
  checkBytes('GBT', 'recipient', b.recipient, 8);
  checkUint('GBT', 'messageCode', b.messageCode, 16);
  checkUint('GBT', 'window', b.window, 6);
  checkUint('GBT', 'blockNumber', b.blockNumber, 16);
  checkUint('GBT', 'blockNumberAck', b.blockNumberAck, 16);
  const gbt = concat(
    Uint8Array.of(GBT_TAG, (b.last ? GBT_LAST_BLOCK : 0) | (b.streaming ? GBT_STREAMING : 0) | b.window),
    u16be(b.blockNumber),
    u16be(b.blockNumberAck),
    encodeLength(b.data.length),
    b.data,
  );
  return concat(
    Uint8Array.of(GENERAL_CIPHERING_TAG, 9, CRA[b.cra]),
    u64be(b.originatorCounter),
    Uint8Array.of(8),
    b.originator,
    Uint8Array.of(8),
    b.recipient,
    Uint8Array.of(0, 2),
    u16be(b.messageCode),
    Uint8Array.of(0),
    encodeLength(5 + gbt.length),
    Uint8Array.of(GBT_SECURITY_CONTROL),
    u32be(0),
    gbt,
  );
}

export function isGbtBlock(bytes: Uint8Array): boolean {
  return bytes.length > 1 && bytes[0] === GENERAL_CIPHERING_TAG && bytes[1] === 9;
}

export function decodeGbtBlock(bytes: Uint8Array): GbtBlock {
  const r = new Reader(bytes, 'GBT');
  r.expect(GENERAL_CIPHERING_TAG, 'tag');
  r.expect(9, 'transactionId.length');
  const craCode = r.u8('craFlag');
  const cra = (['command', 'response', 'alert'] as const)[craCode - 1];
  if (cra === undefined) throw new GbcsError('GBT', 'INVALID_FIELD', 'craFlag', `0x${craCode.toString(16)}`);
  const originatorCounter = r.u64('originatorCounter');
  r.expect(8, 'originator.length');
  const originator = r.take(8, 'originator');
  r.expect(8, 'recipient.length');
  const recipient = r.take(8, 'recipient');
  r.expect(0, 'dateTime.length');
  r.expect(2, 'otherInformation.length');
  const messageCode = r.u16('messageCode');
  r.expect(0, 'keyInfo.length');
  const len = decodeLength(r, 'cipheredService.length');
  if (len !== r.remaining)
    throw new GbcsError(
      'GBT',
      len > r.remaining ? 'TRUNCATED' : 'TRAILING_BYTES',
      'cipheredService.length',
      `says ${len}, ${r.remaining} follow`,
    );
  r.expect(GBT_SECURITY_CONTROL, 'securityControl');
  r.u32('invocationCounter');
  r.expect(GBT_TAG, 'gbtTag');
  const control = r.u8('blockControl');
  const blockNumber = r.u16('blockNumber');
  const blockNumberAck = r.u16('blockNumberAck');
  const dataLen = decodeLength(r, 'blockData.length');
  const data = r.take(dataLen, 'blockData');
  r.end('blockData');
  return {
    cra,
    originatorCounter,
    originator,
    recipient,
    messageCode,
    last: (control & GBT_LAST_BLOCK) !== 0,
    streaming: (control & GBT_STREAMING) !== 0,
    window: control & 0x3f,
    blockNumber,
    blockNumberAck,
    data,
  };
}

/** Routing + GBT header bytes around `n` data bytes. */
export function gbtOverhead(n: number): number {
  const gbt = 6 + encodeLength(n).length + n;
  return 3 + 8 + 9 + 9 + 1 + 3 + 1 + encodeLength(5 + gbt).length + 5 + gbt - n;
}

export interface SplitOptions {
  cra: CraFlag;
  originatorCounter: bigint;
  originator: Uint8Array;
  recipient: Uint8Array;
  messageCode: number;
  /** Largest GBT message (the whole block, headers included). */
  maxBlockSize: number;
}

/** Splits a GBCS message into GBT blocks numbered from 1, each at most maxBlockSize bytes. */
export function splitIntoBlocks(message: Uint8Array, o: SplitOptions): Uint8Array[] {
  let per = o.maxBlockSize - gbtOverhead(0);
  while (per > 0 && per + gbtOverhead(per) > o.maxBlockSize) per--;
  if (per <= 0)
    throw new GbcsError('GBT', 'OUT_OF_RANGE', 'maxBlockSize', `${o.maxBlockSize} leaves no room for data`);
  const count = Math.max(1, Math.ceil(message.length / per));
  if (count > 0xffff) throw new GbcsError('GBT', 'OUT_OF_RANGE', 'message', 'more than 65535 blocks');
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++)
    out.push(
      encodeGbtBlock({
        cra: o.cra,
        originatorCounter: o.originatorCounter,
        originator: o.originator,
        recipient: o.recipient,
        messageCode: o.messageCode,
        last: i === count - 1,
        streaming: false,
        window: GBT_WINDOW,
        blockNumber: i + 1,
        blockNumberAck: 0,
        data: message.subarray(i * per, (i + 1) * per),
      }),
    );
  return out;
}

/** Joins blocks (any order) of one message; checks they agree and that none is missing. */
export function reassembleBlocks(blocks: Uint8Array[]): Uint8Array {
  if (blocks.length === 0) throw new GbcsError('GBT', 'TRUNCATED', 'blocks', 'no blocks');
  const decoded = blocks.map(decodeGbtBlock).sort((a, b) => a.blockNumber - b.blockNumber);
  const first = decoded[0]!;
  for (const [i, b] of decoded.entries()) {
    if (b.blockNumber !== i + 1)
      throw new GbcsError(
        'GBT',
        'INVALID_FIELD',
        'blockNumber',
        `expected block ${i + 1}, got ${b.blockNumber}`,
      );
    if (
      b.originatorCounter !== first.originatorCounter ||
      !equalBytes(b.originator, first.originator) ||
      !equalBytes(b.recipient, first.recipient) ||
      b.messageCode !== first.messageCode ||
      b.cra !== first.cra
    )
      throw new GbcsError(
        'GBT',
        'INVALID_FIELD',
        'routingHeader',
        `block ${b.blockNumber} is from another message`,
      );
    if (b.last !== (i === decoded.length - 1))
      throw new GbcsError('GBT', 'INVALID_FIELD', 'blockControl.lastBlock', `block ${b.blockNumber}`);
  }
  return concat(...decoded.map((b) => b.data));
}
