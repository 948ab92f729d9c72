/**
 * Record lists inside Prepayment 0x0705 responses (SE 1.4 D.7.2.4). herdsman's definition
 * format has no list-of-structs type, so the cluster definition carries these as BUFFER (the
 * rest of the frame) and this module codes the records. Decoders throw only ZigbeeDecodeError.
 */
import { ZigbeeDecodeError } from '../errors.js';

/** Publish Top Up Log record (D.7.2.4.4). */
export interface TopUpRecord {
  /** Octet string, up to 25 digits. */
  topUpCode: Uint8Array;
  topUpAmount: number;
  /** UTC seconds since 2000-01-01. */
  topUpTime: number;
}

/** Publish Debt Log record (D.7.2.4.5). */
export interface DebtRecord {
  collectionTime: number;
  amountCollected: number;
  /** 0 debt 1, 1 debt 2, 2 debt 3. */
  debtType: number;
  outstandingDebt: number;
}

/** Snapshot payload type 0x00 Debt/Credit Status (D.7.2.4.1.1). */
export interface DebtCreditStatus {
  accumulatedDebt: number;
  type1DebtRemaining: number;
  type2DebtRemaining: number;
  type3DebtRemaining: number;
  emergencyCreditRemaining: number;
  creditRemaining: number;
}
export const SNAPSHOT_PAYLOAD_DEBT_CREDIT_STATUS = 0x00;

function fail(code: 'TRUNCATED' | 'OVERLONG' | 'INVALID_FIELD', field: string, detail: string): never {
  throw new ZigbeeDecodeError('ZCL', code, field, detail);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeTopUpLog(records: readonly TopUpRecord[]): Uint8Array {
  const size = records.reduce((n, r) => n + 1 + r.topUpCode.length + 8, 0);
  const out = new Uint8Array(size);
  const v = view(out);
  let o = 0;
  for (const r of records) {
    if (r.topUpCode.length > 26) throw new RangeError('topUpCode longer than 26 octets');
    out[o] = r.topUpCode.length;
    out.set(r.topUpCode, o + 1);
    o += 1 + r.topUpCode.length;
    v.setInt32(o, r.topUpAmount, true);
    v.setUint32(o + 4, r.topUpTime, true);
    o += 8;
  }
  return out;
}

export function decodeTopUpLog(bytes: Uint8Array): TopUpRecord[] {
  const v = view(bytes);
  const records: TopUpRecord[] = [];
  let o = 0;
  while (o < bytes.length) {
    const field = `topUpPayload[${records.length}]`;
    const n = bytes[o]!;
    if (n === 0xff || n > 26) fail('INVALID_FIELD', `${field}.topUpCode`, `length ${n}`);
    if (o + 1 + n + 8 > bytes.length) fail('TRUNCATED', field, 'record runs past the end of the frame');
    records.push({
      topUpCode: bytes.slice(o + 1, o + 1 + n),
      topUpAmount: v.getInt32(o + 1 + n, true),
      topUpTime: v.getUint32(o + 5 + n, true),
    });
    o += 9 + n;
  }
  return records;
}

const DEBT_RECORD_LENGTH = 13;

export function encodeDebtLog(records: readonly DebtRecord[]): Uint8Array {
  const out = new Uint8Array(records.length * DEBT_RECORD_LENGTH);
  const v = view(out);
  records.forEach((r, i) => {
    const o = i * DEBT_RECORD_LENGTH;
    v.setUint32(o, r.collectionTime, true);
    v.setUint32(o + 4, r.amountCollected, true);
    v.setUint8(o + 8, r.debtType);
    v.setUint32(o + 9, r.outstandingDebt, true);
  });
  return out;
}

export function decodeDebtLog(bytes: Uint8Array): DebtRecord[] {
  if (bytes.length % DEBT_RECORD_LENGTH !== 0) {
    fail('TRUNCATED', `debtPayload[${Math.floor(bytes.length / DEBT_RECORD_LENGTH)}]`, 'partial record');
  }
  const v = view(bytes);
  const records: DebtRecord[] = [];
  for (let o = 0; o < bytes.length; o += DEBT_RECORD_LENGTH) {
    records.push({
      collectionTime: v.getUint32(o, true),
      amountCollected: v.getUint32(o + 4, true),
      debtType: v.getUint8(o + 8),
      outstandingDebt: v.getUint32(o + 9, true),
    });
  }
  return records;
}

const DEBT_CREDIT_STATUS_FIELDS = [
  ['accumulatedDebt', true],
  ['type1DebtRemaining', false],
  ['type2DebtRemaining', false],
  ['type3DebtRemaining', false],
  ['emergencyCreditRemaining', true],
  ['creditRemaining', true],
] as const;

export function encodeDebtCreditStatus(s: DebtCreditStatus): Uint8Array {
  const out = new Uint8Array(24);
  const v = view(out);
  DEBT_CREDIT_STATUS_FIELDS.forEach(([name, signed], i) => {
    if (signed) v.setInt32(i * 4, s[name], true);
    else v.setUint32(i * 4, s[name], true);
  });
  return out;
}

export function decodeDebtCreditStatus(bytes: Uint8Array): DebtCreditStatus {
  if (bytes.length < 24) fail('TRUNCATED', 'snapshotPayload', `${bytes.length} octets, expected 24`);
  if (bytes.length > 24) fail('OVERLONG', 'snapshotPayload', `${bytes.length} octets, expected 24`);
  const v = view(bytes);
  const out: Partial<DebtCreditStatus> = {};
  DEBT_CREDIT_STATUS_FIELDS.forEach(([name, signed], i) => {
    out[name] = signed ? v.getInt32(i * 4, true) : v.getUint32(i * 4, true);
  });
  return out as DebtCreditStatus;
}
