/**
 * Property tests: payloads generated from the cluster definitions themselves round-trip, and no
 * byte string (random or a mutated valid frame) makes a decoder throw anything but
 * ZigbeeDecodeError. Anything that does decode re-encodes to the same bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZigbeeDecodeError } from '../src/errors.js';
import { BuffaloZclDataType, type Command, DataType, type Parameter } from '../src/zcl/herdsman.js';
import { decodeKeyEstablishment, encodeKeyEstablishment } from '../src/zcl/key-establishment.js';
import { SMART_ENERGY_CLUSTERS } from '../src/zcl/smart-energy-clusters.js';
import { decodeZclFrame, encodeZclCommand, type ZclDirection, type ZclPayload } from '../src/zcl/zcl.js';
import { SAMPLES } from './zcl-fixtures.js';

const RUNS = 150;

const UNSIGNED_BITS: Partial<Record<number, number>> = {
  [DataType.UINT8]: 8,
  [DataType.ENUM8]: 8,
  [DataType.BITMAP8]: 8,
  [DataType.UINT16]: 16,
  [DataType.ENUM16]: 16,
  [DataType.BITMAP16]: 16,
  [DataType.UINT24]: 24,
  [DataType.UINT32]: 32,
  [DataType.BITMAP32]: 32,
  [DataType.UTC]: 32,
};

function valueArb(p: Parameter): fc.Arbitrary<unknown> {
  const bits = UNSIGNED_BITS[p.type];
  if (bits !== undefined) return fc.integer({ min: p.min ?? 0, max: p.max ?? 2 ** bits - 1 });
  switch (p.type) {
    case DataType.BOOLEAN:
      return fc.integer({ min: 0, max: 1 });
    case DataType.INT32:
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case DataType.OCTET_STR:
      return fc.uint8Array({ maxLength: p.maxLen ?? 40 });
    case DataType.CHAR_STR:
      return fc
        .string({ unit: 'grapheme', maxLength: 30 })
        .filter((s) => Buffer.byteLength(s, 'utf8') <= 254);
    case BuffaloZclDataType.BUFFER:
      return fc.uint8Array({ minLength: p.length ?? p.minLen ?? 0, maxLength: p.length ?? p.maxLen ?? 60 });
    default:
      throw new Error(`no arbitrary for type ${p.type} (${p.name})`);
  }
}

/** A valid payload for a command: optional trailing fields present or not, list counts consistent. */
function payloadArb(command: Command): fc.Arbitrary<ZclPayload> {
  const parts: fc.Arbitrary<[string, unknown] | undefined>[] = [];
  const params = command.parameters;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    if (p.type === BuffaloZclDataType.LIST_UINT24) continue; // generated with its count below
    const next = params[i + 1];
    if (next?.type === BuffaloZclDataType.LIST_UINT24) {
      parts.push(fc.constant(undefined));
      continue;
    }
    const optional = p.conditions?.some((c) => c.type === 'minimumRemainingBufferBytes');
    const value = valueArb(p).map((v) => [p.name, v] as [string, unknown]);
    parts.push(optional ? fc.option(value, { nil: undefined }) : value);
  }
  const listParam = params.find((p) => p.type === BuffaloZclDataType.LIST_UINT24);
  const list = listParam
    ? fc.array(fc.integer({ min: 0, max: 0xffffff }), { maxLength: 10 })
    : fc.constant(undefined as number[] | undefined);
  return fc.tuple(fc.tuple(...parts), list).map(([entries, items]) => {
    const payload: ZclPayload = {};
    for (const e of entries) {
      if (e === undefined) break; // an absent optional field ends the payload
      payload[e[0]] = e[1];
    }
    if (listParam && items) {
      const countName = params[params.indexOf(listParam) - 1]!.name;
      payload[countName] = items.length;
      payload[listParam.name] = items;
    }
    return payload;
  });
}

const COMMANDS: { cluster: number; command: Command; direction: ZclDirection }[] = Object.values(
  SMART_ENERGY_CLUSTERS,
).flatMap((c) => [
  ...Object.values(c.commands).map((command) => ({
    cluster: c.ID,
    command,
    direction: 'clientToServer' as const,
  })),
  ...Object.values(c.commandsResponse).map((command) => ({
    cluster: c.ID,
    command,
    direction: 'serverToClient' as const,
  })),
]);

function onlyTypedErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof ZigbeeDecodeError)) throw err;
    expect(err.layer).toBe('ZCL');
    expect(err.field.length).toBeGreaterThan(0);
  }
}

const header = fc.record({
  tsn: fc.integer({ min: 0, max: 255 }),
  manufacturerCode: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
  disableDefaultResponse: fc.boolean(),
});

describe('random valid payloads round-trip', () => {
  for (const { cluster, command, direction } of COMMANDS) {
    it(`0x${cluster.toString(16).padStart(4, '0')} ${command.name} (${direction})`, () => {
      fc.assert(
        fc.property(payloadArb(command), header, (payload, h) => {
          const frame = encodeZclCommand({
            cluster,
            command: command.name,
            direction,
            payload,
            tsn: h.tsn,
            disableDefaultResponse: h.disableDefaultResponse,
            ...(h.manufacturerCode !== undefined ? { manufacturerCode: h.manufacturerCode } : {}),
          });
          // Manufacturer-specific frames only resolve SE clusters without a manufacturer code: fine here.
          const d = decodeZclFrame(frame, { cluster });
          expect(d.commandName).toBe(command.name);
          expect(d.payload).toEqual(payload);
          expect(d.header.transactionSequenceNumber).toBe(h.tsn);
          expect(d.header.manufacturerCode).toBe(h.manufacturerCode);
          expect(d.header.disableDefaultResponse).toBe(h.disableDefaultResponse);
        }),
        { numRuns: 40 },
      );
    });
  }
});

