/**
 * Reading captures of real radios: classic pcap (either byte order, micro- or nanosecond
 * timestamps) with link type 195 (802.15.4 with FCS), 283 (802.15.4 TAP: channel and page from
 * its TLVs) or Ethernet / raw IPv4 carrying ZEP v1 or v2 over UDP (port 17754), and single ZEP
 * datagrams (a live sniffer or radio bridge). The fixed layouts are binary-parser parsers
 * (declarative, read-only views of the input); every way a file can be wrong is a
 * CaptureReadError with a code and the byte offset, never a RangeError.
 */
import { Parser } from 'binary-parser';
import { LINKTYPE_IEEE802_15_4_TAP, LINKTYPE_IEEE802_15_4_WITHFCS, ZEP_UDP_PORT } from './capture.js';

export const LINKTYPE_ETHERNET = 1;
/** LINKTYPE_RAW and LINKTYPE_IPV4: the packet starts with its IPv4 header. */
export const LINKTYPE_RAW = 101;
export const LINKTYPE_IPV4 = 228;
export const READABLE_LINK_TYPES = [
  LINKTYPE_IEEE802_15_4_WITHFCS,
  LINKTYPE_IEEE802_15_4_TAP,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_IPV4,
] as const;

/** An 802.15.4 PSDU is at most 127 octets (aMaxPHYPacketSize); GB868 allows no more here. */
export const MAX_PSDU = 127;
/** Largest pcap record accepted: far above any 802.15.4 or ZEP packet, far below a heap. */
export const MAX_RECORD_BYTES = 65_535;

export type CaptureReadErrorCode =
  | 'CAPTURE_TRUNCATED'
  | 'CAPTURE_BAD_MAGIC'
  | 'CAPTURE_LINK_TYPE'
  | 'CAPTURE_RECORD_TOO_LONG'
  | 'CAPTURE_BAD_TAP'
  | 'CAPTURE_FRAME_TOO_LONG'
  | 'ZEP_TRUNCATED'
  | 'ZEP_BAD_PREAMBLE'
  | 'ZEP_VERSION';

export class CaptureReadError extends Error {
  constructor(
    readonly code: CaptureReadErrorCode,
    message: string,
    /** Byte offset in the file (or datagram) where the problem is. */
    readonly offset: number,
  ) {
    super(`${code} at byte ${offset}: ${message}`);
    this.name = 'CaptureReadError';
  }
}

/** One frame read from a capture. */
export interface ReadFrame {
  /** Capture timestamp, microseconds since the Unix epoch (nanosecond files rounded down). */
  timeUs: number;
  /** The PSDU with its FCS. */
  psdu: Uint8Array;
  /** From a TAP channel TLV or a ZEP header; absent for link type 195. */
  channel?: number;
  /** From a TAP channel TLV (ZEP and 195 have no page). */
  page?: number;
  /** ZEP's device id, when the frame came over ZEP. */
  zepDeviceId?: number;
}

export interface Capture {
  linkType: number;
  /** Frames in file order; records that carry no 802.15.4 frame (other UDP, ZEP acks) are skipped. */
  frames: ReadFrame[];
  /** Records skipped because they carry no 802.15.4 frame. */
  skipped: number;
}

/** The pcap global header and record header, in the byte order the magic number says. */
const pcapGlobal = (endian: 'little' | 'big') =>
  new Parser()
    .endianness(endian)
    .uint32('magic')
    .uint16('major')
    .uint16('minor')
    .int32('thiszone')
    .uint32('sigfigs')
    .uint32('snaplen')
    .uint32('linkType');
const recordHeader = (endian: 'little' | 'big') =>
  new Parser().endianness(endian).uint32('seconds').uint32('fraction').uint32('inclLen').uint32('origLen');
const globalLE = pcapGlobal('little');
const globalBE = pcapGlobal('big');
const recordLE = recordHeader('little');
const recordBE = recordHeader('big');
const tapHeader = new Parser().endianness('little').uint8('version').uint8('reserved').uint16('length');
const tlvHeader = new Parser().endianness('little').uint16('type').uint16('length');
const ethernet = new Parser().buffer('dst', { length: 6 }).buffer('src', { length: 6 }).uint16be('etherType');
const ipv4 = new Parser()
  .bit4('version')
  .bit4('ihl')
  .uint8('tos')
  .uint16be('totalLength')
  .uint16be('id')
  .uint16be('fragment')
  .uint8('ttl')
  .uint8('protocol');
const udp = new Parser().uint16be('srcPort').uint16be('dstPort').uint16be('length').uint16be('checksum');
const zepStart = new Parser().string('preamble', { length: 2, encoding: 'latin1' }).uint8('version');
const zepV1 = new Parser()
  .seek(3)
  .uint8('channel')
  .uint16be('deviceId')
  .uint8('lqiMode')
  .uint8('lqi')
  .seek(7)
  .uint8('length');
