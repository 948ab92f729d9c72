/** Round trips of every codec as fast-check properties, and decoders refusing bad input with GbcsError. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccessRequest,
  type AccessResponse,
  type DlmsData,
  decodeAccessRequest,
  decodeAccessResponse,
  decodeGbtBlock,
  decodeGbz,
  decodeGeneralCiphering,
  decodeGeneralSigning,
  decodeLength,
  decodeTunnelCommand,
  encodeAccessRequest,
  encodeAccessResponse,
  encodeGbz,
  encodeGeneralCiphering,
  encodeGeneralSigning,
  encodeLength,
  encodeTunnelCommand,
  GbcsError,
  type GbzComponent,
  type GeneralSigning,
  Reader,
  reassembleBlocks,
  splitIntoBlocks,
  type TunnelCommand,
} from '../src/index.js';

const bytesN = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

/** Decoders either return or throw GbcsError: never another kind of error. */
function onlyGbcsErrors(decode: (b: Uint8Array) => unknown) {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
      try {
        decode(b);
      } catch (e) {
        expect(e).toBeInstanceOf(GbcsError);
      }
    }),
    { numRuns: 300 },
  );
}

describe('DLMS length', () => {
  it('round-trips and refuses non-shortest forms', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffff }), (n) => {
        const e = encodeLength(n);
        const r = new Reader(e, 'LENGTH');
        expect(decodeLength(r, 'x')).toBe(n);
        expect(r.remaining).toBe(0);
      }),
    );
    expect(() => decodeLength(new Reader(Uint8Array.of(0x81, 0x10), 'LENGTH'), 'x')).toThrow(GbcsError);
    expect(() => decodeLength(new Reader(Uint8Array.of(0x80), 'LENGTH'), 'x')).toThrow(/length form/);
  });
});

const supplementary = fc.oneof(
  fc.constant(undefined),
  fc.record({ remotePartyId: bytesN(8) }),
  fc.record({ remotePartyId: bytesN(8), remotePartyCounter: u64 }),
  fc.record({ remotePartyId: bytesN(8), remotePartyCounter: u64, originatorCounter: u64 }),
  fc.record({
    remotePartyId: bytesN(8),
    remotePartyCounter: u64,
    keyAgreementCertificate: fc.uint8Array({ minLength: 9, maxLength: 300 }),
  }),
);
const generalSigning: fc.Arbitrary<GeneralSigning> = fc
  .record({
    cra: fc.constantFrom('command', 'response', 'alert'),
    originatorCounter: u64,
    originator: bytesN(8),
    recipient: bytesN(8),
    dateTime: fc.option(bytesN(12), { nil: null }),
    messageCode: fc.integer({ min: 0, max: 0xffff }),
    supplementary,
    content: fc.uint8Array({ maxLength: 400 }),
    signature: fc.option(bytesN(64), { nil: null }),
  })
  .map((g) => {
    const { supplementary: s, ...rest } = g;
    return s === undefined ? rest : { ...rest, supplementary: s };
  });

describe('General Signing and General Ciphering', () => {
  it('round-trip (property)', () => {
    fc.assert(
      fc.property(generalSigning, bytesN(12), (g, mac) => {
        const gs = encodeGeneralSigning(g);
        const d = decodeGeneralSigning(gs);
        const { signedBytes, ...fields } = d;
        expect(fields).toEqual(g);
        expect(signedBytes.length).toBe(gs.length - 1 - (g.signature === null ? 1 : 65));
        const gc = encodeGeneralCiphering({ generalSigning: gs, mac });
        expect(decodeGeneralCiphering(gc)).toEqual({ generalSigning: gs, mac });
      }),
      { numRuns: 200 },
    );
  });

  it('decoders throw only GbcsError on arbitrary bytes', () => {
    onlyGbcsErrors(decodeGeneralSigning);
    onlyGbcsErrors(decodeGeneralCiphering);
    onlyGbcsErrors((b) => decodeGeneralSigning(Uint8Array.from([0xdf, 9, 1, ...b])));
  });

  it('encoders name the field that does not fit', () => {
    const g: GeneralSigning = {
      cra: 'command',
      originatorCounter: 1n,
      originator: new Uint8Array(7),
      recipient: new Uint8Array(8),
      dateTime: null,
      messageCode: 7,
      content: new Uint8Array(0),
      signature: null,
    };
    expect(() => encodeGeneralSigning(g)).toThrow(
      expect.objectContaining({ code: 'OUT_OF_RANGE', field: 'originator' }),
    );
    expect(() =>
      encodeGeneralSigning({ ...g, originator: new Uint8Array(8), originatorCounter: -1n }),
    ).toThrow(expect.objectContaining({ field: 'originatorCounter' }));
  });
});

