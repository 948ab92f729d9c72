/**
 * Test inputs for reading: ZEP v1 datagrams, and pcaps of ZEP over UDP/IPv4/Ethernet (what a
 * sniffer bridge's traffic looks like in Wireshark), built around the bus's own ZEP v2 writer.
 */
import {
  type CapturedFrame,
  concat,
  LINKTYPE_ETHERNET,
  pcapGlobalHeader,
  ZEP_UDP_PORT,
  zepV2Datagram,
} from '../src/index.js';

/** ZEP v1: "EX", 1, channel, device id, CRC/LQI mode, LQI, 7 reserved, length, PSDU. */
export function zepV1Datagram(frame: CapturedFrame, deviceId: number): Uint8Array {
  const b = new Uint8Array(16 + frame.psdu.length);
  b.set([0x45, 0x58, 1, frame.channel, deviceId >> 8, deviceId & 0xff, 0, frame.lqi ?? 0xff]);
  b[15] = frame.psdu.length;
  b.set(frame.psdu, 16);
  return b;
}

/** Ethernet + IPv4 + UDP to `port` around `payload`. */
export function udpPacket(payload: Uint8Array, port = ZEP_UDP_PORT): Uint8Array {
  const eth = Uint8Array.of(...new Array(12).fill(0x02), 0x08, 0x00);
  const ip = new Uint8Array(20);
  const v = new DataView(ip.buffer);
  ip[0] = 0x45;
  v.setUint16(2, 20 + 8 + payload.length);
  ip[8] = 64;
  ip[9] = 17;
  ip.set([127, 0, 0, 1, 127, 0, 0, 1], 12);
  const udp = new Uint8Array(8);
  const u = new DataView(udp.buffer);
  u.setUint16(0, 40000);
  u.setUint16(2, port);
  u.setUint16(4, 8 + payload.length);
  return concat([eth, ip, udp, payload]);
}

/** A pcap (link type 1) of ZEP datagrams, one per frame, at the frames' times. */
export function ethernetZepPcap(
  frames: readonly CapturedFrame[],
  epochUs: number,
  version: 1 | 2,
  o: { otherUdp?: boolean } = {},
): Uint8Array {
  const records = frames.flatMap((f, i) => {
    const zep = version === 2 ? zepV2Datagram(f, i, 1, epochUs) : zepV1Datagram(f, 1);
    const packets = [udpPacket(zep)];
    if (o.otherUdp) packets.push(udpPacket(Uint8Array.of(1, 2, 3), 53));
    return packets.map((p) => record(epochUs + f.timeUs, p));
  });
  return concat([pcapGlobalHeader(LINKTYPE_ETHERNET as never), ...records]);
}

function record(tUs: number, body: Uint8Array): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint32(0, Math.floor(tUs / 1e6), true);
  v.setUint32(4, tUs % 1e6, true);
  v.setUint32(8, body.length, true);
  v.setUint32(12, body.length, true);
  return concat([h, body]);
}
