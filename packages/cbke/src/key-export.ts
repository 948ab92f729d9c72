/**
 * Key export: collects every key the state machines establish (wire it to `onKeyEstablished`)
 * so captures can be decrypted later. Wireshark cannot derive CBKE link keys itself
 * (protocol-notes §5); `wiresharkKeyLines` renders the entries for its ZigBee
 * pre-configured keys table (zigbee_pc_keys: "key","byte order","label").
 */
import { bytesToHex } from './bytes.js';
import type { EstablishedKey } from './key-establishment.js';

export class KeyExportLog {
  readonly entries: EstablishedKey[] = [];

  /** Bound, so it can be passed directly as `onKeyEstablished`. */
  readonly record = (key: EstablishedKey): void => {
    this.entries.push({ ...key, linkKey: key.linkKey.slice() });
  };

  /** One line per distinct key (both sides of an exchange report the same key). */
  wiresharkKeyLines(): string[] {
    const seen = new Set<string>();
    const lines: string[] = [];
    for (const e of this.entries) {
      const hex = bytesToHex(e.linkKey);
      if (seen.has(hex)) continue;
      seen.add(hex);
      const key = hex.match(/../g)!.join(':');
      const label = `CBKE suite ${e.suite} ${bytesToHex(e.initiatorEui64)}-${bytesToHex(e.responderEui64)} t=${e.timeUs}us`;
      lines.push(`"${key}","Normal","${label}"`);
    }
    return lines;
  }
}
