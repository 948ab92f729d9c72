/**
 * Key export: every key a node learns or makes (the network key, install-code derived TC link
 * keys, CBKE and partner link keys) reported with its time and peers, so a run's capture can be
 * decrypted by Wireshark. `wiresharkKeyLines` renders the zigbee_pc_keys table
 * (`"<32 hex>","Normal","label"`), one line per distinct key.
 */
export type ExportedKeyKind = 'network' | 'link';
export type ExportedKeyOrigin = 'network' | 'install-code' | 'cbke' | 'partner';

export interface ExportedKey {
  /** Virtual time (us) the key became known. */
  t: number;
  kind: ExportedKeyKind;
  origin: ExportedKeyOrigin;
  /** 32 lowercase hex digits. */
  key: string;
  /** The node that reported it and, for link keys, the peer. */
  reporter: string;
  peer?: string;
  /** Network key sequence number (network keys). */
  keySequenceNumber?: number;
}

export type KeyExportHook = (key: ExportedKey) => void;

/** Collects what several nodes report (pass `registry.record` as every node's `onKeyExport`). */
export class KeyExportRegistry {
  readonly entries: ExportedKey[] = [];

  readonly record: KeyExportHook = (key) => {
    this.entries.push({ ...key });
  };

  wiresharkKeyLines(): string[] {
    const seen = new Set<string>();
    const lines: string[] = [];
    for (const e of this.entries) {
      if (seen.has(e.key)) continue;
      seen.add(e.key);
      const who = e.peer ? `${e.reporter}-${e.peer}` : e.reporter;
      lines.push(`"${e.key}","Normal","${e.kind} ${e.origin} ${who} t=${e.t}us"`);
    }
    return lines;
  }

  /** tshark arguments (`-o uat:zigbee_pc_keys:...`) for every distinct key. */
  tsharkOptions(): string[] {
    return this.wiresharkKeyLines().flatMap((l) => ['-o', `uat:zigbee_pc_keys:${l}`]);
  }
}
