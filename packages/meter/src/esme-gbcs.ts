/**
 * What an ESME does with a verified GBCS command: the DLMS access request is mapped onto
 * the same state the ZCL clusters serve (prepayment credit, emergency credit, the supply),
 * plus the meter clock and the load switch. The answer is a DLMS access response.
 */
import {
  type AccessRequest,
  type DlmsData,
  decodeAccessRequest,
  encodeAccessResponse,
  encodeDlmsData,
  GbcsError,
  type ResponseSpec,
  type VerifiedCommand,
} from '@gbhan/gbcs';
import type { GbcsOutcome } from './gbcs-endpoint.js';
import { OriginatingDevice, type Prepayment, TopUpResult } from './prepayment.js';

/** DLMS data-access-result values used in answers (IEC 62056-5-3). */
const DLMS_SUCCESS = 0;
const DLMS_OBJECT_UNDEFINED = 4;
const DLMS_OTHER_REASON = 250;

/** The parts of the ESME a GBCS command reaches. */
export interface EsmeGbcsTarget {
  prepayment: Prepayment | null;
  /** Load switch: ECS42 closes it (supply enabled), ECS43 opens it. */
  setLoadSwitch(closed: boolean, by: string): void;
  /** ECS70: the meter clock is set to this UTC time (seconds). */
  setClock(epochSeconds: number, by: string): void;
}

function answer(req: AccessRequest, result: number, data: DlmsData[] = []): Uint8Array {
  const results: ResponseSpec[] = req.requests.map((r) => ({ kind: r.kind, result }));
  return encodeAccessResponse({ invokeId: req.invokeId, dateTime: null, requests: null, data, results });
}

/** A 12-byte DLMS date-time (UTC) to Unix seconds; null when unspecified or invalid. */
export function dlmsDateTimeSeconds(b: Uint8Array): number | null {
  if (b.length !== 12) return null;
  const year = (b[0]! << 8) | b[1]!;
  if (year === 0xffff || b[2] === 0xff || b[3] === 0xff) return null;
  const t = Date.UTC(year, b[2]! - 1, b[3]!, b[5]!, b[6]!, b[7]!);
  return Number.isFinite(t) ? Math.floor(t / 1000) : null;
}

export function executeEsmeCommand(
  t: EsmeGbcsTarget,
  cmd: VerifiedCommand,
  from: string,
  seal: (plaintext: Uint8Array) => Uint8Array = (p) => p,
): GbcsOutcome {
  let req: AccessRequest;
  try {
    if (cmd.useCase.payload !== 'dlms')
      throw new GbcsError('DLMS', 'UNSUPPORTED', 'useCase', 'not an ESME use case');
    req = decodeAccessRequest(cmd.payload);
  } catch (e) {
    // Authentic but not for an ESME (or content it cannot read): answered, nothing done.
    return { payload: new Uint8Array(0), result: `not-executed: ${(e as Error).message}` };
  }
  const pp = t.prepayment;
  switch (cmd.useCase.name) {
    case 'CS01a': {
      const utrn = req.data[0];
      if (!pp || utrn?.type !== 'octet-string')
        return { payload: answer(req, DLMS_OTHER_REASON), result: 'rejected' };
      const out = pp.consumerTopUp(utrn.value, OriginatingDevice.Esi);
      const ok = out.resultType === TopUpResult.Accepted;
      return {
        payload: answer(req, ok ? DLMS_SUCCESS : DLMS_OTHER_REASON),
        result: ok ? `accepted ${out.topUpValue}` : `rejected ${out.reason ?? out.resultType}`,
      };
    }
    case 'ECS09': {
      if (!pp) return { payload: answer(req, DLMS_OTHER_REASON), result: 'rejected' };
      const status = pp.selectEmergencyCredit();
      return {
        payload: answer(req, status === 0 ? DLMS_SUCCESS : DLMS_OTHER_REASON),
        result: status === 0 ? 'emergency-credit-activated' : 'emergency-credit-refused',
      };
    }
    case 'ECS19': {
      if (!pp) return { payload: answer(req, DLMS_OBJECT_UNDEFINED), result: 'no-prepayment' };
      pp.settle();
      // Prepayment values are sensitive: sealed for the originator, as RTDS's ECS19 response is.
      const credit = encodeDlmsData({ type: 'double-long', value: Math.floor(pp.credit) });
      const sealed: DlmsData = { type: 'octet-string', value: seal(credit) };
      return { payload: answer(req, DLMS_SUCCESS, [sealed]), result: `credit ${Math.floor(pp.credit)}` };
    }
    case 'ECS42':
    case 'ECS43': {
      const closed = cmd.useCase.name === 'ECS42';
      t.setLoadSwitch(closed, from);
      return {
        payload: answer(req, DLMS_SUCCESS),
        result: closed ? 'load-switch-closed' : 'load-switch-open',
      };
    }
    case 'ECS70': {
      const preset = req.data[1]?.type === 'structure' ? req.data[1].items[0] : undefined;
      const s = preset?.type === 'octet-string' ? dlmsDateTimeSeconds(preset.value) : null;
      if (s === null) return { payload: answer(req, DLMS_OTHER_REASON), result: 'rejected: no preset time' };
      t.setClock(s, from);
      return { payload: answer(req, DLMS_SUCCESS), result: `clock-set ${s}` };
    }
    default:
      return { payload: answer(req, DLMS_OBJECT_UNDEFINED), result: `unsupported ${cmd.useCase.name}` };
  }
}
