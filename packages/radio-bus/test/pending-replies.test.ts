import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PendingReplies } from '../src/pending-replies.js';

describe('PendingReplies', () => {
  // Operations on ids 0..7 (replies may come for ids never asked, or twice), against a Map,
  // whose insertion order is what `drain` must keep.
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), id: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('take' as const), id: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('drain' as const) }),
  );

  it('behaves as a Map of request ids whose entries leave when their reply comes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const table = new PendingReplies<string>();
        const model = new Map<number, string>();
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'set') {
            // Request ids are unique while outstanding (each request takes a fresh one).
            if (model.has(o.id)) continue;
            const v = `v${n++}`;
            table.set(o.id, v);
            model.set(o.id, v);
          } else if (o.kind === 'take') {
            const expected = model.get(o.id);
            model.delete(o.id);
            expect(table.take(o.id)).toBe(expected);
          } else {
            expect(table.drain()).toEqual([...model.values()]);
            model.clear();
          }
          expect(table.size).toBe(model.size);
        }
        expect(table.drain()).toEqual([...model.values()]);
        expect(table.size).toBe(0);
      }),
    );
  });

  it('lets go of a value once taken or drained (nothing kept alive behind the count)', () => {
    const table = new PendingReplies<object>();
    table.set(1, { a: 1 });
    table.set(2, { b: 2 });
    table.take(1);
    table.drain();
    const held = (table as unknown as { values: unknown[] }).values;
    expect(held.every((v) => v === undefined)).toBe(true);
  });
});
