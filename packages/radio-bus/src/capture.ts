/**
 * Capture writers: classic pcap with either the 802.15.4 TAP link type (283; channel and
 * page travel in TLVs, so GB868 and 2.4 GHz frames can share one file) or plain 802.15.4
 * with FCS (195), and ZEP v2 datagrams for a live Wireshark. Timestamps are virtual time
 * plus a fixed epoch, so two runs with the same seed produce the same bytes.
 */

/** LINKTYPE_IEEE802_15_4_WITHFCS: the PSDU including its 2-byte FCS. */
export const LINKTYPE_IEEE802_15_4_WITHFCS = 195;
/** LINKTYPE_IEEE802_15_4_TAP: a TLV header, then the PSDU. */
export const LINKTYPE_IEEE802_15_4_TAP = 283;

export type CaptureLinkType = typeof LINKTYPE_IEEE802_15_4_WITHFCS | typeof LINKTYPE_IEEE802_15_4_TAP;

/** TLV types of the 802.15.4 TAP header (as registered with tcpdump.org / Wireshark). */
const TAP_FCS_TYPE = 0;
const TAP_RSS = 1;
const TAP_CHANNEL_ASSIGNMENT = 3;
const TAP_LQI = 10;
const TAP_FCS_16_BIT = 1;

export interface CapturedFrame {
  /** Virtual time of the frame's first bit, in microseconds. */
  timeUs: number;
  /** PSDU as sent on air, FCS included. */
  psdu: Uint8Array;
  page: number;
  channel: number;
  /** Optional receiver view (a sniffer capture has none). */
  rssiDbm?: number;
  lqi?: number;
  /** EUI64 of the transmitter (ZEP carries its low 16 bits as the device id). */
  source?: string;
}

/** pcap global header (little-endian, microsecond timestamps). */
export function pcapGlobalHeader(linkType: CaptureLinkType, snapLen = 65535): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true);
  v.setUint32(12, 0, true);
  v.setUint32(16, snapLen, true);
  v.setUint32(20, linkType, true);
  return b;
}

/** Bytes of the TAP header `writeTapHeader` writes for `frame`. */
function tapHeaderLength(frame: CapturedFrame): number {
  // header 4, FCS type TLV 4 + 4, channel assignment TLV 4 + 4, RSS TLV 4 + 4, LQI TLV 4 + 4
  return 20 + (frame.rssiDbm !== undefined ? 8 : 0) + (frame.lqi !== undefined ? 8 : 0);
}

/** A TLV header at `off` with its value field zeroed to the 4-byte padding; returns where the caller writes the value. */
function writeTlv(b: Buffer, off: number, type: number, length: number): number {
  b.writeUInt16LE(type, off);
  b.writeUInt16LE(length, off + 2);
  b.fill(0, off + 4, off + 4 + ((length + 3) & ~3));
  return off + 4;
}

/** The TAP header for one frame at `off` of `b`: FCS type, channel assignment, and RSS/LQI when known. */
function writeTapHeader(b: Buffer, off: number, frame: CapturedFrame): number {
  const length = tapHeaderLength(frame);
  b.writeUInt16LE(0, off); // version 0, reserved
  b.writeUInt16LE(length, off + 2);
  let at = writeTlv(b, off + 4, TAP_FCS_TYPE, 1);
  b[at] = TAP_FCS_16_BIT;
  at = writeTlv(b, at + 4, TAP_CHANNEL_ASSIGNMENT, 3);
  b.writeUInt16LE(frame.channel, at);
  b[at + 2] = frame.page;
  at += 4;
  if (frame.rssiDbm !== undefined) {
    at = writeTlv(b, at, TAP_RSS, 4);
    b.writeFloatLE(frame.rssiDbm, at);
    at += 4;
  }
  if (frame.lqi !== undefined) {
    at = writeTlv(b, at, TAP_LQI, 1);
    b[at] = frame.lqi;
    at += 4;
  }
  return at;
}

/** The TAP header for one frame: FCS type, channel assignment, and RSS/LQI when known. */
export function tapHeader(frame: CapturedFrame): Uint8Array {
  const out = new Uint8Array(tapHeaderLength(frame));
  writeTapHeader(Buffer.from(out.buffer), 0, frame);
  return out;
}

/** Bytes of `frame`'s pcap record (record header included). */
export function pcapRecordLength(linkType: CaptureLinkType, frame: CapturedFrame): number {
  return 16 + (linkType === LINKTYPE_IEEE802_15_4_TAP ? tapHeaderLength(frame) : 0) + frame.psdu.length;
}

/**
 * `frame`'s pcap record, timestamped at epoch + virtual time, written at `off` of `b`
 * (`pcapRecordLength` bytes): the file sink builds records in place, with no copy per part.
 */
export function writePcapRecord(
  b: Buffer,
  off: number,
  linkType: CaptureLinkType,
  frame: CapturedFrame,
  epochUs: number,
): void {
  const length = pcapRecordLength(linkType, frame) - 16;
  const t = epochUs + frame.timeUs;
  b.writeUInt32LE(Math.floor(t / 1_000_000), off);
  b.writeUInt32LE(t % 1_000_000, off + 4);
  b.writeUInt32LE(length, off + 8);
  b.writeUInt32LE(length, off + 12);
  const at = linkType === LINKTYPE_IEEE802_15_4_TAP ? writeTapHeader(b, off + 16, frame) : off + 16;
  b.set(frame.psdu, at);
}

/** One pcap record for `frame`, timestamped at epoch + virtual time. */
export function pcapRecord(linkType: CaptureLinkType, frame: CapturedFrame, epochUs: number): Uint8Array {
  const out = new Uint8Array(pcapRecordLength(linkType, frame));
  writePcapRecord(Buffer.from(out.buffer), 0, linkType, frame, epochUs);
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A whole pcap file in memory (tests, small captures). */
export function buildPcap(
  linkType: CaptureLinkType,
  frames: readonly CapturedFrame[],
  epochUs = 0,
): Uint8Array {
  return concat([pcapGlobalHeader(linkType), ...frames.map((f) => pcapRecord(linkType, f, epochUs))]);
}

/** Seconds between the NTP era (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2_208_988_800;
export const ZEP_UDP_PORT = 17754;

/**
 * A ZEP v2 data datagram: "EX", version 2, type 1, channel, device id, LQI mode, LQI, NTP
 * timestamp, sequence, 10 reserved bytes, length, PSDU. ZEP has no page field, so a
 * GB868 frame shows its channel only.
 */
export function zepV2Datagram(
  frame: CapturedFrame,
  seq: number,
  deviceId: number,
  epochUs: number,
): Uint8Array {
  const b = new Uint8Array(32 + frame.psdu.length);
  const v = new DataView(b.buffer);
  b[0] = 0x45; // 'E'
  b[1] = 0x58; // 'X'
  b[2] = 2;
  b[3] = 1;
  b[4] = frame.channel & 0xff;
  v.setUint16(5, deviceId & 0xffff);
  b[7] = 0; // LQI mode: byte 8 carries the LQI
  b[8] = frame.lqi ?? 0xff;
  const t = epochUs + frame.timeUs;
  const seconds = Math.floor(t / 1_000_000);
  v.setUint32(9, (seconds + NTP_UNIX_OFFSET) >>> 0);
  v.setUint32(13, Math.floor(((t % 1_000_000) / 1_000_000) * 2 ** 32) >>> 0);
  v.setUint32(17, seq >>> 0);
  b[31] = frame.psdu.length;
  b.set(frame.psdu, 32);
  return b;
}
