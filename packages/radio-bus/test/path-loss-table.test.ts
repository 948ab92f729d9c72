/**
 * The path-loss table's windowed rows (path-loss-table.ts) answer as a plain map of every
 * pair set since the slots were last released, whatever order slots are asked in (rows grow
 * downwards and upwards), and reciprocal tables serve a pair from either direction.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PathLossTable } from '../src/path-loss-table.js';

type Op =
  | { op: 'set'; band: boolean; tx: number; rx: number; loss: number }
  | { op: 'get'; band: boolean; tx: number; rx: number }
  | { op: 'release'; slot: number };

const slot = fc.integer({ min: 0, max: 40 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    band: fc.boolean(),
    tx: slot,
    rx: slot,
    loss: fc.integer({ min: 20, max: 140 }),
  }),
  fc.record({ op: fc.constant('get' as const), band: fc.boolean(), tx: slot, rx: slot }),
  fc.record({ op: fc.constant('release' as const), slot }),
);

describe('the path-loss table', () => {
  it('answers as a map of the pairs set, for every order of slots', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { maxLength: 200 }), (reciprocal, ops) => {
        const table = new PathLossTable(reciprocal);
        for (let i = 0; i <= 40; i++) table.acquire();
        const model = new Map<string, number>();
        const key = (band: boolean, tx: number, rx: number) => `${band}|${tx}|${rx}`;
        for (const o of ops) {
          const band = 'band' in o && o.band ? 'GB868' : '2.4GHz';
          if (o.op === 'set') {
            table.set(band, o.tx, o.rx, o.loss);
            model.set(key(o.band, o.tx, o.rx), o.loss);
          } else if (o.op === 'get') {
            const want =
              model.get(key(o.band, o.tx, o.rx)) ??
              (reciprocal ? model.get(key(o.band, o.rx, o.tx)) : undefined) ??
              Number.NaN;
            expect(table.get(band, o.tx, o.rx)).toBe(want);
          } else {
            table.release(o.slot);
            expect(table.acquire()).toBe(o.slot);
            for (const k of [...model.keys()]) {
              const [, tx, rx] = k.split('|').map(Number);
              if (tx === o.slot || rx === o.slot) model.delete(k);
            }
            // Nothing to or from the released slot is left for its next radio.
            for (let other = 0; other <= 40; other++)
              for (const b of ['2.4GHz', 'GB868'] as const) {
                expect(table.get(b, o.slot, other)).toBeNaN();
                expect(table.get(b, other, o.slot)).toBeNaN();
              }
          }
          // Every pair set so far still reads back (rows moved and grew in between).
          for (const [k, v] of model) {
            const [b, tx, rx] = k.split('|');
            expect(table.get(b === 'true' ? 'GB868' : '2.4GHz', Number(tx), Number(rx))).toBe(v);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