const CLUSTERS = [0x0000, 0x0702, 0x0700, 0x0703, 0x0704, 0x0705, 0x070b, 0x0800, 0x1234];

/** Re-encode what decoded; it must give the very bytes received (reserved FC bits aside). */
function reencodes(bytes: Uint8Array, cluster: number): void {
  let d: ReturnType<typeof decodeZclFrame>;
  try {
    d = decodeZclFrame(bytes, { cluster });
  } catch (err) {
    if (err instanceof ZigbeeDecodeError) return;
    throw err;
  }
  if (d.header.frameType !== 'cluster' || (bytes[0]! & 0xe0) !== 0) return;
  const again = encodeZclCommand({
    cluster,
    command: d.header.commandId,
    direction: d.header.direction,
    payload: d.payload as ZclPayload,
    tsn: d.header.transactionSequenceNumber,
    disableDefaultResponse: d.header.disableDefaultResponse,
    ...(d.header.manufacturerCode !== undefined ? { manufacturerCode: d.header.manufacturerCode } : {}),
  });
  expect(Buffer.from(again).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
}

/** A valid frame changed: bytes flipped, cut, appended, inserted or removed. */
const mutated = fc
  .tuple(
    fc.constantFrom(...SAMPLES),
    fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
        fc.record({
          op: fc.constant('append' as const),
          value: fc.uint8Array({ minLength: 1, maxLength: 4 }),
        }),
        fc.record({
          op: fc.constant('insert' as const),
          at: fc.nat(),
          value: fc.integer({ min: 0, max: 255 }),
        }),
        fc.record({ op: fc.constant('remove' as const), at: fc.nat() }),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([s, ops]) => {
    let b = Array.from(
      encodeZclCommand({
        cluster: s.cluster,
        command: s.command,
        direction: s.direction,
        payload: s.payload,
        tsn: 1,
      }),
    );
    for (const m of ops) {
      const at = 'at' in m ? m.at % (b.length + 1) : 0;
      if (m.op === 'set' && b.length > 0) b[at % b.length] = m.value;
      if (m.op === 'cut') b = b.slice(0, at);
      if (m.op === 'append') b = [...b, ...m.value];
      if (m.op === 'insert') b.splice(at, 0, m.value);
      if (m.op === 'remove') b.splice(at, 1);
    }
    return { cluster: s.cluster, bytes: Uint8Array.from(b) };
  });

describe('decoders throw nothing but ZigbeeDecodeError', () => {
  it('decodeZclFrame on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 90 }), fc.constantFrom(...CLUSTERS), (bytes, cluster) => {
        onlyTypedErrors(() => reencodes(bytes, cluster));
      }),
      { numRuns: RUNS * 4 },
    );
  });
  it('decodeZclFrame on random bytes with a valid cluster-specific header', () => {
    const frame = fc
      .tuple(
        fc.constantFrom(0x01, 0x09, 0x11, 0x19),
        fc.integer({ min: 0, max: 7 }),
        fc.uint8Array({ maxLength: 60 }),
      )
      .map(([fcByte, cmd, body]) => Uint8Array.from([fcByte, 0x33, cmd, ...body]));
    fc.assert(
      fc.property(frame, fc.constantFrom(...CLUSTERS), (bytes, cluster) => {
        onlyTypedErrors(() => reencodes(bytes, cluster));
      }),
      { numRuns: RUNS * 4 },
    );
  });
  it('decodeZclFrame on random global (foundation) frames', () => {
    const frame = fc
      .tuple(
        fc.constantFrom(0x00, 0x08, 0x18),
        fc.constantFrom(0x00, 0x01, 0x0b, 0x0a, 0x07),
        fc.uint8Array({ maxLength: 40 }),
      )
      .map(([fcByte, cmd, body]) => Uint8Array.from([fcByte, 0x33, cmd, ...body]));
    fc.assert(
      fc.property(frame, fc.constantFrom(...CLUSTERS), (bytes, cluster) => {
        onlyTypedErrors(() => decodeZclFrame(bytes, { cluster }));
      }),
      { numRuns: RUNS * 2 },
    );
  });
  it('decodeZclFrame on mutated valid SE frames', () => {
    fc.assert(
      fc.property(mutated, ({ cluster, bytes }) => {
        onlyTypedErrors(() => reencodes(bytes, cluster));
      }),
      { numRuns: RUNS * 4 },
    );
  });
  it('decodeKeyEstablishment on random and mutated bytes', () => {
    const keFrames = mutated.filter((m) => m.cluster === 0x0800);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 90 }),
          keFrames.map((m) => m.bytes),
        ),
        (bytes) => {
          try {
            const d = decodeKeyEstablishment(bytes);
            // what decodes re-encodes identically (reserved frame-control bits aside)
            if ((bytes[0]! & 0xe0) === 0) {
              const again = encodeKeyEstablishment(d.message, {
                transactionSequenceNumber: d.transactionSequenceNumber,
                disableDefaultResponse: (bytes[0]! & 0x10) !== 0,
              });
              expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
            }
          } catch (err) {
            if (!(err instanceof ZigbeeDecodeError)) throw err;
            expect(err.layer).toBe('ZCL');
          }
        },
      ),
      { numRuns: RUNS * 4 },
    );
  });
});
