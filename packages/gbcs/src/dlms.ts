/**
 * Minimal DLMS/COSEM for ESME use cases: the Access-Request (D9) and Access-Response (DA)
 * APDUs GBCS carries, and the A-XDR data types seen in DCC's RTDS (Green Book layout):
 *   D9 <long-invoke-id-and-priority, 4> <date-time: 00 | 0C + 12>
 *      <n> n x request-specification  <m> m x Data
 *   DA <invoke id, 4> <date-time> <00 | 01 + <n> n x specification>  <m> m x Data
 *      <k> k x response-specification (choice tag, data-access-result)
 * Counts and octet-string lengths use the DLMS length form.
 */
import { checkBytes, checkUint, concat, Reader, u16be, u32be } from './bytes.js';
import { GbcsError } from './errors.js';
import { decodeLength, encodeLength } from './length.js';

export const ACCESS_REQUEST_TAG = 0xd9;
export const ACCESS_RESPONSE_TAG = 0xda;

export type DlmsData =
  | { type: 'null' }
  | { type: 'array' | 'structure'; items: DlmsData[] }
  | { type: 'boolean'; value: boolean }
  | { type: 'octet-string' | 'visible-string'; value: Uint8Array }
  | { type: IntType; value: number }
  | { type: 'long64' | 'long64-unsigned'; value: bigint };

type IntType =
  | 'integer'
  | 'long'
  | 'unsigned'
  | 'long-unsigned'
  | 'double-long'
  | 'double-long-unsigned'
  | 'enum';
const INTS: Record<IntType, { tag: number; bytes: number; signed: boolean }> = {
  'double-long': { tag: 0x05, bytes: 4, signed: true },
  'double-long-unsigned': { tag: 0x06, bytes: 4, signed: false },
  integer: { tag: 0x0f, bytes: 1, signed: true },
  long: { tag: 0x10, bytes: 2, signed: true },
  unsigned: { tag: 0x11, bytes: 1, signed: false },
  'long-unsigned': { tag: 0x12, bytes: 2, signed: false },
  enum: { tag: 0x16, bytes: 1, signed: false },
};
const INT_BY_TAG = new Map(Object.entries(INTS).map(([k, v]) => [v.tag, k as IntType]));

export function encodeDlmsData(d: DlmsData): Uint8Array {
  switch (d.type) {
    case 'null':
      return Uint8Array.of(0x00);
    case 'array':
    case 'structure':
      return concat(
        Uint8Array.of(d.type === 'array' ? 0x01 : 0x02),
        encodeLength(d.items.length),
        ...d.items.map(encodeDlmsData),
      );
    case 'boolean':
      return Uint8Array.of(0x03, d.value ? 1 : 0);
    case 'octet-string':
    case 'visible-string':
      return concat(
        Uint8Array.of(d.type === 'octet-string' ? 0x09 : 0x0a),
        encodeLength(d.value.length),
        d.value,
      );
    case 'long64':
    case 'long64-unsigned': {
      const out = new Uint8Array(9);
      out[0] = d.type === 'long64' ? 0x14 : 0x15;
      const ok =
        d.type === 'long64'
          ? d.value >= -(1n << 63n) && d.value < 1n << 63n
          : d.value >= 0n && d.value < 1n << 64n;
      if (!ok) throw new GbcsError('DLMS', 'OUT_OF_RANGE', d.type, String(d.value));
      const v = new DataView(out.buffer, 1);
      if (d.type === 'long64') v.setBigInt64(0, d.value);
      else v.setBigUint64(0, d.value);
      return out;
    }
    default: {
      const t = INTS[d.type];
      const min = t.signed ? -(2 ** (8 * t.bytes - 1)) : 0;
      const max = t.signed ? 2 ** (8 * t.bytes - 1) - 1 : 2 ** (8 * t.bytes) - 1;
      if (!Number.isInteger(d.value) || d.value < min || d.value > max)
        throw new GbcsError('DLMS', 'OUT_OF_RANGE', d.type, String(d.value));
      const out = new Uint8Array(1 + t.bytes);
      out[0] = t.tag;
      let v = d.value < 0 ? d.value + 2 ** (8 * t.bytes) : d.value;
      for (let i = t.bytes; i >= 1; i--) {
        out[i] = v % 256;
        v = Math.floor(v / 256);
      }
      return out;
    }
  }
}

