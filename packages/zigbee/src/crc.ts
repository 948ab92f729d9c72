/**
 * The two CRC-16s ZigBee uses, both on the reflected CCITT polynomial (0x8408):
 * CRC-16/KERMIT is the 802.15.4 FCS (IEEE 802.15.4-2006 §7.2.1.9: init 0, no final xor),
 * CRC-16/X-25 protects install codes (ZigBee 05-3474 / BDB §10.1: init and xorout 0xFFFF).
 * Both go on air little-endian.
 */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

function crcReflected(data: Uint8Array, init: number, start: number, end: number): number {
  let crc = init;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ data[i]!) & 0xff]!;
  return crc & 0xffff;
}

/** CRC-16/KERMIT ("123456789" -> 0x2189), the 802.15.4 FCS. */
export function crc16Kermit(data: Uint8Array, start = 0, end = data.length): number {
  return crcReflected(data, 0, start, end);
}

/** CRC-16/X-25 ("123456789" -> 0x906E), the install-code CRC. */
export function crc16X25(data: Uint8Array, start = 0, end = data.length): number {
  return crcReflected(data, 0xffff, start, end) ^ 0xffff;
}
