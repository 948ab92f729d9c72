/**
 * Device-originated messages: responses (CRA 02) and alerts (CRA 03). RTDS 4.5.0 shows the
 * two forms: to a critical command (ECS70, GCS28, ECS42...) the response is General Signing
 * alone, signed with the device's DS key; otherwise (CS01a, CS01b, ECS19) General Ciphering
 * with the MAC from device KA x recipient KA and signature length 00. Alerts follow the same
 * rule (RTDS 8F66 future-dated alerts are signed, no MAC).
 */
import { toHex } from './bytes.js';
import { macGeneralSigning, macKey, type Refusal, signGeneralSigning, signingOf } from './command.js';
import { ecdsaVerify, gbcsMacValid } from './crypto.js';
import { GbcsError } from './errors.js';
import { encodeGeneralSigning, type Supplementary } from './general-signing.js';
import { type DecodedGbcsMessage, decodeGbcsMessage } from './message.js';
import { type UseCaseName, useCase } from './use-cases.js';

export interface DeviceMessageOptions {
  useCase: UseCaseName | number;
  /** The device's system title. */
  originator: Uint8Array;
  /** The remote party the response goes to (the command's originator). */
  recipient: Uint8Array;
  /** For a response: the command's originator counter. */
  counter: bigint;
  payload: Uint8Array;
  dateTime?: Uint8Array | null;
  supplementary?: Supplementary;
  /** Sign with the device DS key instead of MAC; default: the use case is critical. */
  signed?: boolean;
  deviceDsPrivate?: Uint8Array;
  deviceKaPrivate?: Uint8Array;
  recipientKaPublic?: Uint8Array;
}

function build(cra: 'response' | 'alert', o: DeviceMessageOptions): Uint8Array {
  const u = useCase(o.useCase);
  const apdu = encodeGeneralSigning(signingOf(o, cra));
  if (o.signed ?? u.critical) {
    if (o.deviceDsPrivate === undefined)
      throw new GbcsError('COMMAND', 'OUT_OF_RANGE', 'deviceDsPrivate', `a signed ${cra} needs the DS key`);
    return signGeneralSigning(apdu, o.deviceDsPrivate);
  }
  if (o.deviceKaPrivate === undefined || o.recipientKaPublic === undefined)
    throw new GbcsError('COMMAND', 'OUT_OF_RANGE', 'deviceKaPrivate', `a MAC'd ${cra} needs both KA keys`);
  return macGeneralSigning(apdu, o.deviceKaPrivate, o.recipientKaPublic);
}

export function buildResponse(o: DeviceMessageOptions): Uint8Array {
  return build('response', o);
}

export function buildAlert(o: DeviceMessageOptions): Uint8Array {
  return build('alert', o);
}

export interface VerifyDeviceMessageOptions {
  /** The device's DS public key (for signed messages). */
  deviceDsPublic?: Uint8Array;
  /** The device's KA public key and the recipient's KA private key (for MAC'd messages). */
  deviceKaPublic?: Uint8Array;
  recipientKaPrivate?: Uint8Array;
}

export interface VerifiedDeviceMessage {
  ok: true;
  message: DecodedGbcsMessage;
  authenticatedBy: 'signature' | 'mac';
}

/** The remote party's (or DCC's) check of a response or alert. Never throws for input bytes. */
export function verifyDeviceMessage(
  bytes: Uint8Array,
  o: VerifyDeviceMessageOptions,
): VerifiedDeviceMessage | Refusal {
  let m: DecodedGbcsMessage;
  try {
    m = decodeGbcsMessage(bytes);
  } catch (e) {
    const field = e instanceof GbcsError ? `${e.layer}.${e.field}` : 'unknown';
    return { ok: false, reason: 'malformed', field, detail: String(e) };
  }
  const g = m.signing;
  if (g.cra === 'command')
    return { ok: false, reason: 'malformed', field: 'GENERAL_SIGNING.craFlag', detail: 'a command' };
  if (m.mac !== null) {
    if (o.recipientKaPrivate === undefined || o.deviceKaPublic === undefined)
      return { ok: false, reason: 'unknown-originator', detail: `no KA keys for ${toHex(g.originator)}` };
    try {
      const key = macKey(g, o.recipientKaPrivate, o.deviceKaPublic);
      if (!gbcsMacValid(key, g.originator, m.generalSigningBytes, m.mac))
        return { ok: false, reason: 'bad-mac', detail: 'MAC does not verify' };
    } catch (e) {
      return { ok: false, reason: 'bad-mac', detail: String(e) };
    }
  }
  if (g.signature !== null) {
    if (o.deviceDsPublic === undefined)
      return { ok: false, reason: 'unknown-originator', detail: `no DS key for ${toHex(g.originator)}` };
    if (!ecdsaVerify(g.signature, g.signedBytes, o.deviceDsPublic))
      return { ok: false, reason: 'bad-signature', detail: 'signature does not verify' };
  }
  if (m.mac === null && g.signature === null)
    return { ok: false, reason: 'unsigned-critical', detail: 'neither MAC nor signature' };
  return { ok: true, message: m, authenticatedBy: g.signature !== null ? 'signature' : 'mac' };
}
