/**
 * File sinks for captures and traces. Writes are buffered and appended synchronously so that
 * a SIGINT handler can flush everything with one call and files never interleave.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { type CapturedFrame, type CaptureLinkType, pcapGlobalHeader, pcapRecord } from './capture.js';

const FLUSH_AT = 64 * 1024;

export class BufferedFile {
  private fd: number | null;
  private chunks: Uint8Array[] = [];
  private pending = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(bytes: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.path} is closed`);
    this.chunks.push(bytes);
    this.pending += bytes.length;
    if (this.pending >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.fd === null || this.pending === 0) return;
    const all = Buffer.concat(this.chunks);
    writeSync(this.fd, all);
    this.chunks = [];
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
    this.file.write(pcapRecord(this.linkType, frame, this.epochUs));
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
    this.file.write(Buffer.from(`${JSON.stringify(value)}\n`));
  }

  flush(): void {
    this.file.flush();
  }

  close(): void {
    this.file.close();
  }
}
