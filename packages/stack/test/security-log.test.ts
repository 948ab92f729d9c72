/** The alert queue is bounded, and what it drops to stay bounded is traced and counted, never lost silently. */
import { ManualClock } from '@gbhan/clock';
import { describe, expect, it } from 'vitest';
import { MemoryNvStore } from '../src/nvm.js';
import { SecurityLog } from '../src/security-log.js';
import type { StackTraceEvent } from '../src/trace-events.js';

describe('SecurityLog alert queue', () => {
  it('drops the oldest alert when full, traced and counted in NVM (across instances)', () => {
    const nvm = new MemoryNvStore();
    const traces: StackTraceEvent[] = [];
    const log = new SecurityLog(nvm, new ManualClock(), (e) => traces.push(e), 128, 2);
    log.record('a', {}, 0x8f3e);
    log.record('b', {}, 0x8f53);
    expect(traces.filter((e) => e.type === 'alert-dropped')).toEqual([]);
    log.queueAlert({ t: 0, code: 0x8f1e });
    expect(log.pendingAlerts().map((a) => a.code)).toEqual([0x8f53, 0x8f1e]);
    expect(traces.filter((e) => e.type === 'alert-dropped')).toEqual([
      { type: 'alert-dropped', code: 0x8f3e, codeHex: '0x8F3E', dropped: 1 },
    ]);
    // A new power cycle (new instance, same NVM) keeps counting.
    const again = new SecurityLog(nvm, new ManualClock(), (e) => traces.push(e), 128, 2);
    again.record('c', {}, 0x8f30);
    expect(traces.filter((e) => e.type === 'alert-dropped').at(-1)).toMatchObject({
      code: 0x8f53,
      dropped: 2,
    });
    expect(nvm.read<number>('stack.alertsDropped')).toBe(2);
    // The Security Log itself keeps every entry (its own capacity is separate).
    expect(again.entries().map((e) => e.event)).toEqual(['a', 'b', 'c']);
  });
});
