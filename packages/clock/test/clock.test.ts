import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClockError, formatVirtualTime, HOUR, ManualClock, MinHeap, SECOND } from '../src/index.js';

describe('ManualClock', () => {
  it('runs timers in time order, ties in the order they were set', () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    clock.setTimer(2 * SECOND, () => seen.push('b'));
    clock.setTimer(SECOND, () => seen.push('a'));
    clock.setTimer(2 * SECOND, () => seen.push('c'));
    clock.advanceTo(2 * SECOND);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(clock.now()).toBe(2 * SECOND);
  });

  it('sees the timer time as now() inside the callback and runs zero-delay timers set there', () => {
    const clock = new ManualClock();
    const times: number[] = [];
    clock.setTimer(5, () => {
      times.push(clock.now());
      clock.setTimer(0, () => times.push(clock.now()));
    });
    clock.advanceTo(HOUR);
    expect(times).toEqual([5, 5]);
  });

  it('does not run cancelled timers and reports the next due time', () => {
    const clock = new ManualClock();
    const t = clock.setTimer(10, () => {
      throw new Error('cancelled timer ran');
    });
    clock.setTimer(20, () => {});
    expect(clock.nextDue()).toBe(10);
    t.cancel();
    expect(clock.nextDue()).toBe(20);
    clock.runAll();
    expect(clock.nextDue()).toBeNull();
  });

  it('refuses to go backwards or take bad delays, with stable codes', () => {
    const clock = new ManualClock(100);
    expect(() => clock.advanceTo(50)).toThrow(ClockError);
    try {
      clock.setTimer(-1, () => {});
    } catch (e) {
      expect((e as ClockError).code).toBe('CLOCK_BAD_DELAY');
    }
    expect(() => clock.setTimer(Number.NaN, () => {})).toThrow(/finite/);
  });

  it('fires any set of timers in nondecreasing time order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 200 }), (delays) => {
        const clock = new ManualClock();
        const fired: number[] = [];
        for (const d of delays) clock.setTimer(d, () => fired.push(clock.now()));
        clock.runAll();
        expect(fired).toEqual([...delays].sort((a, b) => a - b));
      }),
    );
  });

  it('formats virtual time', () => {
    expect(formatVirtualTime(HOUR + 61 * SECOND + 7)).toBe('01:01:01.000007');
  });
});

describe('parseDuration', () => {
  it('reads the units scenarios use', async () => {
    const { parseDuration, MINUTE, MILLISECOND } = await import('../src/index.js');
    expect(parseDuration('500ms')).toBe(500 * MILLISECOND);
    expect(parseDuration('60m')).toBe(60 * MINUTE);
    expect(parseDuration('1h30m')).toBe(90 * MINUTE);
    expect(parseDuration('59m59s')).toBe(59 * MINUTE + 59 * SECOND);
    expect(parseDuration('3d')).toBe(72 * HOUR);
    expect(parseDuration('2.5')).toBe(2.5 * SECOND);
    expect(parseDuration(10)).toBe(10 * SECOND);
    for (const bad of ['', 'soon', '5 minutes', '10x', '-1s', '1h 30m'])
      expect(() => parseDuration(bad)).toThrow(/not a duration/);
  });
});

describe('MinHeap', () => {
  it('after pushes, pops and removeWhere, pops what a sorted list would give', () => {
    // Ops: push a value, pop the least, or drop every item divisible by a number.
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 50 }) }),
      fc.constant({ pop: true }),
      fc.record({ dropMultiplesOf: fc.integer({ min: 2, max: 7 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new MinHeap<number>((a, b) => a < b);
        let model: number[] = [];
        for (const o of ops) {
          if ('push' in o) {
            heap.push(o.push);
            model.push(o.push);
            model.sort((a, b) => a - b);
          } else if ('pop' in o) {
            expect(heap.pop()).toBe(model.shift());
          } else {
            heap.removeWhere((x) => x % o.dropMultiplesOf === 0);
            model = model.filter((x) => x % o.dropMultiplesOf !== 0);
          }
          expect(heap.size).toBe(model.length);
          expect(heap.peek()).toBe(model[0]);
        }
        const rest: number[] = [];
        for (let x = heap.pop(); x !== undefined; x = heap.pop()) rest.push(x);
        expect(rest).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });
});
