/**
 * What a GSME does with a verified GBCS command (fetched from the GPF with GET): CS01b is a
 * GBZ holding a Prepayment Consumer Top Up (0x0705 / 0x04), run on the GSME's prepayment;
 * GCS28 sets the GSME's clock. The answer is a GBZ (GBCS's ZigBee wrapper).
 *
 * ASSUMPTION: the CS01b response is a GBZ with the ZCL Consumer Top Up Response (0x0705 /
 * 0x03: result type, value, source, credit remaining); the GCS28 response a GBZ with a ZCL
 * Default Response on the Time cluster (0x000A, answering Write Attributes 0x02) carrying
 * SUCCESS or FAILURE. ASSUMPTION: GCS28 carries only a validity window (RTDS: SEQUENCE of
 * two GeneralizedTimes); the DCC puts the time to set in its middle (`Dcc`: +-1 h), so the
 * GSME sets its clock to the window's midpoint.
 */
import {
  decodeGbz,
  decodeGcs28SetClock,
  encodeGbz,
  type GbzComponent,
  PREPAYMENT_CLUSTER,
  type VerifiedCommand,
} from '@gbhan/gbcs';
import { encodeZclCommand } from '@gbhan/zigbee';
import type { GbcsOutcome } from './gbcs-endpoint.js';
import { type Prepayment, TopUpResult } from './prepayment.js';

export const TIME_CLUSTER = 0x000a;
const ZCL_DEFAULT_RESPONSE = 0x0b;
const ZCL_WRITE_ATTRIBUTES = 0x02;
/** Profile-wide, server to client, default response disabled. */
const ZCL_GLOBAL_TO_CLIENT = 0x18;

/** The parts of the GSME a GBCS command reaches. */
export interface GsmeGbcsTarget {
  prepayment: Prepayment | null;
  /** GCS28: the GSME clock is set to this UTC time (seconds). */
  setClock(epochSeconds: number, by: string): void;
}

function defaultResponse(clusterId: number, sequenceNumber: number, command: number, status: number) {
  return encodeGbz([
    {
      clusterId,
      frameControl: ZCL_GLOBAL_TO_CLIENT,
      sequenceNumber,
      commandId: ZCL_DEFAULT_RESPONSE,
      payload: Uint8Array.of(command, status),
    },
  ]);
}

/** A ZCL frame (3-byte header, no manufacturer code) as a GBZ component. */
function zclComponent(clusterId: number, zcl: Uint8Array): GbzComponent {
  return {
    clusterId,
    frameControl: zcl[0]!,
    sequenceNumber: zcl[1]!,
    commandId: zcl[2]!,
    payload: zcl.subarray(3),
  };
}

/** "YYYYMMDDhhmmssZ" to Unix seconds. */
function generalizedSeconds(s: string): number {
  return (
    Date.UTC(
      +s.slice(0, 4),
      +s.slice(4, 6) - 1,
      +s.slice(6, 8),
      +s.slice(8, 10),
      +s.slice(10, 12),
      +s.slice(12, 14),
    ) / 1000
  );
}

export function executeGsmeCommand(t: GsmeGbcsTarget, cmd: VerifiedCommand, from: string): GbcsOutcome {
  switch (cmd.useCase.name) {
    case 'CS01b': {
      let c: GbzComponent | undefined;
      try {
        c = decodeGbz(cmd.payload)[0];
      } catch (e) {
        return { payload: new Uint8Array(0), result: `not-executed: ${(e as Error).message}` };
      }
      const seq = c?.sequenceNumber ?? 0;
      // Consumer Top Up: OriginatingDevice (u8), TopUpCode (octet string: length, octets).
      const p = c?.payload;
      const codeLength = p?.[1];
      if (
        !c ||
        c.clusterId !== PREPAYMENT_CLUSTER ||
        c.commandId !== 0x04 ||
        !p ||
        codeLength === undefined ||
        p.length !== 2 + codeLength
      )
        return {
          payload: defaultResponse(PREPAYMENT_CLUSTER, seq, c?.commandId ?? 0, 0x80),
          result: 'rejected: not a top-up',
        };
      const pp = t.prepayment;
      if (!pp)
        return {
          payload: defaultResponse(PREPAYMENT_CLUSTER, seq, 0x04, 0x81),
          result: 'rejected: no prepayment',
        };
      const originatingDevice = p[0]!;
      const out = pp.consumerTopUp(p.subarray(2), originatingDevice);
      const zcl = encodeZclCommand({
        cluster: PREPAYMENT_CLUSTER,
        command: 'consumerTopUpResponse',
        direction: 'serverToClient',
        tsn: seq,
        payload: {
          resultType: out.resultType,
          topUpValue: out.topUpValue,
          sourceOfTopUp: originatingDevice,
          creditRemaining: out.creditRemaining,
        },
      });
      const ok = out.resultType === TopUpResult.Accepted;
      return {
        payload: encodeGbz([zclComponent(PREPAYMENT_CLUSTER, zcl)]),
        result: ok ? `accepted ${out.topUpValue}` : `rejected ${out.reason ?? out.resultType}`,
      };
    }
    case 'GCS28': {
      let w: ReturnType<typeof decodeGcs28SetClock>;
      try {
        w = decodeGcs28SetClock(cmd.payload);
      } catch (e) {
        return {
          payload: defaultResponse(TIME_CLUSTER, 0, ZCL_WRITE_ATTRIBUTES, 0x01),
          result: `rejected: ${(e as Error).message}`,
        };
      }
      const start = generalizedSeconds(w.validityStart);
      const end = generalizedSeconds(w.validityEnd);
      if (!Number.isFinite(start) || !Number.isFinite(end) || end < start)
        return {
          payload: defaultResponse(TIME_CLUSTER, 0, ZCL_WRITE_ATTRIBUTES, 0x01),
          result: 'rejected: bad window',
        };
      const s = Math.floor((start + end) / 2);
      t.setClock(s, from);
      return {
        payload: defaultResponse(TIME_CLUSTER, 0, ZCL_WRITE_ATTRIBUTES, 0x00),
        result: `clock-set ${s}`,
      };
    }
    default:
      // Authentic but not a GSME use case this meter runs: answered, nothing done.
      return { payload: new Uint8Array(0), result: `unsupported ${cmd.useCase.name}` };
  }
}
