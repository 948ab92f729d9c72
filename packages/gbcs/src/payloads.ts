/**
 * Use-case payloads, shaped as DCC's RTDS 4.5.0 carries them (each checked byte for byte in
 * test/vectors.test.ts): DLMS for ESME, GBZ for GSME (gbz.ts), ASN.1 DER for GCS28.
 */
import { concat, fromHex } from './bytes.js';
import { type AccessRequest, encodeAccessRequest } from './dlms.js';
import { GbcsError } from './errors.js';

/**
 * ASSUMPTION (matches every RTDS vector here): long-invoke-id-and-priority = 0x20000000 with the
 * low 24 bits of the originator counter (CS01a counter 3 << 32 -> 20000000; ECS70 1000 -> 200003E8).
 */
export function dlmsInvokeId(counter: bigint): number {
  return (0x20000000 | Number(counter & 0xffffffn)) >>> 0;
}

const OBIS_TOKEN_GATEWAY = fromHex('0000132800ff'); // 0-0:19.40.0.255, class 115
const OBIS_CLOCK = fromHex('0000010000ff'); // 0-0:1.0.0.255, class 8
const OBIS_DISCONNECT_SCRIPTS = fromHex('00000a006aff'); // 0-0:10.0.106.255, class 9
const OBIS_EMERGENCY_CREDIT = fromHex('0000130a01ff'); // 0-0:19.10.1.255, class 112

/** CS01a: Token Gateway (class 115) method 1 with the 20-digit UTRN as an octet-string. */
export function cs01aTopUp(utrn: string, counter: bigint): Uint8Array {
  if (!/^\d{20}$/.test(utrn)) throw new GbcsError('DLMS', 'OUT_OF_RANGE', 'utrn', 'a UTRN is 20 digits');
  const req: AccessRequest = {
    invokeId: dlmsInvokeId(counter),
    dateTime: null,
    requests: [{ kind: 'action', classId: 115, obis: OBIS_TOKEN_GATEWAY, id: 1 }],
    data: [{ type: 'octet-string', value: new TextEncoder().encode(utrn) }],
  };
  return encodeAccessRequest(req);
}

/** A 12-byte DLMS date-time in UTC (deviation 0x8000 = not specified, status 0xFF as RTDS). */
export function dlmsDateTime(epochSeconds: number): Uint8Array {
  const d = new Date(epochSeconds * 1000);
  const y = d.getUTCFullYear();
  return Uint8Array.of(
    y >> 8,
    y & 0xff,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    0xff,
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    0x00,
    0x80,
    0x00,
    0xff,
  );
}

/** 12 bytes of "not specified" (FF..FF 80 00 FF): RTDS's preset time, "the time now". */
export const DLMS_DATE_TIME_UNSPECIFIED = fromHex('ffffffffffffffffff8000ff');

export interface SetClockOptions {
  counter: bigint;
  presetTime?: Uint8Array;
  validityStart: Uint8Array;
  validityEnd: Uint8Array;
  /** Clock class attribute 9 clock_base; RTDS sets 5. */
  clockBase?: number;
}

/**
 * ECS70: set clock_base, preset_adjusting_time(preset, validity start, end), adjust_to_preset_time,
 * then read time (attr 2) and status (attr 4) back, as the RTDS command does.
 */
export function ecs70SetClock(o: SetClockOptions): Uint8Array {
  const clock = (kind: 'get' | 'set' | 'action', id: number) => ({ kind, classId: 8, obis: OBIS_CLOCK, id });
  return encodeAccessRequest({
    invokeId: dlmsInvokeId(o.counter),
    dateTime: null,
    requests: [clock('set', 9), clock('action', 5), clock('action', 4), clock('get', 2), clock('get', 4)],
    data: [
      { type: 'enum', value: o.clockBase ?? 5 },
      {
        type: 'structure',
        items: [o.presetTime ?? DLMS_DATE_TIME_UNSPECIFIED, o.validityStart, o.validityEnd].map((value) => ({
          type: 'octet-string' as const,
          value,
        })),
      },
      { type: 'integer', value: 0 },
      { type: 'null' },
      { type: 'null' },
    ],
  });
}

/** ECS42 / ECS43: execute the disconnect-control script table (class 9) script 51 / 52. */
export function supplyScript(action: 'enable' | 'disable', counter: bigint): Uint8Array {
  return encodeAccessRequest({
    invokeId: dlmsInvokeId(counter),
    dateTime: null,
    requests: [{ kind: 'action', classId: 9, obis: OBIS_DISCONNECT_SCRIPTS, id: 1 }],
    data: [{ type: 'long-unsigned', value: action === 'enable' ? 0x33 : 0x34 }],
  });
}

/** ECS09: Credit (class 112) emergency credit, method 3 invoke_credit(0). */
export function ecs09EmergencyCredit(counter: bigint): Uint8Array {
  return encodeAccessRequest({
    invokeId: dlmsInvokeId(counter),
    dateTime: null,
    requests: [{ kind: 'action', classId: 112, obis: OBIS_EMERGENCY_CREDIT, id: 3 }],
    data: [{ type: 'integer', value: 0 }],
  });
}

/**
 * ESME prepayment-values read, minimal form: get the Credit (class 112) emergency credit
 * current_credit_amount (attr 2). ASSUMPTION: RTDS ECS19 reads through a Data Protection
 * object (class 30) with an encrypted response; this plain get is the emulator's own.
 */
export function prepaymentRead(counter: bigint): Uint8Array {
  return encodeAccessRequest({
    invokeId: dlmsInvokeId(counter),
    dateTime: null,
    requests: [{ kind: 'get', classId: 112, obis: OBIS_EMERGENCY_CREDIT, id: 2 }],
    data: [{ type: 'null' }],
  });
}

/** GCS28 content: DER SEQUENCE { GeneralizedTime validity start, GeneralizedTime end }. */
export function gcs28SetClock(validityStart: string, validityEnd: string): Uint8Array {
  const gt = (s: string) => {
    if (!/^\d{14}Z$/.test(s)) throw new GbcsError('ASN1', 'OUT_OF_RANGE', 'generalizedTime', s);
    return concat(Uint8Array.of(0x18, s.length), new TextEncoder().encode(s));
  };
  const body = concat(gt(validityStart), gt(validityEnd));
  return concat(Uint8Array.of(0x30, body.length), body);
}

/** Reads the GCS28 command content back. */
export function decodeGcs28SetClock(bytes: Uint8Array): { validityStart: string; validityEnd: string } {
  const bad = (field: string) =>
    new GbcsError('ASN1', 'INVALID_FIELD', field, 'not SEQUENCE{2 x GeneralizedTime(15)}');
  if (bytes.length !== 36 || bytes[0] !== 0x30 || bytes[1] !== 34) throw bad('sequence');
  const dec = new TextDecoder();
  const out: string[] = [];
  for (const at of [2, 19]) {
    if (bytes[at] !== 0x18 || bytes[at + 1] !== 15) throw bad('generalizedTime');
    const s = dec.decode(bytes.subarray(at + 2, at + 17));
    if (!/^\d{14}Z$/.test(s)) throw bad('generalizedTime');
    out.push(s);
  }
  return { validityStart: out[0]!, validityEnd: out[1]! };
}
