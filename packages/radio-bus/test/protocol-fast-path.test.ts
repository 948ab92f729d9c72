/**
 * parseClientMessage checks the messages of every round by hand before the schema: on random
 * messages, valid and not, it must accept exactly what the schema accepts, and give the same
 * message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientMessageSchema, parseClientMessage } from '../src/protocol.js';

const anyValue = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('AAEC', 'AAEC==', 'not base64!', ''),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.constantFrom('type', 'a', '__proto__', 'x'), fc.integer(), { maxKeys: 3 }),
);
/** A field: mostly of the right kind, sometimes anything. */
const field = (right: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: right, weight: 4 }, { arbitrary: anyValue, weight: 1 });
const count = fc.oneof(fc.nat(1000), fc.constant(null));
const fields: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
  idle: { next: field(count), seen: field(fc.nat(1000)) },
  tx: {
    id: field(fc.nat(1000)),
    psdu: field(fc.base64String({ maxLength: 12 })),
    at: field(fc.nat(1000)),
    confirm: field(fc.constant(false)),
  },
  cca: { id: field(fc.nat(1000)), at: field(fc.nat(1000)) },
  cancel: { id: field(fc.nat(1000)) },
  power: { on: field(fc.boolean()) },
  trace: {
    event: field(fc.dictionary(fc.constantFrom('type', 'a', '__proto__', 'x'), anyValue, { maxKeys: 3 })),
  },
  wake: { id: field(fc.nat(1000)) },
};
const message = fc
  .constantFrom(...Object.keys(fields))
  .chain((type) =>
    fc.record(
      { type: fc.constant(type), ...fields[type]!, extra: anyValue },
      // every field may be missing; an extra one is rare
      { requiredKeys: ['type'] },
    ),
  )
  .map((m) => {
    if (Math.abs(JSON.stringify(m).length) % 7 !== 0) delete m.extra;
    // what a socket delivers: a JSON object (own `__proto__` keys included)
    return JSON.parse(JSON.stringify(m)) as Record<string, unknown>;
  });

function byHand(m: unknown): unknown {
  try {
    return parseClientMessage(m);
  } catch {
    return 'refused';
  }
}

describe('the hand-checked messages', () => {
  it('accept exactly what the schema accepts, as the schema gives it', () => {
    const seen = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(message, (m) => {
        const schema = ClientMessageSchema.safeParse(m);
        const got = byHand(m);
        if (schema.success) {
          seen.accepted++;
          expect(got).toEqual(schema.data);
        } else {
          seen.refused++;
          expect(got).toBe('refused');
        }
      }),
      { numRuns: 3000 },
    );
    expect(Math.min(seen.accepted, seen.refused)).toBeGreaterThan(100);
  });
});
