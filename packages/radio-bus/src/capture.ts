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

function tlv(type: number, value: Uint8Array): Uint8Array {
  const padded = (value.length + 3) & ~3;
  const b = new Uint8Array(4 + padded);
  const v = new DataView(b.buffer);
  v.setUint16(0, type, true);
  v.setUint16(2, value.length, true);
  b.set(value, 4);
  return b;
}

/** The TAP header for one frame: FCS type, channel assignment, and RSS/LQI when known. */
export function tapHeader(frame: CapturedFrame): Uint8Array {
  const channel = new Uint8Array(3);
  new DataView(channel.buffer).setUint16(0, frame.channel, true);
  channel[2] = frame.page;
  const tlvs = [tlv(TAP_FCS_TYPE, Uint8Array.of(TAP_FCS_16_BIT)), tlv(TAP_CHANNEL_ASSIGNMENT, channel)];
  if (frame.rssiDbm !== undefined) {
    const rss = new Uint8Array(4);
    new DataView(rss.buffer).setFloat32(0, frame.rssiDbm, true);
    tlvs.push(tlv(TAP_RSS, rss));
  }
  if (frame.lqi !== undefined) tlvs.push(tlv(TAP_LQI, Uint8Array.of(frame.lqi)));
  const length = 4 + tlvs.reduce((n, t) => n + t.length, 0);
  const out = new Uint8Array(length);
  new DataView(out.buffer).setUint16(2, length, true);
  let off = 4;
  for (const t of tlvs) {
    out.set(t, off);
    off += t.length;
  }
  return out;
}

/** One pcap record for `frame`, timestamped at epoch + virtual time. */
export function pcapRecord(linkType: CaptureLinkType, frame: CapturedFrame, epochUs: number): Uint8Array {
  const body = linkType === LINKTYPE_IEEE802_15_4_TAP ? concat([tapHeader(frame), frame.psdu]) : frame.psdu;
  const t = epochUs + frame.timeUs;
  const rec = new Uint8Array(16 + body.length);
  const v = new DataView(rec.buffer);
  v.setUint32(0, Math.floor(t / 1_000_000), true);
  v.setUint32(4, t % 1_000_000, true);
  v.setUint32(8, body.length, true);
  v.setUint32(12, body.length, true);
  rec.set(body, 16);
  return rec;
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
