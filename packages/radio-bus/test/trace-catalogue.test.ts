/**
 * Trace event catalogues: the union type comes from the declaration, events are checked
 * strictly, matchers partially, and the bus's own events are declared.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  BUS_TRACE_EVENTS,
  type BusTraceEvent,
  checkTraceMatch,
  defineTraceEvents,
  listedString,
  listOf,
  type TraceEventOf,
  validateTraceEvent,
} from '../src/index.js';

const REASONS = { lost: 'it was lost', late: 'it came late' };
const CATALOGUE = defineTraceEvents('test', 'Test events.', {
  sent: {
    description: 'Sent.',
    fields: {
      to: z.string(),
      n: z.number().int().optional(),
      hops: z.array(z.strictObject({ id: z.string() })),
    },
  },
  dropped: {
    description: 'Dropped.',
    fields: { reason: listedString(REASONS, { detailAfter: true }), layer: z.enum(['a', 'b']) },
    check: (e) => (e.layer === 'b' && e.reason === 'late' ? 'layer b is never late' : null),
  },
  idle: { description: 'Idle.', fields: {} },
});

describe('trace event catalogues', () => {
  it('derive the union of the events from the declaration', () => {
    type E = TraceEventOf<typeof CATALOGUE>;
    expectTypeOf<Extract<E, { type: 'sent' }>>().toEqualTypeOf<{
      type: 'sent';
      to: string;
      hops: { id: string }[];
      n?: number | undefined;
    }>();
    expectTypeOf<Extract<E, { type: 'idle' }>>().toEqualTypeOf<{ type: 'idle' }>();
    expectTypeOf<Extract<BusTraceEvent, { type: 'power' }>>().toEqualTypeOf<{
      type: 'power';
      t: number;
      radio: string;
      on: boolean;
    }>();
    expect(CATALOGUE.types).toEqual(['sent', 'dropped', 'idle']);
  });

  it('check events strictly: type, every field, values, and checks across fields', () => {
    expect(validateTraceEvent(CATALOGUE, { type: 'sent', to: 'x', hops: [] })).toBeNull();
    expect(validateTraceEvent(CATALOGUE, { type: 'sant', to: 'x', hops: [] })).toEqual({
      path: ['type'],
      message: 'unknown test event type "sant" (did you mean "sent"?)',
    });
    expect(validateTraceEvent(CATALOGUE, { type: 'sent', to: 'x', hops: [], extra: 1 })).toEqual({
      path: ['extra'],
      message: 'not a field of sent events',
    });
    expect(validateTraceEvent(CATALOGUE, { type: 'sent', to: 'x', hops: [{ id: 1 }] })?.path).toEqual([
      'hops',
      0,
      'id',
    ]);
    expect(validateTraceEvent(CATALOGUE, { type: 'dropped', reason: 'lost: twice', layer: 'a' })).toBeNull();
    expect(validateTraceEvent(CATALOGUE, { type: 'dropped', reason: 'lust', layer: 'a' })).toEqual({
      path: ['reason'],
      message: '"lust" is not one of the listed values',
    });
    expect(validateTraceEvent(CATALOGUE, { type: 'dropped', reason: 'late', layer: 'b' })?.message).toBe(
      'layer b is never late',
    );
  });

  it('check matchers partially: known type and fields, values a field can take', () => {
    expect(checkTraceMatch(CATALOGUE, { type: 'sent', hops: [{ id: 'a' }] })).toBeNull();
    expect(checkTraceMatch(CATALOGUE, { type: 'sent', hops: [{ ip: 'a' }] })?.path).toEqual([
      'hops',
      0,
      'ip',
    ]);
    expect(checkTraceMatch(CATALOGUE, { type: 'sent', n: 1.5 })?.message).toMatch(/^1.5 can never match/);
    expect(checkTraceMatch(CATALOGUE, { layer: 'a' })).toBeNull();
    expect(checkTraceMatch(CATALOGUE, { to: 'x', layer: 'a' })).toEqual({
      path: [],
      message: 'no test event has all of the fields to, layer',
    });
    expect(checkTraceMatch(CATALOGUE, { typo: 1 })).toEqual({
      path: ['typo'],
      message: 'no test event has this field',
    });
  });

  it('keep lists in step with a type', () => {
    type Kind = 'a' | 'b';
    expect(listOf<Kind>()(['a', 'b'])).toEqual(['a', 'b']);
    // @ts-expect-error 'b' is missing
    listOf<Kind>()(['a']);
    // @ts-expect-error 'c' is not a Kind
    listOf<Kind>()(['a', 'b', 'c']);
  });

  it('declare the bus events, every one with `t`', () => {
    expect(BUS_TRACE_EVENTS.types).toEqual([
      'attach',
      'detach',
      'tx',
      'rx',
      'drop',
      'channel',
      'power',
      'duty-cycle',
      'jam',
      'error',
      'device',
      'control',
      'link-delivered',
      'link-drop',
      'link-state',
      'link-set',
    ]);
    const drop = {
      t: 5,
      type: 'drop',
      radio: null,
      from: '00124b0000000001',
      frame: null,
      reason: 'duty-cycle',
    };
    expect(validateTraceEvent(BUS_TRACE_EVENTS, drop)).toBeNull();
    expect(validateTraceEvent(BUS_TRACE_EVENTS, { ...drop, t: undefined })?.path).toEqual(['t']);
    expect(checkTraceMatch(BUS_TRACE_EVENTS, { type: 'drop', reason: 'jamed' })?.path).toEqual(['reason']);
  });
});
