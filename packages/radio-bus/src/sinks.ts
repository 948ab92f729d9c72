/**
 * File sinks for captures and traces. Writes are buffered and appended synchronously so that
 * a SIGINT handler can flush everything with one call and files never interleave.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  type CapturedFrame,
  type CaptureLinkType,
  pcapGlobalHeader,
  pcapRecordLength,
  writePcapRecord,
} from './capture.js';

const FLUSH_AT = 64 * 1024;

/**
 * Bytes go straight into one chunk that is written out when full: a record or a trace line
 * is built in place, never as a buffer of its own to be joined later (a city's hour writes
 * millions of both).
 */
export class BufferedFile {
  private fd: number | null;
  private readonly chunk = Buffer.allocUnsafe(FLUSH_AT);
  private pending = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  /** Room for `n` bytes at the returned offset of `chunk` (null: larger than a chunk). */
  private reserve(n: number): number | null {
    if (this.fd === null) throw new Error(`${this.path} is closed`);
    if (this.pending + n > this.chunk.length) this.flush();
    if (n > this.chunk.length) return null;
    const at = this.pending;
    this.pending += n;
    return at;
  }

  write(bytes: Uint8Array): void {
    const at = this.reserve(bytes.length);
    if (at === null) writeSync(this.fd!, bytes);
    else this.chunk.set(bytes, at);
  }

  /** `n` bytes written in place by `fill(chunk, offset)`. */
  writeWith(n: number, fill: (chunk: Buffer, offset: number) => void): void {
    const at = this.reserve(n);
    if (at !== null) {
      fill(this.chunk, at);
      return;
    }
    const b = Buffer.allocUnsafe(n);
    fill(b, 0);
    writeSync(this.fd!, b);
  }

  /** `text` as UTF-8. */
  writeString(text: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes: reserve the most, give back what was not used.
    const most = text.length * 3;
    const at = this.reserve(most);
    if (at === null) {
      writeSync(this.fd!, Buffer.from(text));
      return;
    }
    this.pending = at + this.chunk.write(text, at);
  }

  flush(): void {
    if (this.fd === null || this.pending === 0) return;
    writeSync(this.fd, this.chunk, 0, this.pending);
    this.pending = 0;
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }
}

/** A pcap file of every frame put on the air. */
export class PcapWriter {
  private readonly file: BufferedFile;

  constructor(
    path: string,
    readonly linkType: CaptureLinkType,
    private readonly epochUs: number,
  ) {
    this.file = new BufferedFile(path);
    this.file.write(pcapGlobalHeader(linkType));
  }

  write(frame: CapturedFrame): void {
    this.file.writeWith(pcapRecordLength(this.linkType, frame), (b, at) =>
      writePcapRecord(b, at, this.linkType, frame, this.epochUs),
    );
  }

  flush(): void {
    this.file.flush();
  }

  close(): void {
    this.file.close();
  }
}

/** One JSON object per line. */
export class JsonlWriter {
  private readonly file: BufferedFile;

  constructor(path: string) {
    this.file = new BufferedFile(path);
  }

  write(value: unknown): void {
    this.file.writeString(`${JSON.stringify(value)}\n`);
  }

  flush(): void {
    this.file.flush();
  }

  close(): void {
    this.file.close();
  }
}