const MAX_DEPTH = 16;

export function decodeDlmsData(r: Reader, field = 'data', depth = 0): DlmsData {
  if (depth > MAX_DEPTH) throw new GbcsError('DLMS', 'UNSUPPORTED', field, 'nested too deep');
  const tag = r.u8(`${field}.type`);
  switch (tag) {
    case 0x00:
      return { type: 'null' };
    case 0x01:
    case 0x02: {
      const n = decodeLength(r, `${field}.count`);
      if (n > r.remaining) throw new GbcsError('DLMS', 'TRUNCATED', `${field}.count`, `${n} items`);
      const items: DlmsData[] = [];
      for (let i = 0; i < n; i++) items.push(decodeDlmsData(r, `${field}[${i}]`, depth + 1));
      return { type: tag === 0x01 ? 'array' : 'structure', items };
    }
    case 0x03: {
      const b = r.u8(field);
      if (b > 1) throw new GbcsError('DLMS', 'INVALID_FIELD', field, `boolean 0x${b.toString(16)}`);
      return { type: 'boolean', value: b === 1 };
    }
    case 0x09:
    case 0x0a: {
      const n = decodeLength(r, `${field}.length`);
      return { type: tag === 0x09 ? 'octet-string' : 'visible-string', value: r.take(n, field) };
    }
    case 0x14:
      return { type: 'long64', value: BigInt.asIntN(64, r.u64(field)) };
    case 0x15:
      return { type: 'long64-unsigned', value: r.u64(field) };
    default: {
      const name = INT_BY_TAG.get(tag);
      if (name === undefined)
        throw new GbcsError('DLMS', 'UNSUPPORTED', `${field}.type`, `data type 0x${tag.toString(16)}`);
      const t = INTS[name];
      let v = 0;
      for (const b of r.take(t.bytes, field)) v = v * 256 + b;
      if (t.signed && v >= 2 ** (8 * t.bytes - 1)) v -= 2 ** (8 * t.bytes);
      return { type: name, value: v };
    }
  }
}

export type RequestKind = 'get' | 'set' | 'action';
const KIND_TAGS: Record<RequestKind, number> = { get: 1, set: 2, action: 3 };
const KIND_BY_TAG: Record<number, RequestKind> = { 1: 'get', 2: 'set', 3: 'action' };

export interface RequestSpec {
  kind: RequestKind;
  classId: number;
  /** 6-byte OBIS code. */
  obis: Uint8Array;
  /** Attribute id (get/set) or method id (action). */
  id: number;
}

export interface AccessRequest {
  invokeId: number;
  dateTime: Uint8Array | null;
  requests: RequestSpec[];
  data: DlmsData[];
}

function encodeSpec(s: RequestSpec): Uint8Array {
  checkUint('DLMS', 'classId', s.classId, 16);
  checkBytes('DLMS', 'obis', s.obis, 6);
  checkUint('DLMS', 'id', s.id, 8);
  return concat(Uint8Array.of(KIND_TAGS[s.kind]), u16be(s.classId), s.obis, Uint8Array.of(s.id));
}

function decodeSpec(r: Reader, field: string): RequestSpec {
  const tag = r.u8(`${field}.kind`);
  const kind = KIND_BY_TAG[tag];
  if (kind === undefined)
    throw new GbcsError(
      'DLMS',
      'UNSUPPORTED',
      `${field}.kind`,
      `request specification ${tag} (with selection?)`,
    );
  return {
    kind,
    classId: r.u16(`${field}.classId`),
    obis: r.take(6, `${field}.obis`),
    id: r.u8(`${field}.id`),
  };
}

