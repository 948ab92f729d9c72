/**
 * Outgoing security frame counters persisted before use (05-3474 §4.3.1.1 step 1: a frame
 * counter is never reused with the same key). The NVM holds a limit; counters below it may be
 * used without writing NVM. When the next counter reaches the limit, the limit moves a block
 * ahead and is committed BEFORE that counter goes on air, so a power cut at any point resumes
 * at or above every counter ever used (at the cost of skipping up to a block).
 */
import type { NvStore } from './nvm.js';

export const FRAME_COUNTER_BLOCK = 1024;

export class PersistedCounter {
  private nextValue: number;
  private limit: number;

  constructor(
    private readonly nvm: NvStore,
    readonly key: string,
    private readonly block = FRAME_COUNTER_BLOCK,
  ) {
    const stored = nvm.read<number>(key);
    this.limit = typeof stored === 'number' && Number.isInteger(stored) && stored >= 0 ? stored : 0;
    // Resume from the persisted limit: anything below it may have been used before a crash.
    this.nextValue = this.limit;
  }

  /** The next counter to use; commits a new limit first when the block is used up. */
  take(): number {
    if (this.nextValue >= 0xffffffff) throw new RangeError(`${this.key}: frame counter exhausted`);
    if (this.nextValue >= this.limit) {
      const newLimit = Math.min(this.nextValue + this.block, 0xffffffff);
      this.nvm.commit({ [this.key]: newLimit });
      this.limit = newLimit;
    }
    return this.nextValue++;
  }

  /** The value `take` returns next (for reports). */
  peek(): number {
    return this.nextValue;
  }

  get persistedLimit(): number {
    return this.limit;
  }
}
