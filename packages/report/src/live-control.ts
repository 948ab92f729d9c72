/**
 * The live view's clock, two ways. `BusLiveControl` drives a running bus: its real-time pacing
 * sets the speed, `holdTime()` pauses virtual time itself (no device moves while paused), a
 * step runs a stretch unpaced and takes the hold again. `ReplayControl` plays a finished run's
 * trace.jsonl back on a clock of its own, reading the file as time reaches its lines.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { BusTraceEvent, RadioBus } from '@gbhan/radio-bus';

export interface LiveControl {
  /** The virtual time to show. */
  now(): number;
  readonly paused: boolean;
  /** null: as fast as possible. */
  readonly speed: number | null;
  readonly done: boolean;
  pause(): void;
  resume(): void;
  step(us: number): void;
  setSpeed(speed: number | null): void;
  /** Let go of timers and files (a replay replaced by a new one). */
  stop?(): void;
}

export class BusLiveControl implements LiveControl {
  private hold: (() => void) | null = null;
  private stepping = false;
  done = false;

  constructor(
    private readonly bus: RadioBus,
    public speed: number | null,
  ) {}

  get paused(): boolean {
    return this.hold !== null;
  }

  now(): number {
    if (this.hold !== null) return this.bus.time;
    return Math.max(this.bus.time, this.bus.pacedTime() ?? 0);
  }

  pause(): void {
    if (this.hold === null && !this.done) this.hold = this.bus.holdTime();
  }

  resume(): void {
    const release = this.hold;
    if (release === null) return;
    this.hold = null;
    this.stepping = false;
    // Pacing restarts from here, or time would race to make up the wall time spent paused.
    this.bus.setRealTime(this.speed === null ? null : { speed: this.speed });
    release();
  }

  step(us: number): void {
    const release = this.hold;
    if (release === null || this.done || this.stepping) return;
    this.stepping = true;
    this.hold = null;
    this.bus.schedule(this.bus.time + us, () => {
      this.stepping = false;
      if (this.hold === null && !this.done) this.hold = this.bus.holdTime();
    });
    this.bus.setRealTime(null);
    release();
  }

  setSpeed(speed: number | null): void {
    this.speed = speed;
    if (this.hold === null && !this.stepping) this.bus.setRealTime(speed === null ? null : { speed });
  }

  /** The run is over: nothing to pause any more (a hold left would keep nothing waiting). */
  finish(): void {
    this.done = true;
    const release = this.hold;
    this.hold = null;
    release?.();
  }
}

/** Lines of trace.jsonl as events, read on demand (the file can be large). */
class TraceReader {
  private readonly lines: AsyncIterator<string>;
  private peeked: BusTraceEvent | null = null;
  ended = false;

  constructor(path: string) {
    this.lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })[
      Symbol.asyncIterator
    ]();
  }

  async peek(): Promise<BusTraceEvent | null> {
    while (this.peeked === null && !this.ended) {
      const r = await this.lines.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      if (r.value.trim() === '') continue;
      try {
        this.peeked = JSON.parse(r.value) as BusTraceEvent;
      } catch {
        // a torn last line (a run cut short): the rest is unreadable
        this.ended = true;
      }
    }
    return this.peeked;
  }

  take(): void {
    this.peeked = null;
  }
}

const TICK_MS = 50;
/** Events emitted per tick at most when playing as fast as possible. */
const MAX_PER_TICK = 4000;

export class ReplayControl implements LiveControl {
  private virt = 0;
  private lastWall = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private stepUntil: number | null = null;
  paused = false;
  done = false;
  private readonly reader: TraceReader;

  constructor(
    tracePath: string,
    private readonly durationUs: number,
    private readonly emit: (e: BusTraceEvent) => void,
    public speed: number | null = 1,
  ) {
    this.reader = new TraceReader(tracePath);
  }

  start(): void {
    this.lastWall = performance.now();
    // The replay's own clock: a wall-clock tick moves it by elapsed x speed (a tool, not the run).
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  now(): number {
    return Math.min(this.virt, this.durationUs);
  }

  pause(): void {
    this.paused = true;
    this.stepUntil = null;
  }

  resume(): void {
    this.paused = false;
    this.stepUntil = null;
    this.lastWall = performance.now();
  }

  step(us: number): void {
    if (!this.paused || this.done) return;
    this.stepUntil = this.virt + us;
  }

  setSpeed(speed: number | null): void {
    this.speed = speed;
  }

  private async tick(): Promise<void> {
    if (this.busy || this.done) return;
    this.busy = true;
    try {
      const wall = performance.now();
      const elapsed = wall - this.lastWall;
      this.lastWall = wall;
      let target: number;
      let budget = Number.POSITIVE_INFINITY;
      if (this.stepUntil !== null) {
        target = this.stepUntil;
      } else if (this.paused) {
        return;
      } else if (this.speed === null) {
        target = this.durationUs;
        budget = MAX_PER_TICK;
      } else target = this.virt + elapsed * 1000 * this.speed;
      let n = 0;
      for (;;) {
        const e = await this.reader.peek();
        if (e === null || e.t > target || n >= budget) break;
        this.reader.take();
        this.emit(e);
        this.virt = Math.max(this.virt, e.t);
        n++;
      }
      if (n < budget) this.virt = Math.max(this.virt, Math.min(target, this.durationUs));
      if (this.stepUntil !== null && this.virt >= this.stepUntil) this.stepUntil = null;
      if (this.reader.ended && this.virt >= this.durationUs) {
        this.done = true;
        this.stop();
      }
    } finally {
      this.busy = false;
    }
  }
}