function encodeHeader(tag: number, invokeId: number, dateTime: Uint8Array | null): Uint8Array {
  checkUint('DLMS', 'invokeId', invokeId, 32);
  if (dateTime !== null) checkBytes('DLMS', 'dateTime', dateTime, 12);
  return concat(
    Uint8Array.of(tag),
    u32be(invokeId),
    dateTime === null ? Uint8Array.of(0) : concat(Uint8Array.of(12), dateTime),
  );
}

function decodeHeader(r: Reader, tag: number): { invokeId: number; dateTime: Uint8Array | null } {
  r.expect(tag, 'tag');
  const invokeId = r.u32('invokeId');
  const n = r.u8('dateTime.length');
  if (n !== 0 && n !== 12)
    throw new GbcsError('DLMS', 'INVALID_FIELD', 'dateTime.length', `${n} is not 0 or 12`);
  return { invokeId, dateTime: n === 0 ? null : r.take(12, 'dateTime') };
}

function decodeList<T>(r: Reader, field: string, one: (r: Reader, f: string) => T): T[] {
  const n = decodeLength(r, `${field}.count`);
  if (n > r.remaining) throw new GbcsError('DLMS', 'TRUNCATED', `${field}.count`, `${n} entries`);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(one(r, `${field}[${i}]`));
  return out;
}

export function encodeAccessRequest(a: AccessRequest): Uint8Array {
  return concat(
    encodeHeader(ACCESS_REQUEST_TAG, a.invokeId, a.dateTime),
    encodeLength(a.requests.length),
    ...a.requests.map(encodeSpec),
    encodeLength(a.data.length),
    ...a.data.map(encodeDlmsData),
  );
}

export function decodeAccessRequest(bytes: Uint8Array): AccessRequest {
  const r = new Reader(bytes, 'DLMS');
  const h = decodeHeader(r, ACCESS_REQUEST_TAG);
  const requests = decodeList(r, 'requests', decodeSpec);
  const data = decodeList(r, 'data', (rr, f) => decodeDlmsData(rr, f));
  r.end('data');
  return { ...h, requests, data };
}

export interface ResponseSpec {
  kind: RequestKind;
  /** data-access-result: 0 success. */
  result: number;
}

export interface AccessResponse {
  invokeId: number;
  dateTime: Uint8Array | null;
  requests: RequestSpec[] | null;
  data: DlmsData[];
  results: ResponseSpec[];
}

export function encodeAccessResponse(a: AccessResponse): Uint8Array {
  return concat(
    encodeHeader(ACCESS_RESPONSE_TAG, a.invokeId, a.dateTime),
    a.requests === null
      ? Uint8Array.of(0)
      : concat(Uint8Array.of(1), encodeLength(a.requests.length), ...a.requests.map(encodeSpec)),
    encodeLength(a.data.length),
    ...a.data.map(encodeDlmsData),
    encodeLength(a.results.length),
    ...a.results.map((s) => {
      checkUint('DLMS', 'result', s.result, 8);
      return Uint8Array.of(KIND_TAGS[s.kind], s.result);
    }),
  );
}

export function decodeAccessResponse(bytes: Uint8Array): AccessResponse {
  const r = new Reader(bytes, 'DLMS');
  const h = decodeHeader(r, ACCESS_RESPONSE_TAG);
  const present = r.u8('requests.present');
  if (present > 1)
    throw new GbcsError('DLMS', 'INVALID_FIELD', 'requests.present', `0x${present.toString(16)}`);
  const requests = present === 1 ? decodeList(r, 'requests', decodeSpec) : null;
  const data = decodeList(r, 'data', (rr, f) => decodeDlmsData(rr, f));
  const results = decodeList(r, 'results', (rr, f) => {
    const tag = rr.u8(`${f}.kind`);
    const kind = KIND_BY_TAG[tag];
    if (kind === undefined)
      throw new GbcsError('DLMS', 'UNSUPPORTED', `${f}.kind`, `response specification ${tag}`);
    return { kind, result: rr.u8(`${f}.result`) };
  });
  r.end('results');
  return { ...h, requests, data, results };
}
