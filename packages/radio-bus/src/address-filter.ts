/**
 * 802.15.4 address filtering on the bus (IEEE 802.15.4-2006 §7.5.6.2, third-level filtering,
 * and the acknowledgment rule of §7.5.6.4.2): a radio that declares its PAN identifier, short
 * and extended address is not woken for a frame its MAC would discard unread, which is most
 * frames in a house (each frame is heard by every device within reach, but addressed to one).
 * The frame still counts for collisions and carrier sense; only the delivery is saved.
 * A radio without a filter (a sniffer, an attacker, a scanner) gets every frame it hears.
 *
 * Only the MAC header is read (frame control, sequence number, destination PAN and address);
 * anything this cannot read for certain is delivered, so the receiver's MAC decides (and
 * traces a malformed frame as it always did): the filter may let too much through, never too
 * little.
 */

/** What a radio's MAC accepts (hello `filter`, `set-filter`). */
export interface AddressFilter {
  /** macPANId; 0xffff before it is on a PAN (then only broadcast-PAN frames pass). */
  panId: number;
  /** macShortAddress; 0xffff / 0xfffe when it has none. */
  shortAddress: number;
  /** macExtendedAddress, 16 lowercase hex digits. */
  extendedAddress: string;
}

const BROADCAST = 0xffff;

/** The parts of a MAC header the filter needs; null fields: not present or not readable. */
export interface FilterHeader {
  /** 0 beacon, 1 data, 2 acknowledgment, 3 command (bits 0-2 of the frame control). */
  frameType: number;
  ackRequest: boolean;
  sequenceNumber: number;
  destPan: number | null;
  /** A short address, an extended one (hex, as the EUI64s on the bus), or none. */
  dest: number | string | null;
  /** False when the header cannot be read for certain (frame version 2, too short, reserved modes). */
  readable: boolean;
}

/** Reads the header of a PSDU (little-endian fields, §7.2.1). */
export function readFilterHeader(psdu: Uint8Array): FilterHeader {
  const unreadable: FilterHeader = {
    frameType: -1,
    ackRequest: false,
    sequenceNumber: -1,
    destPan: null,
    dest: null,
    readable: false,
  };
  if (psdu.length < 3) return unreadable;
  const fc = psdu[0]! | (psdu[1]! << 8);
  const frameType = fc & 0x7;
  const ackRequest = (fc & 0x20) !== 0;
  const destMode = (fc >> 10) & 0x3;
  const version = (fc >> 12) & 0x3;
  const sequenceNumber = psdu[2]!;
  // Frame version 2 (802.15.4-2015) has other PAN-ID rules; reserved types and modes: let the MAC judge.
  if (version > 1 || frameType > 3 || destMode === 1)
    return { ...unreadable, frameType, ackRequest, sequenceNumber };
  if (destMode === 0)
    return { frameType, ackRequest, sequenceNumber, destPan: null, dest: null, readable: true };
  const need = 3 + 2 + (destMode === 2 ? 2 : 8);
  if (psdu.length < need) return { ...unreadable, frameType, ackRequest, sequenceNumber };
  const destPan = psdu[3]! | (psdu[4]! << 8);
  let dest: number | string;
  if (destMode === 2) dest = psdu[5]! | (psdu[6]! << 8);
  else {
    let hex = '';
    for (let i = 12; i >= 5; i--) hex += psdu[i]!.toString(16).padStart(2, '0');
    dest = hex;
  }
  return { frameType, ackRequest, sequenceNumber, destPan, dest, readable: true };
}

/**
 * Would a MAC with `filter` take this frame? `awaitingAck` is the sequence number of the
 * radio's last frame that asked for an acknowledgment (-1: none): an acknowledgment carries no
 * address, so only the radio waiting for that number takes it (§7.5.6.4.2).
 */
export function filterAccepts(filter: AddressFilter, awaitingAck: number, h: FilterHeader): boolean {
  if (!h.readable) return true;
  if (h.frameType === 2) return h.sequenceNumber === awaitingAck;
  // No destination (beacons; frames to a PAN coordinator by source only): the MAC decides.
  if (h.dest === null) return true;
  if (h.destPan !== BROADCAST && h.destPan !== filter.panId) return false;
  if (typeof h.dest === 'number') return h.dest === BROADCAST || h.dest === filter.shortAddress;
  return h.dest === filter.extendedAddress;
}