describe('tunnel commands', () => {
  const cmd: fc.Arbitrary<TunnelCommand> = fc.oneof(
    fc.constant({ command: 'GET' as const }),
    fc.record({
      command: fc.constant('GET-RESPONSE' as const),
      remaining: fc.integer({ min: 0, max: 255 }),
      message: fc.uint8Array({ minLength: 1, maxLength: 100 }),
    }),
    fc.record({
      command: fc.constant('PUT' as const),
      message: fc.uint8Array({ minLength: 1, maxLength: 100 }),
    }),
  );
  it('round-trip (property) and refuse junk with GbcsError', () => {
    fc.assert(
      fc.property(cmd, (c) => {
        expect(decodeTunnelCommand(encodeTunnelCommand(c))).toEqual(c);
      }),
    );
    onlyGbcsErrors(decodeTunnelCommand);
    expect(() => decodeTunnelCommand(Uint8Array.of(4, 1))).toThrow(
      expect.objectContaining({ field: 'command' }),
    );
  });
});

describe('GBT block transfer', () => {
  it('split then reassemble gives the message back, in any block order; every block fits (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 60, max: 1500 }),
        u64,
        fc.integer({ min: 0, max: 0xffff }),
        (msg, maxBlockSize, counter, code) => {
          const blocks = splitIntoBlocks(msg, {
            cra: 'command',
            originatorCounter: counter,
            originator: new Uint8Array(8).fill(0x90),
            recipient: new Uint8Array(8).fill(0xdb),
            messageCode: code,
            maxBlockSize,
          });
          for (const b of blocks) expect(b.length).toBeLessThanOrEqual(maxBlockSize);
          expect(decodeGbtBlock(blocks.at(-1)!).last).toBe(true);
          expect(Array.from(reassembleBlocks([...blocks].reverse()))).toEqual(Array.from(msg));
          if (blocks.length > 1) expect(() => reassembleBlocks(blocks.slice(1))).toThrow(GbcsError);
        },
      ),
      { numRuns: 100 },
    );
    onlyGbcsErrors(decodeGbtBlock);
  });
});

const gbzComponent: fc.Arbitrary<GbzComponent> = fc.oneof(
  fc.record({
    clusterId: fc.integer({ min: 0, max: 0xffff }),
    frameControl: fc.integer({ min: 0, max: 255 }),
    sequenceNumber: fc.integer({ min: 0, max: 255 }),
    commandId: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 60 }),
  }),
  fc.record({
    clusterId: fc.integer({ min: 0, max: 0xffff }),
    frameControl: fc.integer({ min: 0, max: 255 }),
    sequenceNumber: fc.integer({ min: 0, max: 255 }),
    commandId: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 60 }),
    fromDateTime: fc.integer({ min: 0, max: 0xffffffff }),
  }),
  fc.record({
    clusterId: fc.integer({ min: 0, max: 0xffff }),
    frameControl: fc.integer({ min: 0, max: 255 }),
    sequenceNumber: fc.integer({ min: 0, max: 255 }),
    commandId: fc.integer({ min: 0, max: 255 }),
    payload: fc.constant(new Uint8Array(0)),
    encrypted: fc.record({
      additionalHeaderControl: fc.integer({ min: 0, max: 255 }),
      frameCounter: fc.integer({ min: 0, max: 255 }),
      cipheredInformation: fc.uint8Array({ maxLength: 80 }),
    }),
  }),
);

