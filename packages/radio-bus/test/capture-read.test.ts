/**
 * Reading captures back: what the bus's writers produce (pcap 283 and 195, ZEP v2) reads back
 * frame for frame with times, channels and pages; ZEP v1 and ZEP inside Ethernet/IPv4/UDP
 * pcaps too; and every malformed input (truncated headers, wrong link type, huge lengths, bad
 * ZEP) is a CaptureReadError with its code and offset - never a RangeError (property-tested on
 * random and mutated bytes).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildPcap,
  type CapturedFrame,
  CaptureReadError,
  concat,
  LINKTYPE_ETHERNET,
  LINKTYPE_IEEE802_15_4_TAP,
  LINKTYPE_IEEE802_15_4_WITHFCS,
  pcapGlobalHeader,
  readPcap,
  readZep,
  zepV2Datagram,
} from '../src/index.js';
import { macDataFrame } from './frames.js';
import { ethernetZepPcap, zepV1Datagram } from './zep-pcap.js';

const EPOCH = Date.UTC(2026, 0, 1) * 1000;
const frames: CapturedFrame[] = [
  { timeUs: 1_000, psdu: macDataFrame(1, 0x1a62, 0xffff, 1, Uint8Array.of(0xaa)), page: 0, channel: 15 },
  { timeUs: 2_500, psdu: macDataFrame(2, 0x1a62, 0x0001, 2, Uint8Array.of(1, 2, 3)), page: 28, channel: 4 },
  {
    timeUs: 9_000_123,
    psdu: macDataFrame(3, 0x1a62, 0x0002, 1, new Uint8Array(100)),
    page: 0,
    channel: 26,
    rssiDbm: -60,
    lqi: 200,
  },
];

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof CaptureReadError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('readPcap', () => {
  it('reads back what the TAP writer wrote: times, PSDUs, channels and pages', () => {
    const c = readPcap(buildPcap(LINKTYPE_IEEE802_15_4_TAP, frames, EPOCH));
    expect(c.linkType).toBe(283);
    expect(c.frames).toEqual(
      frames.map((f) => ({ timeUs: EPOCH + f.timeUs, psdu: f.psdu, channel: f.channel, page: f.page })),
    );
  });

  it('reads link type 195 (no channel), and big-endian and nanosecond files', () => {
    const le = buildPcap(LINKTYPE_IEEE802_15_4_WITHFCS, frames, EPOCH);
    expect(readPcap(le).frames.map((f) => [f.timeUs, f.psdu, f.channel])).toEqual(
      frames.map((f) => [EPOCH + f.timeUs, f.psdu, undefined]),
    );
    // The same file big-endian with nanosecond timestamps (as another tool may write it).
    const be = Buffer.from(le);
    const swap = (off: number) => be.writeUInt32BE(be.readUInt32LE(off), off);
    be.writeUInt32BE(0xa1b23c4d, 0);
    be.writeUInt16BE(2, 4);
    be.writeUInt16BE(4, 6);
    for (const off of [16, 20]) swap(off);
    let off = 24;
    while (off < be.length) {
      const len = be.readUInt32LE(off + 8);
      const fraction = be.readUInt32LE(off + 4);
      swap(off);
      be.writeUInt32BE(fraction * 1000 + 7, off + 4); // ns, rounded down on reading
      swap(off + 8);
      swap(off + 12);
      off += 16 + len;
    }
    expect(readPcap(be).frames.map((f) => f.timeUs)).toEqual(frames.map((f) => EPOCH + f.timeUs));
  });

  it('reads ZEP v2 and v1 carried in Ethernet/IPv4/UDP, and skips other UDP', () => {
    const v2 = readPcap(ethernetZepPcap(frames, EPOCH, 2));
    expect(v2.linkType).toBe(LINKTYPE_ETHERNET);
    expect(v2.frames.map((f) => [f.timeUs, f.psdu, f.channel, f.page])).toEqual(
      frames.map((f) => [EPOCH + f.timeUs, f.psdu, f.channel, undefined]),
    );
    const v1 = readPcap(ethernetZepPcap(frames, EPOCH, 1, { otherUdp: true }));
    expect(v1.frames.map((f) => f.psdu)).toEqual(frames.map((f) => f.psdu));
    expect(v1.skipped).toBe(frames.length);
  });

  it('gives malformed files typed errors with the offset', () => {
    const good = buildPcap(LINKTYPE_IEEE802_15_4_TAP, frames, EPOCH);
    expect(code(() => readPcap(good.subarray(0, 10)))).toBe('CAPTURE_TRUNCATED');
    expect(code(() => readPcap(good.subarray(0, 24 + 7)))).toBe('CAPTURE_TRUNCATED'); // record header
    expect(code(() => readPcap(good.subarray(0, good.length - 1)))).toBe('CAPTURE_TRUNCATED'); // body
    const badMagic = Buffer.from(good);
    badMagic.writeUInt32LE(0x0a0d0d0a, 0); // pcapng
    expect(code(() => readPcap(badMagic))).toBe('CAPTURE_BAD_MAGIC');
    const wifi = Buffer.from(good);
    wifi.writeUInt32LE(105, 20);
    expect(() => readPcap(wifi)).toThrow(/CAPTURE_LINK_TYPE at byte 20: link type 105 is not read/);
    const huge = Buffer.from(good);
    huge.writeUInt32LE(0xfffffff0, 24 + 8);
    expect(() => readPcap(huge)).toThrow(/CAPTURE_RECORD_TOO_LONG at byte 32/);
    const tapLength = Buffer.from(good);
    tapLength.writeUInt16LE(4000, 24 + 16 + 2);
    expect(code(() => readPcap(tapLength))).toBe('CAPTURE_BAD_TAP');
    const tlv = Buffer.from(good);
    tlv.writeUInt16LE(400, 24 + 16 + 4 + 2); // first TLV longer than the header
    expect(code(() => readPcap(tlv))).toBe('CAPTURE_BAD_TAP');
    const long = buildPcap(LINKTYPE_IEEE802_15_4_WITHFCS, [{ ...frames[0]!, psdu: new Uint8Array(200) }]);
    expect(code(() => readPcap(long))).toBe('CAPTURE_FRAME_TOO_LONG');
    const empty = buildPcap(LINKTYPE_IEEE802_15_4_WITHFCS, [{ ...frames[0]!, psdu: new Uint8Array(0) }]);
    expect(code(() => readPcap(empty))).toBe('CAPTURE_FRAME_TOO_LONG');
    expect(readPcap(pcapGlobalHeader(LINKTYPE_IEEE802_15_4_TAP)).frames).toEqual([]);
  });

  it('never throws anything but a CaptureReadError, whatever the bytes', () => {
    const good = buildPcap(LINKTYPE_IEEE802_15_4_TAP, frames, EPOCH);
    const zep = ethernetZepPcap(frames, EPOCH, 2);
    const tryRead = (b: Uint8Array) => {
      try {
        readPcap(b);
      } catch (e) {
        if (!(e instanceof CaptureReadError)) throw e;
      }
    };
    fc.assert(
      fc.property(
        fc.constantFrom(good, zep),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        (base, edits, cut) => {
          const b = Uint8Array.from(base);
          for (const [at, v] of edits) b[at % b.length] = v;
          tryRead(b.subarray(0, b.length - (cut % 8)));
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => tryRead(concat([good.subarray(0, 24), b]))),
    );
  });
});

describe('readZep', () => {
  it('reads the bus writer’s ZEP v2 datagrams and ZEP v1', () => {
    const f = frames[2]!;
    const z = readZep(zepV2Datagram(f, 9, 0x1234, EPOCH));
    expect(z).toMatchObject({ version: 2, channel: 26, deviceId: 0x1234, lqi: 200, psdu: f.psdu });
    expect(Math.abs(z!.timeUs! - (EPOCH + f.timeUs))).toBeLessThanOrEqual(1);
    expect(readZep(zepV1Datagram(f, 7))).toMatchObject({
      version: 1,
      channel: 26,
      deviceId: 7,
      psdu: f.psdu,
    });
    // A v2 ack carries no frame.
    expect(readZep(Uint8Array.of(0x45, 0x58, 2, 2, 0, 0, 0, 1))).toBeNull();
  });

  it('gives bad datagrams typed errors', () => {
    const d = zepV2Datagram(frames[0]!, 1, 1, EPOCH);
    expect(code(() => readZep(d.subarray(0, 2)))).toBe('ZEP_TRUNCATED');
    expect(code(() => readZep(d.subarray(0, 20)))).toBe('ZEP_TRUNCATED');
    expect(code(() => readZep(d.subarray(0, d.length - 1)))).toBe('ZEP_TRUNCATED'); // length field
    expect(code(() => readZep(Uint8Array.from([0x45, 0x59, ...d.subarray(2)])))).toBe('ZEP_BAD_PREAMBLE');
    expect(code(() => readZep(Uint8Array.from([0x45, 0x58, 3, ...d.subarray(3)])))).toBe('ZEP_VERSION');
    const huge = Uint8Array.from(d);
    huge[31] = 250;
    expect(code(() => readZep(concat([huge, new Uint8Array(250)])))).toBe('CAPTURE_FRAME_TOO_LONG');
  });
});
