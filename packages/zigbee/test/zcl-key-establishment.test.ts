import { describe, expect, it } from 'vitest';
import { ZigbeeDecodeError } from '../src/errors.js';
import { decodeKeyEstablishment, encodeKeyEstablishment } from '../src/zcl/key-establishment.js';
import { type KeyEstablishmentMessage, TerminateStatus } from '../src/zcl/key-establishment-types.js';
import { suiteVectors } from './zcl-fixtures.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function decodeError(f: () => unknown): ZigbeeDecodeError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ZigbeeDecodeError);
    return err as ZigbeeDecodeError;
  }
  throw new Error('expected a ZigbeeDecodeError');
}

function exchange(suite: 1 | 2): KeyEstablishmentMessage[] {
  const v = suiteVectors(suite);
  return [
    {
      command: 'InitiateKeyEstablishment',
      direction: 'request',
      suite,
      ephemeralDataGenerateTime: 11,
      confirmKeyGenerateTime: 16,
      identity: v.certU,
    },
    {
      command: 'InitiateKeyEstablishment',
      direction: 'response',
      suite,
      ephemeralDataGenerateTime: 11,
      confirmKeyGenerateTime: 16,
      identity: v.certV,
    },
    { command: 'EphemeralData', direction: 'request', ephemeralData: v.qeu },
    { command: 'EphemeralData', direction: 'response', ephemeralData: v.qev },
    { command: 'ConfirmKeyData', direction: 'request', secureMessageAuthenticationCode: v.macUBytes },
    { command: 'ConfirmKeyData', direction: 'response', secureMessageAuthenticationCode: v.macVBytes },
    { command: 'TerminateKeyEstablishment', direction: 'request', statusCode: 2, waitTime: 30, suite },
    { command: 'TerminateKeyEstablishment', direction: 'response', statusCode: 6, waitTime: 0, suite },
  ];
}

describe.each([1, 2] as const)('Key Establishment suite %i with the Annex C vectors', (suite) => {
  const v = suiteVectors(suite);
  it('certificates and points have the suite lengths', () => {
    expect(v.certU.length).toBe(suite === 1 ? 48 : 74);
    expect(v.qeu.length).toBe(suite === 1 ? 22 : 37);
  });
  for (const msg of exchange(suite)) {
    it(`${msg.command} ${msg.direction} round-trips`, () => {
      const frame = encodeKeyEstablishment(msg, { transactionSequenceNumber: 0x10 });
      expect(decodeKeyEstablishment(frame)).toEqual({ transactionSequenceNumber: 0x10, message: msg });
    });
  }
  it('Initiate Key Establishment Request exact bytes (C.3.1.2.3.1)', () => {
    const frame = encodeKeyEstablishment(exchange(suite)[0]!, { transactionSequenceNumber: 1 });
    // FC 0x01 (cluster, client->server), TSN, cmd 0x00, suite u16 LE, times, certificate
    expect(hex(frame)).toBe(`010100${suite === 1 ? '0100' : '0200'}0b10${hex(v.certU)}`);
  });
  it('Confirm Key Data Response exact bytes with default response disabled', () => {
    const frame = encodeKeyEstablishment(exchange(suite)[5]!, {
      transactionSequenceNumber: 4,
      disableDefaultResponse: true,
    });
    expect(hex(frame)).toBe(`190402${v.macV.toLowerCase()}`);
  });
});

describe('Key Establishment bad input', () => {
  const v2 = suiteVectors(2);
  const initiate = encodeKeyEstablishment(exchange(2)[0]!, { transactionSequenceNumber: 1 });
  it('a certificate of the wrong length for the suite', () => {
    // suite 2 named, 48-octet (suite-1) certificate
    const wrong = Uint8Array.from([...initiate.subarray(0, 7), ...suiteVectors(1).certU]);
    expect([
      decodeError(() => decodeKeyEstablishment(wrong)).code,
      decodeError(() => decodeKeyEstablishment(wrong)).field,
    ]).toEqual(['TRUNCATED', 'identity']);
    const longer = Uint8Array.from([...initiate, 0]);
    expect(decodeError(() => decodeKeyEstablishment(longer)).code).toBe('OVERLONG');
  });
  it('an unknown suite is UNSUPPORTED on keyEstablishmentSuite (answer: Terminate UnsupportedSuite)', () => {
    const f = Uint8Array.from(initiate);
    f[3] = 0x04;
    const e = decodeError(() => decodeKeyEstablishment(f));
    expect([e.layer, e.code, e.field]).toEqual(['ZCL', 'UNSUPPORTED', 'keyEstablishmentSuite']);
  });
  it('ephemeral data and MAC lengths', () => {
    const eph = encodeKeyEstablishment(exchange(2)[2]!, { transactionSequenceNumber: 1 });
    expect(decodeError(() => decodeKeyEstablishment(eph.subarray(0, 3 + 30))).code).toBe('INVALID_FIELD');
    expect(decodeError(() => decodeKeyEstablishment(eph.subarray(0, 3 + 10))).code).toBe('TRUNCATED');
    const mac = encodeKeyEstablishment(exchange(2)[4]!, { transactionSequenceNumber: 1 });
    const e = decodeError(() => decodeKeyEstablishment(Uint8Array.from([...mac, 1])));
    expect([e.code, e.field]).toEqual(['OVERLONG', 'secureMessageAuthenticationCode']);
  });
  it('Terminate with a reserved status or short payload', () => {
    const t = encodeKeyEstablishment(exchange(2)[6]!, { transactionSequenceNumber: 1 });
    const bad = Uint8Array.from(t);
    bad[3] = 0x07;
    expect(decodeError(() => decodeKeyEstablishment(bad)).field).toBe('statusCode');
    expect(decodeError(() => decodeKeyEstablishment(t.subarray(0, 6))).code).toBe('TRUNCATED');
    expect(Object.values(TerminateStatus)).toContain(t[3]);
  });
  it('global or manufacturer-specific frames and unknown commands', () => {
    expect(decodeError(() => decodeKeyEstablishment(Uint8Array.of(0x18, 1, 0x0b, 0, 0))).field).toBe(
      'frameControl.frameType',
    );
    expect(
      decodeError(() => decodeKeyEstablishment(Uint8Array.of(0x05, 0x34, 0x12, 1, 3, 1, 0, 2, 0))).code,
    ).toBe('UNSUPPORTED');
    expect(decodeError(() => decodeKeyEstablishment(Uint8Array.of(0x01, 1, 0x04))).field).toBe('commandId');
  });
  it('the encoder refuses lengths that do not match the suite', () => {
    expect(() =>
      encodeKeyEstablishment(
        {
          command: 'InitiateKeyEstablishment',
          direction: 'request',
          suite: 1,
          ephemeralDataGenerateTime: 1,
          confirmKeyGenerateTime: 1,
          identity: v2.certU,
        },
        { transactionSequenceNumber: 0 },
      ),
    ).toThrow(RangeError);
  });
});
