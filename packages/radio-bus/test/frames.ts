/**
 * Test frames: minimal 802.15.4 data frames with a valid FCS, so captures made by the bus
 * can be judged by tshark. The bus itself never builds or reads MAC frames.
 */

/** CRC-16/KERMIT (802.15.4 FCS): poly 0x1021 reflected, init 0, sent little-endian. */
export function fcs(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  return crc;
}

/** Data frame, short addresses, PAN ID compression, no ack request; payload after the header. */
export function macDataFrame(
  seq: number,
  pan: number,
  dst: number,
  src: number,
  payload: Uint8Array,
): Uint8Array {
  const hdr = [0x41, 0x88, seq & 0xff, pan & 0xff, pan >> 8, dst & 0xff, dst >> 8, src & 0xff, src >> 8];
  const body = Uint8Array.from([...hdr, ...payload]);
  const crc = fcs(body);
  return Uint8Array.from([...body, crc & 0xff, crc >> 8]);
}
