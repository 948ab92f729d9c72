/**
 * The file sinks build records and lines in place in one chunk: whatever the sizes (records
 * across chunk boundaries, a line longer than a chunk, characters of 1 to 4 UTF-8 bytes), the
 * file must hold exactly the bytes of the records and lines, in order.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildPcap,
  type CapturedFrame,
  JsonlWriter,
  LINKTYPE_IEEE802_15_4_TAP,
  LINKTYPE_IEEE802_15_4_WITHFCS,
  PcapWriter,
  readPcap,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gbhan-sinks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const EPOCH = Date.UTC(2026, 0, 1) * 1000;

const frame: fc.Arbitrary<CapturedFrame> = fc.record(
  {
    timeUs: fc.integer({ min: 0, max: 2 ** 40 }),
    psdu: fc.uint8Array({ minLength: 3, maxLength: 127 }),
    page: fc.constantFrom(0, 28),
    channel: fc.integer({ min: 0, max: 26 }),
    rssiDbm: fc.double({ min: -110, max: 10, noNaN: true }),
    lqi: fc.integer({ min: 0, max: 255 }),
  },
  { requiredKeys: ['timeUs', 'psdu', 'page', 'channel'] },
);

describe('file sinks', () => {
  it('a pcap file holds every record as buildPcap makes it, across chunk boundaries', () => {
    let n = 0;
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 0, maxLength: 1500 }),
        fc.constantFrom(LINKTYPE_IEEE802_15_4_TAP, LINKTYPE_IEEE802_15_4_WITHFCS),
        (frames, linkType) => {
          const path = join(dir, `c${n++}.pcap`);
          const w = new PcapWriter(path, linkType, EPOCH);
          for (const f of frames) w.write(f);
          w.close();
          const bytes = new Uint8Array(readFileSync(path));
          expect(Buffer.from(bytes).equals(Buffer.from(buildPcap(linkType, frames, EPOCH)))).toBe(true);
          const back = readPcap(bytes).frames;
          expect(back.map((f) => [f.timeUs, Buffer.from(f.psdu).toString('hex')])).toEqual(
            frames.map((f) => [EPOCH + f.timeUs, Buffer.from(f.psdu).toString('hex')]),
          );
          if (linkType === LINKTYPE_IEEE802_15_4_TAP)
            expect(back.map((f) => [f.channel, f.page])).toEqual(frames.map((f) => [f.channel, f.page]));
        },
      ),
      { numRuns: 12 },
    );
  });

  it('records of every size end exactly at a chunk boundary or across it, never past it', () => {
    // One file per PSDU length: the records' ends fall on every offset near the 64 KiB boundary.
    for (let length = 3; length <= 127; length++) {
      const frames = Array.from({ length: 800 }, (_, i) => ({
        timeUs: i * 1000,
        psdu: new Uint8Array(length).fill(i & 0xff),
        page: 0,
        channel: 11,
        rssiDbm: -50,
        lqi: 200,
      }));
      const path = join(dir, `sized-${length}.pcap`);
      const w = new PcapWriter(path, LINKTYPE_IEEE802_15_4_TAP, EPOCH);
      for (const f of frames) w.write(f);
      w.close();
      const bytes = readFileSync(path);
      expect(
        bytes.equals(Buffer.from(buildPcap(LINKTYPE_IEEE802_15_4_TAP, frames, EPOCH))),
        `length ${length}`,
      ).toBe(true);
    }
  });

  it('a JSONL file holds every line, long ones and any characters included', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    const value = fc.oneof(
      fc.record({ t: fc.nat(), s: text }),
      fc.record({ t: fc.nat(), long: fc.constantFrom('é', '€', '😀', 'a').map((c) => c.repeat(30_000)) }),
    );
    let n = 0;
    fc.assert(
      fc.property(fc.array(value, { maxLength: 400 }), (values) => {
        const path = join(dir, `t${n++}.jsonl`);
        const w = new JsonlWriter(path);
        for (const v of values) w.write(v);
        w.close();
        expect(readFileSync(path, 'utf8')).toBe(values.map((v) => `${JSON.stringify(v)}\n`).join(''));
      }),
      { numRuns: 20 },
    );
  });
});
