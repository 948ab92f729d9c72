/**
 * Address filtering (address-filter.ts): a radio that declares its MAC's filter gets only the
 * frames its MAC would take (§7.5.6.2), acknowledgments only while it waits for that sequence
 * number; the frames it is spared still count for collisions; `trace: full` traces them as
 * `address-filtered` and the per-radio count equals what was traced. The header reader never
 * throws and lets through what it cannot read.
 */
import { MILLISECOND, SECOND } from '@gbhan/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AddressFilter, filterAccepts, readFilterHeader } from '../src/index.js';
import { fcs, macDataFrame } from './frames.js';
import { eui, makeBus, txAt } from './harness.js';

const PAN = 0x1234;
const filter = (n: number, short: number): AddressFilter => ({
  panId: PAN,
  shortAddress: short,
  extendedAddress: eui(n),
});

/** Data frame to an extended address (dest mode 3), short source, PAN ID compression. */
function toExtended(seq: number, dst: string, ackRequest = false): Uint8Array {
  const fc0 = 0x41 | (ackRequest ? 0x20 : 0);
  const ext = Buffer.from(dst, 'hex').reverse();
  const body = Uint8Array.from([fc0, 0x8c, seq, PAN & 0xff, PAN >> 8, ...ext, 0x01, 0x00, 0xaa]);
  const c = fcs(body);
  return Uint8Array.from([...body, c & 0xff, c >> 8]);
}

function withAckRequest(f: Uint8Array): Uint8Array {
  const out = Uint8Array.from(f);
  out[0] = out[0]! | 0x20;
  return out;
}

const ack = (seq: number) => Uint8Array.from([0x02, 0x00, seq, 0, 0]);

describe('readFilterHeader / filterAccepts', () => {
  it('follows third-level filtering', () => {
    const f = filter(2, 0x0002);
    const h = (p: Uint8Array) => filterAccepts(f, 7, readFilterHeader(p));
    expect(h(macDataFrame(1, PAN, 0x0002, 1, new Uint8Array(3)))).toBe(true);
    expect(h(macDataFrame(1, PAN, 0xffff, 1, new Uint8Array(3)))).toBe(true);
    expect(h(macDataFrame(1, PAN, 0x0003, 1, new Uint8Array(3)))).toBe(false);
    expect(h(macDataFrame(1, 0x9999, 0x0002, 1, new Uint8Array(3)))).toBe(false);
    expect(h(macDataFrame(1, 0xffff, 0x0002, 1, new Uint8Array(3)))).toBe(true);
    expect(h(toExtended(1, eui(2)))).toBe(true);
    expect(h(toExtended(1, eui(3)))).toBe(false);
    expect(h(ack(7))).toBe(true);
    expect(h(ack(8))).toBe(false);
    // Beacon (no destination): the MAC decides.
    expect(h(Uint8Array.from([0x00, 0x80, 5, 0x34, 0x12, 0, 0, 0, 0]))).toBe(true);
    // Too short, frame version 2, reserved type: delivered, the MAC judges.
    expect(h(Uint8Array.from([0x41]))).toBe(true);
    expect(h(Uint8Array.from([0x41, 0xa8, 1, 0x99, 0x99, 3, 0]))).toBe(true);
    expect(h(Uint8Array.from([0x45, 0x88, 1, 0x99, 0x99, 3, 0]))).toBe(true);
  });

  it('never throws on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: -1, max: 255 }), (bytes, awaiting) => {
        const h = readFilterHeader(bytes);
        expect(typeof filterAccepts(filter(1, 1), awaiting, h)).toBe('boolean');
      }),
    );
  });
});

