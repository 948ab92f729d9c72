/**
 * The remote parties' end of a Remote Party command: what the DCC does for a DCC User's
 * service request (DCC Boxed docs: transform, the Supplier signs the pre-command, the ACB
 * MACs it) and its check of the device's answer. Pure: the caller gives the time, so the
 * originator counters follow virtual time.
 *
 * A `Forgery` builds the wrong command a test or an attacker scenario needs (wrong signer,
 * one bit flipped, a chosen counter, a bad MAC): the device's checks must refuse each one.
 */
import { fromHex, toHex } from './bytes.js';
import { buildPreCommand, type Refusal, signGeneralSigning, wrapCommand } from './command.js';
import { GbcsError } from './errors.js';
import { gbzConsumerTopUp } from './gbz.js';
import { decodeGbcsMessage } from './message.js';
import {
  cs01aTopUp,
  dlmsDateTime,
  ecs09EmergencyCredit,
  ecs70SetClock,
  gcs28SetClock,
  prepaymentRead,
  supplyScript,
} from './payloads.js';
import type { RemoteParties, RemotePartyRole } from './pki.js';
import { type VerifiedDeviceMessage, verifyDeviceMessage } from './response.js';
import { unseal } from './sealed.js';
import { type UseCaseName, useCase } from './use-cases.js';

/** A DCC User's request, by use case (service request names in the GBCS use-case table). */
export type DccRequest =
  | { useCase: 'CS01a' | 'CS01b'; utrn: string }
  /** Set the meter's clock to `epochSeconds` (UTC). */
  | { useCase: 'ECS70' | 'GCS28'; epochSeconds: number }
  /** Prepayment values (ECS19 family), emergency credit, supply enable / disable. */
  | { useCase: 'ECS19' | 'ECS09' | 'ECS42' | 'ECS43' };

export type DccUseCase = DccRequest['useCase'];
export const DCC_USE_CASES: readonly DccUseCase[] = [
  'CS01a',
  'CS01b',
  'ECS70',
  'GCS28',
  'ECS19',
  'ECS09',
  'ECS42',
  'ECS43',
];

/** Ways to get a command wrong on purpose. */
export interface Forgery {
  /** Sign with this party's DS key (the header still names the Supplier). */
  signAs?: RemotePartyRole;
  /** Use this originator counter instead of the next one. */
  counter?: bigint;
  /** Flip this bit (0 = MSB of byte 0) of the finished message. */
  flipBit?: number;
  /** MAC with this party's KA key instead of the ACB's. */
  macAs?: RemotePartyRole;
}

/** The public keys of a device as the DCC holds them (from its SMKI certificates). */
export interface DevicePublicKeys {
  dsPublic: Uint8Array;
  kaPublic: Uint8Array;
}

export interface DccOptions {
  parties: RemoteParties;
  deviceKeys: (eui64: string) => DevicePublicKeys;
}

export interface BuiltCommand {
  bytes: Uint8Array;
  useCase: UseCaseName;
  originator: string;
  counter: bigint;
  target: string;
}

/**
 * GBCS validity window for ECS70/GCS28 around the time set. ASSUMPTION: +-1 hour, so a
 * command delayed for up to an hour still applies (the RTDS vectors use a wider window).
 */
const CLOCK_VALIDITY_S = 3600;

export class Dcc {
  /** Last counter used per originator (hex system title). */
  private readonly counters = new Map<string, bigint>();

  constructor(private readonly o: DccOptions) {}

  /** A sealed octet-string of `device`'s answer, opened with the recipient's KA key. */
  unseal(sealed: Uint8Array, device: string, info: { recipient: Uint8Array; counter: bigint }): Uint8Array {
    return unsealFromDevice(this.o, sealed, device, info);
  }

  /**
   * Next counter of an originator: strictly increasing and at least the time in Unix
   * milliseconds (DCC Boxed counters look like Unix ms), so it stays ahead of anything the
   * device accepted even after the DCC's state is lost.
   */
  nextCounter(originator: RemotePartyRole, nowUnixMs: number): bigint {
    const id = toHex(this.o.parties[originator].systemTitle);
    const floor = BigInt(Math.floor(nowUnixMs));
    const last = this.counters.get(id);
    const next = last === undefined || floor > last ? floor : last + 1n;
    this.counters.set(id, next);
    return next;
  }