describe('GBZ', () => {
  it('round-trip (property) and refuse junk with GbcsError', () => {
    fc.assert(
      fc.property(fc.array(gbzComponent, { minLength: 1, maxLength: 5 }), (cs) => {
        expect(decodeGbz(encodeGbz(cs))).toEqual(cs);
      }),
    );
    onlyGbcsErrors(decodeGbz);
    onlyGbcsErrors((b) => decodeGbz(Uint8Array.from([0x01, 0x09, ...b])));
  });
});

const dlmsData: fc.Arbitrary<DlmsData> = fc.letrec<{ d: DlmsData }>((tie) => ({
  d: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant({ type: 'null' as const }),
    fc.record({
      type: fc.constantFrom('octet-string' as const, 'visible-string' as const),
      value: fc.uint8Array({ maxLength: 40 }),
    }),
    fc.record({ type: fc.constant('boolean' as const), value: fc.boolean() }),
    fc.record({ type: fc.constant('integer' as const), value: fc.integer({ min: -128, max: 127 }) }),
    fc.record({ type: fc.constant('long' as const), value: fc.integer({ min: -32768, max: 32767 }) }),
    fc.record({
      type: fc.constantFrom('unsigned' as const, 'enum' as const),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({ type: fc.constant('long-unsigned' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
    fc.record({ type: fc.constant('double-long' as const), value: fc.integer() }),
    fc.record({
      type: fc.constant('double-long-unsigned' as const),
      value: fc.integer({ min: 0, max: 0xffffffff }),
    }),
    fc.record({
      type: fc.constant('long64' as const),
      value: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    }),
    fc.record({ type: fc.constant('long64-unsigned' as const), value: u64 }),
    fc.record({
      type: fc.constantFrom('array' as const, 'structure' as const),
      items: fc.array(tie('d'), { maxLength: 4 }),
    }),
  ),
})).d;
const spec = fc.record({
  kind: fc.constantFrom('get' as const, 'set' as const, 'action' as const),
  classId: fc.integer({ min: 0, max: 0xffff }),
  obis: bytesN(6),
  id: fc.integer({ min: 0, max: 255 }),
});

describe('DLMS access request / response', () => {
  it('round-trip (property) and refuse junk with GbcsError', () => {
    const req: fc.Arbitrary<AccessRequest> = fc.record({
      invokeId: fc.integer({ min: 0, max: 0xffffffff }),
      dateTime: fc.option(bytesN(12), { nil: null }),
      requests: fc.array(spec, { maxLength: 5 }),
      data: fc.array(dlmsData, { maxLength: 5 }),
    });
    const resp: fc.Arbitrary<AccessResponse> = fc.record({
      invokeId: fc.integer({ min: 0, max: 0xffffffff }),
      dateTime: fc.option(bytesN(12), { nil: null }),
      requests: fc.option(fc.array(spec, { maxLength: 3 }), { nil: null }),
      data: fc.array(dlmsData, { maxLength: 5 }),
      results: fc.array(
        fc.record({ kind: spec.map((s) => s.kind), result: fc.integer({ min: 0, max: 255 }) }),
        { maxLength: 5 },
      ),
    });
    fc.assert(
      fc.property(req, (a) => {
        expect(decodeAccessRequest(encodeAccessRequest(a))).toEqual(a);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(resp, (a) => {
        expect(decodeAccessResponse(encodeAccessResponse(a))).toEqual(a);
      }),
      { numRuns: 200 },
    );
    onlyGbcsErrors(decodeAccessRequest);
    onlyGbcsErrors(decodeAccessResponse);
    onlyGbcsErrors((b) => decodeAccessRequest(Uint8Array.from([0xd9, 0x20, 0, 0, 0, 0, ...b])));
  });
});
