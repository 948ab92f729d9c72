/**
 * Key Establishment cluster 0x0800 frames (SE 1.4 Annex C.3.1) <-> the typed messages of
 * `key-establishment-types.ts` the CBKE state machines speak. The field coding is herdsman's
 * (through `zcl.ts` and the `keyEstablishment` definition); this module adds the per-suite
 * length rules of C.3.1.2.3 / C.3.1.2.4 that one generic definition cannot express.
 *
 * Decoding an Initiate Key Establishment frame that names a suite other than 1 or 2 fails with
 * code 'UNSUPPORTED' on field 'keyEstablishmentSuite', so a responder can answer with
 * Terminate Key Establishment (UnsupportedSuite) rather than BadMessage.
 */
import { ZigbeeDecodeError, type ZigbeeErrorCode } from '../errors.js';
import {
  KEY_ESTABLISHMENT_CLUSTER,
  type KeyEstablishmentMessage,
  KeyEstablishmentSuite,
  TerminateStatus,
} from './key-establishment-types.js';
import { decodeZclFrame, decodeZclHeader, encodeZclCommand, type ZclDirection } from './zcl.js';

/** Octet lengths per suite (C.3.1.2.3.1: certificate; C.3.1.2.3.2: compressed ephemeral point). */
export const KE_SUITE_LENGTHS: Readonly<Record<number, { certificate: number; ephemeralData: number }>> = {
  [KeyEstablishmentSuite.CBKE_ECMQV_163]: { certificate: 48, ephemeralData: 22 },
  [KeyEstablishmentSuite.CBKE_ECMQV_283]: { certificate: 74, ephemeralData: 37 },
};
/** MACU / MACV length (C.3.1.2.3.3). */
export const KE_MAC_LENGTH = 16;

const COMMAND_NAMES = {
  request: {
    InitiateKeyEstablishment: 'initiateKeyEstablishmentRequest',
    EphemeralData: 'ephemeralDataRequest',
    ConfirmKeyData: 'confirmKeyDataRequest',
    TerminateKeyEstablishment: 'terminateKeyEstablishment',
  },
  response: {
    InitiateKeyEstablishment: 'initiateKeyEstablishmentResponse',
    EphemeralData: 'ephemeralDataResponse',
    ConfirmKeyData: 'confirmKeyDataResponse',
    TerminateKeyEstablishment: 'terminateKeyEstablishment',
  },
} as const;

const TERMINATE_STATUSES = new Set<number>(Object.values(TerminateStatus));

function fail(code: ZigbeeErrorCode, field: string, detail: string): never {
  throw new ZigbeeDecodeError('ZCL', code, field, detail);
}

function lengthError(field: string, actual: number, expected: readonly number[]): never {
  const min = Math.min(...expected);
  const max = Math.max(...expected);
  const code: ZigbeeErrorCode = actual < min ? 'TRUNCATED' : actual > max ? 'OVERLONG' : 'INVALID_FIELD';
  fail(code, field, `${actual} octets, expected ${expected.join(' or ')}`);
}

/** Encode a Key Establishment message as a whole ZCL frame (request = client->server). */
export function encodeKeyEstablishment(
  msg: KeyEstablishmentMessage,
  opts: { transactionSequenceNumber: number; disableDefaultResponse?: boolean },
): Uint8Array {
  const direction: ZclDirection = msg.direction === 'request' ? 'clientToServer' : 'serverToClient';
  let payload: Record<string, unknown>;
  switch (msg.command) {
    case 'InitiateKeyEstablishment': {
      const lengths = KE_SUITE_LENGTHS[msg.suite];
      if (!lengths) throw new RangeError(`unsupported key establishment suite ${msg.suite}`);
      if (msg.identity.length !== lengths.certificate) {
        throw new RangeError(`suite ${msg.suite} certificate must be ${lengths.certificate} octets`);
      }
      payload = {
        keyEstablishmentSuite: msg.suite,
        ephemeralDataGenerateTime: msg.ephemeralDataGenerateTime,
        confirmKeyGenerateTime: msg.confirmKeyGenerateTime,
        identity: msg.identity,
      };
      break;
    }
    case 'EphemeralData':
      if (msg.ephemeralData.length !== 22 && msg.ephemeralData.length !== 37) {
        throw new RangeError('ephemeral data must be 22 or 37 octets');
      }
      payload = { ephemeralData: msg.ephemeralData };
      break;
    case 'ConfirmKeyData':
      if (msg.secureMessageAuthenticationCode.length !== KE_MAC_LENGTH)
        throw new RangeError('MAC must be 16 octets');
      payload = { secureMessageAuthenticationCode: msg.secureMessageAuthenticationCode };
      break;
    case 'TerminateKeyEstablishment':
      payload = { statusCode: msg.statusCode, waitTime: msg.waitTime, keyEstablishmentSuite: msg.suite };
      break;
  }
  return encodeZclCommand({
    cluster: KEY_ESTABLISHMENT_CLUSTER,
    command: COMMAND_NAMES[msg.direction][msg.command],
    direction,
    payload,
    tsn: opts.transactionSequenceNumber,
    disableDefaultResponse: opts.disableDefaultResponse ?? false,
  });
}