const zepV2 = new Parser()
  .seek(3)
  .uint8('type')
  .uint8('channel')
  .uint16be('deviceId')
  .uint8('lqiMode')
  .uint8('lqi')
  .uint32be('ntpSeconds')
  .uint32be('ntpFraction')
  .uint32be('seq')
  .seek(10)
  .uint8('length');

interface Global {
  magic: number;
  major: number;
  snaplen: number;
  linkType: number;
}
interface RecordHeader {
  seconds: number;
  fraction: number;
  inclLen: number;
  origLen: number;
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const NTP_UNIX_OFFSET = 2_208_988_800;

function need(buf: Uint8Array, offset: number, n: number, what: string, code: CaptureReadErrorCode): void {
  if (buf.length - offset < n)
    throw new CaptureReadError(code, `${what} needs ${n} bytes, ${buf.length - offset} left`, offset);
}

/** Read a whole pcap file (in memory: captures of a HAN are small). */
export function readPcap(data: Uint8Array): Capture {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  need(buf, 0, 24, 'the pcap global header', 'CAPTURE_TRUNCATED');
  const le = globalLE.parse(buf) as Global;
  const bigEndian = le.magic !== MAGIC_US && le.magic !== MAGIC_NS;
  const g = bigEndian ? (globalBE.parse(buf) as Global) : le;
  if (g.magic !== MAGIC_US && g.magic !== MAGIC_NS)
    throw new CaptureReadError(
      'CAPTURE_BAD_MAGIC',
      `0x${le.magic.toString(16)} is not a pcap file (pcapng is not read: save as pcap)`,
      0,
    );
  if (!(READABLE_LINK_TYPES as readonly number[]).includes(g.linkType))
    throw new CaptureReadError(
      'CAPTURE_LINK_TYPE',
      `link type ${g.linkType} is not read (${READABLE_LINK_TYPES.join(', ')})`,
      20,
    );
  const nanos = g.magic === MAGIC_NS;
  const record = bigEndian ? recordBE : recordLE;
  const frames: ReadFrame[] = [];
  let skipped = 0;
  let off = 24;
  while (off < buf.length) {
    need(buf, off, 16, 'a record header', 'CAPTURE_TRUNCATED');
    const r = record.parse(buf.subarray(off, off + 16)) as RecordHeader;
    const limit = Math.min(MAX_RECORD_BYTES, g.snaplen || MAX_RECORD_BYTES);
    if (r.inclLen > limit)
      throw new CaptureReadError(
        'CAPTURE_RECORD_TOO_LONG',
        `a record of ${r.inclLen} bytes (snaplen ${g.snaplen}, at most ${MAX_RECORD_BYTES})`,
        off + 8,
      );
    need(buf, off + 16, r.inclLen, `a record of ${r.inclLen} bytes`, 'CAPTURE_TRUNCATED');
    const body = buf.subarray(off + 16, off + 16 + r.inclLen);
    const timeUs = r.seconds * 1_000_000 + (nanos ? Math.floor(r.fraction / 1000) : r.fraction);
    const frame = frameOf(g.linkType, body, off + 16);
    if (frame === null) skipped++;
    else frames.push({ timeUs, ...frame });
    off += 16 + r.inclLen;
  }
  return { linkType: g.linkType, frames, skipped };
}

type Framed = Omit<ReadFrame, 'timeUs'>;

function checkPsdu(psdu: Uint8Array, at: number): Uint8Array {
  if (psdu.length === 0 || psdu.length > MAX_PSDU)
    throw new CaptureReadError(
      'CAPTURE_FRAME_TOO_LONG',
      `an 802.15.4 frame of ${psdu.length} bytes (1..${MAX_PSDU})`,
      at,
    );
  // A plain copy: a frame does not keep the whole file alive, and compares as a Uint8Array.
  return new Uint8Array(psdu);
}

function frameOf(linkType: number, body: Buffer, at: number): Framed | null {
  switch (linkType) {
    case LINKTYPE_IEEE802_15_4_WITHFCS:
      return { psdu: checkPsdu(body, at) };
    case LINKTYPE_IEEE802_15_4_TAP:
      return readTap(body, at);
    case LINKTYPE_ETHERNET: {
      need(body, 0, 14, 'an Ethernet header', 'CAPTURE_TRUNCATED');
      const e = ethernet.parse(body) as { etherType: number };
      return e.etherType === 0x0800 ? readIpv4(body.subarray(14), at + 14) : null;
    }
    default:
      return readIpv4(body, at);
  }
}

/** TAP: a 4-byte header (version 0, length of header + TLVs), TLVs padded to 4 bytes, the PSDU. */
function readTap(body: Buffer, at: number): Framed {
  need(body, 0, 4, 'the TAP header', 'CAPTURE_TRUNCATED');
  const h = tapHeader.parse(body) as { version: number; length: number };
  if (h.version !== 0)
    throw new CaptureReadError('CAPTURE_BAD_TAP', `TAP version ${h.version} (0 is defined)`, at);
  if (h.length < 4 || h.length > body.length)
    throw new CaptureReadError(
      'CAPTURE_BAD_TAP',
      `TAP header length ${h.length} in a record of ${body.length} bytes`,
      at + 2,
    );
  const out: Framed = { psdu: new Uint8Array() };
  for (let off = 4; off < h.length; ) {
    need(body.subarray(0, h.length), off, 4, 'a TAP TLV', 'CAPTURE_BAD_TAP');
    const t = tlvHeader.parse(body.subarray(off)) as { type: number; length: number };
    const padded = (t.length + 3) & ~3;
    need(body.subarray(0, h.length), off + 4, padded, `TAP TLV ${t.type}`, 'CAPTURE_BAD_TAP');
    // Channel assignment (3): channel u16, page u8. Other TLVs (FCS type, RSS, LQI ...) are not needed.
    if (t.type === 3 && t.length >= 3) {
      out.channel = body.readUInt16LE(off + 4);
      out.page = body[off + 6]!;
    }
    off += 4 + padded;
  }
  out.psdu = checkPsdu(body.subarray(h.length), at + h.length);
  return out;
}

function readIpv4(p: Buffer, at: number): Framed | null {
  need(p, 0, 20, 'an IPv4 header', 'CAPTURE_TRUNCATED');
  const ip = ipv4.parse(p) as { version: number; ihl: number; totalLength: number; protocol: number };
  if (ip.version !== 4 || ip.protocol !== 17) return null;
  const hl = ip.ihl * 4;
  need(p, 0, hl + 8, 'IPv4 + UDP headers', 'CAPTURE_TRUNCATED');
  const u = udp.parse(p.subarray(hl)) as { srcPort: number; dstPort: number; length: number };
  if (u.dstPort !== ZEP_UDP_PORT && u.srcPort !== ZEP_UDP_PORT) return null;
  if (u.length < 8 || u.length > p.length - hl)
    throw new CaptureReadError(
      'CAPTURE_TRUNCATED',
      `UDP length ${u.length}, ${p.length - hl} bytes left`,
      at + hl + 4,
    );
  const z = readZep(p.subarray(hl + 8, hl + u.length), at + hl + 8);
  return z === null ? null : { psdu: z.psdu, channel: z.channel, zepDeviceId: z.deviceId };
}

export interface ZepFrame {
  version: 1 | 2;
  channel: number;
  deviceId: number;
  lqi: number;
  /** ZEP v2: the sender's NTP timestamp as Unix microseconds. */
  timeUs?: number;
  psdu: Uint8Array;
}

/**
 * One ZEP datagram: v1 (16-byte header) or v2 data (32 bytes); null for a v2 ack (no frame).
 * `at`: the datagram's offset in a file, for the errors.
 */
export function readZep(d: Uint8Array, at = 0): ZepFrame | null {
  const buf = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  need(buf, 0, 3, 'the ZEP preamble and version', 'ZEP_TRUNCATED');
  const s = zepStart.parse(buf) as { preamble: string; version: number };
  if (s.preamble !== 'EX')
    throw new CaptureReadError('ZEP_BAD_PREAMBLE', `preamble ${JSON.stringify(s.preamble)}, not "EX"`, at);
  let h: { channel: number; deviceId: number; lqi: number; length: number; type?: number };
  let headerLength: number;
  let timeUs: number | undefined;
  if (s.version === 1) {
    need(buf, 0, 16, 'a ZEP v1 header', 'ZEP_TRUNCATED');
    h = zepV1.parse(buf);
    headerLength = 16;
  } else if (s.version === 2) {
    need(buf, 0, 4, 'a ZEP v2 type', 'ZEP_TRUNCATED');
    if (buf[3] === 2) return null; // an ack: sequence number only
    need(buf, 0, 32, 'a ZEP v2 data header', 'ZEP_TRUNCATED');
    const v2 = zepV2.parse(buf) as typeof h & { ntpSeconds: number; ntpFraction: number };
    h = v2;
    headerLength = 32;
    timeUs =
      (v2.ntpSeconds - NTP_UNIX_OFFSET) * 1_000_000 + Math.floor((v2.ntpFraction / 2 ** 32) * 1_000_000);
  } else throw new CaptureReadError('ZEP_VERSION', `ZEP version ${s.version} (1 and 2 are read)`, at + 2);
  if (h.length > buf.length - headerLength)
    throw new CaptureReadError(
      'ZEP_TRUNCATED',
      `length ${h.length} with ${buf.length - headerLength} bytes after the header`,
      at + headerLength - 1,
    );
  const psdu = checkPsdu(buf.subarray(headerLength, headerLength + h.length), at + headerLength);
  return {
    version: s.version as 1 | 2,
    channel: h.channel,
    deviceId: h.deviceId,
    lqi: h.lqi,
    ...(timeUs === undefined ? {} : { timeUs }),
    psdu,
  };
}