describe('the bus with declared filters', () => {
  it('sends a radio only what its MAC takes; the rest is counted, and traced with trace: full', async () => {
    const { bus, add, trace, drops } = await makeBus({ trace: 'full' });
    const a = await add(1, { filter: filter(1, 0x0001) });
    const b = await add(2, { filter: filter(2, 0x0002), position: { x: 2, y: 0 } });
    const sniffer = await add(3, { position: { x: 1, y: 1 } });
    const sent = [
      txAt(a, 10 * MILLISECOND, withAckRequest(macDataFrame(40, PAN, 0x0002, 1, new Uint8Array(8)))),
      // b answers with the ack a waits for, then an ack for a number nobody waits for.
      txAt(b, 11 * MILLISECOND, ack(40)),
      txAt(b, 20 * MILLISECOND, ack(41)),
      txAt(a, 30 * MILLISECOND, macDataFrame(42, PAN, 0x0009, 1, new Uint8Array(8))),
      txAt(a, 40 * MILLISECOND, macDataFrame(43, PAN, 0xffff, 1, new Uint8Array(8))),
    ];
    await bus.runUntil(SECOND);
    await Promise.all(sent);
    const seqs = (r: typeof a) => r.received.map((f) => f.psdu[2]);
    expect(seqs(b)).toEqual([40, 43]);
    expect(seqs(a)).toEqual([40]);
    expect(seqs(sniffer)).toEqual([40, 40, 41, 42, 43]);
    const filtered = drops('address-filtered');
    expect(filtered.map((d) => [d.radio, d.frame])).toEqual([
      [eui(1), 2], // ack 41 at a
      [eui(2), 3], // frame to 0x0009 at b
    ]);
    const counts = bus.nonDeliveries();
    expect(counts.get(eui(1))!.filtered).toBe(1);
    expect(counts.get(eui(2))!.filtered).toBe(1);
    expect(counts.get(eui(3))!.filtered).toBe(0);
    expect(trace.filter((e) => e.type === 'rx' && e.radio === eui(2)).length).toBe(2);
    bus.close();
  });

  it('a frame not for a filtered radio still collides there', async () => {
    const { bus, add, drops } = await makeBus({ trace: 'compact' });
    const a = await add(1, { filter: filter(1, 0x0001) });
    const b = await add(2, { position: { x: 3, y: 0 } });
    const c = await add(3, { position: { x: 0, y: 3 } });
    // Two overlapping frames for a: one addressed elsewhere, one to a; both lost at a.
    const sent = [
      txAt(b, 10 * MILLISECOND, macDataFrame(1, PAN, 0x0007, 2, new Uint8Array(30))),
      txAt(c, 10 * MILLISECOND + 100, macDataFrame(2, PAN, 0x0001, 3, new Uint8Array(30))),
    ];
    await bus.runUntil(SECOND);
    await Promise.all(sent);
    expect(a.received).toEqual([]);
    expect(drops('collision').filter((d) => d.radio === eui(1))).toHaveLength(2);
    expect(drops('address-filtered')).toEqual([]);
    bus.close();
  });

  it('a sleeping radio: frames it would not take are counted with trace: compact, frames for it traced', async () => {
    const run = async (mode: 'full' | 'compact') => {
      const { bus, add, drops } = await makeBus({ trace: mode });
      const a = await add(1, { filter: filter(1, 0x0001), powered: false });
      const b = await add(2, { position: { x: 3, y: 0 } });
      const sent = [
        txAt(b, 10 * MILLISECOND, macDataFrame(1, PAN, 0x0007, 2, new Uint8Array(8))),
        txAt(b, 20 * MILLISECOND, macDataFrame(2, PAN, 0x0001, 2, new Uint8Array(8))),
        txAt(b, 30 * MILLISECOND, macDataFrame(3, PAN, 0xffff, 2, new Uint8Array(8))),
        txAt(b, 40 * MILLISECOND, macDataFrame(4, PAN, 0x0008, 2, new Uint8Array(8))),
      ];
      a.radio.clock.setTimerAt(35 * MILLISECOND, () => a.radio.setPower(true));
      await bus.runUntil(SECOND);
      await Promise.all(sent);
      const off = drops('receiver-off').map((d) => d.frame);
      const counts = bus.nonDeliveries().get(eui(1))!;
      bus.close();
      return { off, counts, received: a.received.map((f) => f.psdu[2]) };
    };
    const full = await run('full');
    const compact = await run('compact');
    // Asleep for frames 0-2: frame 0 (to 0x0007) it would not have taken; 1 (to it) and 2 (broadcast) it would.
    expect(full.off).toEqual([0, 1, 2]);
    expect(compact.off).toEqual([1, 2]);
    for (const r of [full, compact]) {
      expect(r.counts.offFiltered).toBe(1);
      // Awake for frame 3 (to 0x0008): filtered, not asleep.
      expect(r.counts.filtered).toBe(1);
      expect(r.received).toEqual([]);
    }
  });

  it('set-filter changes the filter at the next barrier; null drops it', async () => {
    const { bus, add } = await makeBus();
    const a = await add(1);
    const b = await add(2, { position: { x: 2, y: 0 } });
    a.radio.clock.setTimerAt(5 * MILLISECOND, () => a.radio.setAddressFilter(filter(1, 0x0001)));
    a.radio.clock.setTimerAt(25 * MILLISECOND, () => a.radio.setAddressFilter(null));
    const sent = [
      txAt(b, 1 * MILLISECOND, macDataFrame(1, PAN, 0x0005, 2, new Uint8Array(4))),
      txAt(b, 10 * MILLISECOND, macDataFrame(2, PAN, 0x0005, 2, new Uint8Array(4))),
      txAt(b, 30 * MILLISECOND, macDataFrame(3, PAN, 0x0005, 2, new Uint8Array(4))),
    ];
    await bus.runUntil(SECOND);
    await Promise.all(sent);
    expect(a.received.map((f) => f.psdu[2])).toEqual([1, 3]);
    expect(bus.nonDeliveries().get(eui(1))!.filtered).toBe(1);
    bus.close();
  });

  it('refuses a malformed filter', async () => {
    const { bus, add } = await makeBus();
    await expect(
      add(1, { filter: { panId: 0x10000, shortAddress: 1, extendedAddress: eui(1) } }),
    ).rejects.toThrow(/filter/);
    bus.close();
  });
});