  /** The command's content for a request (DLMS for ESME use cases, GBZ / ASN.1 for GSME). */
  static payload(req: DccRequest, counter: bigint): Uint8Array {
    switch (req.useCase) {
      case 'CS01a':
        return cs01aTopUp(req.utrn, counter);
      case 'CS01b':
        return gbzConsumerTopUp(req.utrn);
      case 'ECS70':
        return ecs70SetClock({
          counter,
          presetTime: dlmsDateTime(req.epochSeconds),
          validityStart: dlmsDateTime(req.epochSeconds - CLOCK_VALIDITY_S),
          validityEnd: dlmsDateTime(req.epochSeconds + CLOCK_VALIDITY_S),
        });
      case 'GCS28':
        return gcs28SetClock(
          generalizedTime(req.epochSeconds - CLOCK_VALIDITY_S),
          generalizedTime(req.epochSeconds + CLOCK_VALIDITY_S),
        );
      case 'ECS19':
        return prepaymentRead(counter);
      case 'ECS09':
        return ecs09EmergencyCredit(counter);
      case 'ECS42':
        return supplyScript('enable', counter);
      case 'ECS43':
        return supplyScript('disable', counter);
    }
  }

  /** Build, sign (as `as`, default the Supplier, when critical) and MAC (as the ACB). */
  command(
    target: string,
    req: DccRequest,
    o: { nowUnixMs: number; as?: 'supplier' | 'supplier2'; forge?: Forgery },
  ): BuiltCommand {
    const as = o.as ?? 'supplier';
    const originator = this.o.parties[as];
    const counter = o.forge?.counter ?? this.nextCounter(as, o.nowUnixMs);
    const u = useCase(req.useCase);
    const device = this.o.deviceKeys(target);
    let apdu = buildPreCommand({
      useCase: req.useCase,
      originator: originator.systemTitle,
      recipient: fromHex(target),
      counter,
      payload: Dcc.payload(req, counter),
    });
    if (u.critical) apdu = signGeneralSigning(apdu, this.o.parties[o.forge?.signAs ?? as].ds.privateKey);
    const mac = this.o.parties[o.forge?.macAs ?? 'acb'];
    let bytes = wrapCommand(apdu, { acbKaPrivate: mac.ka.privateKey, deviceKaPublic: device.kaPublic });
    if (o.forge?.flipBit !== undefined) bytes = flipBit(bytes, o.forge.flipBit);
    return { bytes, useCase: req.useCase, originator: toHex(originator.systemTitle), counter, target };
  }

  /** The Supplier's check of a device's response or alert (recipient = the message's). */
  verifyFromDevice(bytes: Uint8Array, device: string): VerifiedDeviceMessage | Refusal {
    let recipient: RemotePartyRole | undefined;
    try {
      const to = toHex(decodeGbcsMessage(bytes).signing.recipient);
      recipient = (Object.keys(this.o.parties) as RemotePartyRole[]).find(
        (r) => toHex(this.o.parties[r].systemTitle) === to,
      );
    } catch (e) {
      const field = e instanceof GbcsError ? `${e.layer}.${e.field}` : 'unknown';
      return { ok: false, reason: 'malformed', field, detail: String(e) };
    }
    if (recipient === undefined)
      return { ok: false, reason: 'wrong-recipient', detail: 'not addressed to a remote party of this DCC' };
    const keys = this.o.deviceKeys(device);
    return verifyDeviceMessage(bytes, {
      deviceDsPublic: keys.dsPublic,
      deviceKaPublic: keys.kaPublic,
      recipientKaPrivate: this.o.parties[recipient].ka.privateKey,
    });
  }
}

/**
 * The recipient's reading of a sealed octet-string in a device's answer (`sealed.ts`):
 * `recipient` is the remote party the answer names.
 */
export function unsealFromDevice(
  dcc: { parties: RemoteParties; deviceKeys: (eui64: string) => DevicePublicKeys },
  sealed: Uint8Array,
  device: string,
  info: { recipient: Uint8Array; counter: bigint },
): Uint8Array {
  const to = toHex(info.recipient);
  const party = (Object.keys(dcc.parties) as RemotePartyRole[]).find(
    (r) => toHex(dcc.parties[r].systemTitle) === to,
  );
  if (party === undefined)
    throw new GbcsError('CRYPTO', 'INVALID_FIELD', 'recipient', `${to} is not a remote party`);
  return unseal(sealed, dcc.parties[party].ka.privateKey, dcc.deviceKeys(device).kaPublic, {
    originator: fromHex(device),
    recipient: info.recipient,
    counter: info.counter,
  });
}

export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  if (!Number.isInteger(bit) || bit < 0 || bit >= bytes.length * 8)
    throw new GbcsError('COMMAND', 'OUT_OF_RANGE', 'flipBit', `bit ${bit} outside ${bytes.length} bytes`);
  const out = Uint8Array.from(bytes);
  out[bit >> 3]! ^= 0x80 >> (bit & 7);
  return out;
}

/** ASN.1 GeneralizedTime "YYYYMMDDhhmmssZ" (UTC). */
export function generalizedTime(epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`;
}
