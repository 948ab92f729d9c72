import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonCopy } from '../src/json-copy.js';

describe('jsonCopy', () => {
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(null, undefined, true, false, Number.NaN, Number.POSITIVE_INFINITY, -0, 0.5, -7),
      fc.string(),
      fc.double(),
      fc.array(tie('v'), { maxLength: 5 }),
      fc.dictionary(fc.string({ maxLength: 6 }), tie('v'), { maxKeys: 5 }),
    ),
  })).v;

  it('gives exactly what a JSON round trip gives (a file store), sharing no object', () => {
    fc.assert(
      fc.property(value, (v) => {
        const c = jsonCopy(v);
        if (v === undefined) {
          expect(c).toBeUndefined();
          return;
        }
        const json = JSON.parse(JSON.stringify(v));
        expect(c).toStrictEqual(json);
        expect(JSON.stringify(c)).toBe(JSON.stringify(v));
        if (typeof v === 'object' && v !== null) expect(c).not.toBe(v);
      }),
      { numRuns: 300 },
    );
    // The cases JSON changes: undefined properties dropped, in arrays null; NaN null; -0 is 0.
    expect(jsonCopy({ a: undefined, b: [undefined, Number.NaN, -0] })).toStrictEqual({ b: [null, null, 0] });
    expect(Object.is(jsonCopy(-0), 0)).toBe(true);
    // An own __proto__ key stays an own key (JSON.parse makes one); toJSON is honoured.
    const proto = JSON.parse('{"__proto__": {"a": 1}, "b": 2}');
    expect(Object.keys(jsonCopy(proto))).toEqual(['__proto__', 'b']);
    expect(JSON.stringify(jsonCopy(proto))).toBe(JSON.stringify(proto));
    expect(Object.getPrototypeOf(jsonCopy(proto))).toBe(Object.prototype);
    expect(jsonCopy({ t: { toJSON: () => 'x' }, d: new Date(0), u: Uint8Array.of(1, 2) })).toStrictEqual({
      t: 'x',
      d: '1970-01-01T00:00:00.000Z',
      u: { 0: 1, 1: 2 },
    });
    const nested = { x: { y: [1, { z: 'q' }] } };
    const c = jsonCopy(nested);
    (c.x.y[1] as { z: string }).z = 'changed';
    expect(nested.x.y[1]).toEqual({ z: 'q' });
  });
});
