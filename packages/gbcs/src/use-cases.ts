/**
 * The use cases this emulator speaks, by GBCS message code (gbcs-parser src/util.ts, the
 * DCC service request tables). `critical` = the command must carry the Supplier's signature
 * (observed in DCC's Reference Test Data Set 4.5.0: each critical command below has a
 * PRECOMMAND file and a 64-byte signature; CS01a/CS01b/ECS17b/ECS19 carry signature length 00).
 * `payload` says what the content is: DLMS for ESME, GBZ for GSME ZigBee clusters, ASN.1
 * for GCS28 (RTDS: a DER SEQUENCE of two GeneralizedTimes, not GBZ).
 */
export type PayloadKind = 'dlms' | 'gbz' | 'asn1';

export interface UseCase {
  name: string;
  code: number;
  title: string;
  critical: boolean;
  payload: PayloadKind;
}

const table = [
  {
    name: 'CS01a',
    code: 0x0007,
    title: 'Apply Prepayment Top Up to an ESME',
    critical: false,
    payload: 'dlms',
  },
  {
    name: 'CS01b',
    code: 0x0097,
    title: 'Apply Prepayment Top Up to a GSME',
    critical: false,
    payload: 'gbz',
  },
  {
    name: 'ECS04a',
    code: 0x001c,
    title: 'Adjust Meter Balance on the ESME',
    critical: true,
    payload: 'dlms',
  },
  { name: 'ECS07', code: 0x001e, title: 'Manage Debt on the ESME', critical: true, payload: 'dlms' },
  {
    name: 'ECS09',
    code: 0x0020,
    title: 'Activate Emergency Credit Remotely on ESME',
    critical: true,
    payload: 'dlms',
  },
  {
    name: 'ECS17b',
    code: 0x0027,
    title: 'Read ESME Energy Registers (Import Energy)',
    critical: false,
    payload: 'dlms',
  },
  { name: 'ECS19', code: 0x002d, title: 'Read ESME Prepayment Registers', critical: false, payload: 'dlms' },
  {
    name: 'ECS42',
    code: 0x004f,
    title: 'Remotely Close the Load Switch on the ESME (enable supply)',
    critical: true,
    payload: 'dlms',
  },
  {
    name: 'ECS43',
    code: 0x0050,
    title: 'Remotely Open the Load Switch on the ESME (disable supply)',
    critical: true,
    payload: 'dlms',
  },
  { name: 'ECS44', code: 0x0051, title: 'Arm Load Switch in ESME', critical: true, payload: 'dlms' },
  { name: 'ECS70', code: 0x0062, title: 'Set Clock on ESME', critical: true, payload: 'dlms' },
  {
    name: 'GCS06',
    code: 0x0070,
    title: 'Activate Emergency Credit Remotely on GSME',
    critical: true,
    payload: 'gbz',
  },
  { name: 'GCS13a', code: 0x0074, title: 'Read GSME Consumption Register', critical: false, payload: 'gbz' },
  { name: 'GCS14', code: 0x0075, title: 'Read GSME Prepayment Registers', critical: false, payload: 'gbz' },
  { name: 'GCS28', code: 0x007f, title: 'Set Clock on GSME', critical: true, payload: 'asn1' },
  {
    name: 'PCS02',
    code: 0x0090,
    title: 'Activate Emergency Credit on GSME from PPMID',
    critical: false,
    payload: 'gbz',
  },
  {
    name: 'PCS01',
    code: 0x009b,
    title: 'Apply Prepayment Top Up to a GSME using PPMID',
    critical: false,
    payload: 'gbz',
  },
  {
    name: 'PECS01',
    code: 0x0116,
    title: 'Apply Prepayment Top Up to an ESME using PPMID',
    critical: false,
    payload: 'dlms',
  },
  {
    name: 'PECS02',
    code: 0x0117,
    title: 'Activate Emergency Credit on ESME from PPMID',
    critical: false,
    payload: 'dlms',
  },
  {
    name: 'PECS03',
    code: 0x0118,
    title: 'Request to Enable ESME Supply from PPMID',
    critical: false,
    payload: 'dlms',
  },
] as const satisfies readonly UseCase[];

export type UseCaseName = (typeof table)[number]['name'];

export const USE_CASES: readonly UseCase[] = table;

const byCode = new Map<number, UseCase>(table.map((u) => [u.code, u]));
const byName = new Map<string, UseCase>(table.map((u) => [u.name, u]));

export function useCaseByCode(code: number): UseCase | undefined {
  return byCode.get(code);
}

export function useCase(nameOrCode: UseCaseName | number): UseCase {
  const u = typeof nameOrCode === 'number' ? byCode.get(nameOrCode) : byName.get(nameOrCode);
  if (u === undefined) throw new RangeError(`unknown GBCS use case ${String(nameOrCode)}`);
  return u;
}