/**
 * Decode a Key Establishment cluster-specific frame. Throws only `ZigbeeDecodeError` (layer
 * 'ZCL'); global frames (e.g. a Default Response on 0x0800) and manufacturer-specific frames
 * are 'UNSUPPORTED' here: route those through `decodeZclFrame`.
 */
export function decodeKeyEstablishment(zclFrame: Uint8Array): {
  transactionSequenceNumber: number;
  message: KeyEstablishmentMessage;
} {
  const { header, length } = decodeZclHeader(zclFrame);
  if (header.frameType !== 'cluster')
    fail('UNSUPPORTED', 'frameControl.frameType', 'not a cluster-specific command');
  if (header.manufacturerCode !== undefined) {
    fail(
      'UNSUPPORTED',
      'frameControl.manufacturerSpecific',
      'manufacturer-specific Key Establishment command',
    );
  }
  const direction = header.direction === 'clientToServer' ? 'request' : 'response';
  const body = zclFrame.subarray(length);

  // Lengths first, so the error says truncated/overlong rather than whatever herdsman trips on.
  switch (header.commandId) {
    case 0x00: {
      if (body.length < 4) lengthError('keyEstablishmentSuite', body.length, [4 + 48, 4 + 74]);
      const suite = body[0]! | (body[1]! << 8);
      const lengths = KE_SUITE_LENGTHS[suite];
      if (!lengths)
        fail('UNSUPPORTED', 'keyEstablishmentSuite', `suite 0x${suite.toString(16).padStart(4, '0')}`);
      if (body.length - 4 !== lengths.certificate)
        lengthError('identity', body.length - 4, [lengths.certificate]);
      break;
    }
    case 0x01:
      if (body.length !== 22 && body.length !== 37) lengthError('ephemeralData', body.length, [22, 37]);
      break;
    case 0x02:
      if (body.length !== KE_MAC_LENGTH)
        lengthError('secureMessageAuthenticationCode', body.length, [KE_MAC_LENGTH]);
      break;
    case 0x03:
      if (body.length !== 4)
        lengthError(body.length < 4 ? 'keyEstablishmentSuite' : 'payload', body.length, [4]);
      if (!TERMINATE_STATUSES.has(body[0]!))
        fail('INVALID_FIELD', 'statusCode', `reserved status 0x${body[0]!.toString(16)}`);
      break;
    default:
      fail('UNSUPPORTED', 'commandId', `no Key Establishment command 0x${header.commandId.toString(16)}`);
  }

  const decoded = decodeZclFrame(zclFrame, { cluster: KEY_ESTABLISHMENT_CLUSTER });
  const p = decoded.payload as Record<string, unknown>;
  const tsn = header.transactionSequenceNumber;
  switch (header.commandId) {
    case 0x00:
      return {
        transactionSequenceNumber: tsn,
        message: {
          command: 'InitiateKeyEstablishment',
          direction,
          suite: p.keyEstablishmentSuite as number,
          ephemeralDataGenerateTime: p.ephemeralDataGenerateTime as number,
          confirmKeyGenerateTime: p.confirmKeyGenerateTime as number,
          identity: p.identity as Uint8Array,
        },
      };
    case 0x01:
      return {
        transactionSequenceNumber: tsn,
        message: { command: 'EphemeralData', direction, ephemeralData: p.ephemeralData as Uint8Array },
      };
    case 0x02:
      return {
        transactionSequenceNumber: tsn,
        message: {
          command: 'ConfirmKeyData',
          direction,
          secureMessageAuthenticationCode: p.secureMessageAuthenticationCode as Uint8Array,
        },
      };
    default:
      return {
        transactionSequenceNumber: tsn,
        message: {
          command: 'TerminateKeyEstablishment',
          direction,
          statusCode: p.statusCode as TerminateStatus,
          waitTime: p.waitTime as number,
          suite: p.keyEstablishmentSuite as number,
        },
      };
  }
}
