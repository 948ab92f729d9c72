/**
 * The CH's 60-minute Inter-PAN window: exact edges on the device clock, and on the real stack
 * (a raw Inter-PAN sender on the in-process bus): 59:59 let in, 60:00 dropped with reason
 * `interpan-window-closed`, reopened by a power cycle; `unlimited` never closes.
 */
import { ManualClock, MINUTE, SECOND } from '@gbhan/clock';
import { MemoryNvStore, ZigbeeNode } from '@gbhan/stack';
import { realBus } from '@gbhan/testing';
import { describe, expect, it } from 'vitest';
import { CommsHub, InterPanWindow } from '../src/index.js';

const CH = '00124b0000c0ffee';
const SENDER = '00124b0000aaaa01';

describe('InterPanWindow (device clock)', () => {
  it('is open in [power-on, +60 min) and traces open, time left and close', () => {
    const clock = new ManualClock(7 * SECOND);
    const events: Record<string, unknown>[] = [];
    const w = new InterPanWindow({ clock, durationUs: 60 * MINUTE, trace: (e) => events.push(e) });
    clock.advanceTo(7 * SECOND + 60 * MINUTE - 1);
    expect(w.isOpen()).toBe(true);
    expect(w.leftUs()).toBe(1);
    clock.advanceTo(7 * SECOND + 60 * MINUTE);
    expect(w.isOpen()).toBe(false);
    expect(w.openUs()).toBe(60 * MINUTE);
    expect(events.map((e) => e.state)).toEqual(['open', 'time-left', 'time-left', 'time-left', 'closed']);
    clock.advanceTo(10 * 60 * MINUTE);
    expect(w.openUs()).toBe(60 * MINUTE);
  });

  it('unlimited (SECMP0037) stays open; power-off ends the window', () => {
    const clock = new ManualClock();
    const events: Record<string, unknown>[] = [];
    const w = new InterPanWindow({ clock, durationUs: 'unlimited', trace: (e) => events.push(e) });
    clock.advanceTo(72 * 60 * MINUTE);
    expect(w.isOpen()).toBe(true);
    expect(w.leftUs()).toBeNull();
    w.stop();
    expect(w.isOpen()).toBe(false);
    expect(w.openUs()).toBe(72 * 60 * MINUTE);
    expect(events.map((e) => e.state)).toEqual(['open', 'power-off']);
  });
});

describe('the CH window on the real stack', () => {
  it('lets in 59:59, drops 60:00 (interpan-window-closed), reopens after a power cycle', async () => {
    const { bus, radio, ev, crashes } = realBus(3);
    const hub = new CommsHub({
      radio: await radio(CH, 0),
      nvm: new MemoryNvStore(),
      seed: 'window',
      config: { channels: [{ page: 0, channel: 11 }], panId: 0x1a62 },
    });
    const sender = new ZigbeeNode(await radio(SENDER, 2), new MemoryNvStore(), {
      role: 'router',
      seed: 'window',
    });
    void sender.powerOn();
    // A stray Key Establishment frame (not a valid request): inside the window the CH decodes
    // it and drops it as malformed; outside, the stack's gate drops it first.
    const send = () =>
      void sender.sendInterPan(
        { eui64: CH, panId: 0x1a62 },
        { clusterId: 0x0800, zcl: Uint8Array.of(0x01, 0x01, 0x00), security: 'none' },
      );
    // Each device acts on its own clock (a device's clock is only current in its own handlers).
    const at = (t: number, fn: () => void) => sender.clock.setTimerAt(t, fn);
    const atHub = (t: number, fn: () => void) => hub.node.clock.setTimerAt(t, fn);
    at(59 * MINUTE + 59 * SECOND, send);
    at(60 * MINUTE, send);
    atHub(90 * MINUTE, () => hub.control({ action: 'power-off' }));
    atHub(90 * MINUTE + 10 * SECOND, () => hub.control({ action: 'power-on' }));
    at(95 * MINUTE, send);
    atHub(96 * MINUTE, () => hub.control({ action: 'interpan-report' }));
    await bus.runUntil(97 * MINUTE);

    const drops = ev(CH, 'frame-dropped').filter((e) => e.reason === 'interpan-window-closed');
    const processed = ev(CH, 'app-drop').filter((e) => e.reason === 'malformed-key-establishment');
    expect(processed.map((e) => Math.floor(e.t / SECOND))).toEqual([59 * 60 + 59, 95 * 60]);
    expect(drops.map((e) => Math.floor(e.t / SECOND))).toEqual([60 * 60]);
    const windows = ev(CH, 'interpan-window').map((e) => e.state);
    expect(windows).toEqual(['open', 'time-left', 'time-left', 'time-left', 'closed', 'open']);
    expect(hub.interPanFrames.get(SENDER)).toEqual({ processed: 2, dropped: 1 });
    const report = ev(CH, 'interpan-report')[0]!;
    expect(report.totalOpenUs).toBe(60 * MINUTE + (96 * MINUTE - (90 * MINUTE + 10 * SECOND)));
    expect(crashes()).toEqual([]);
  });
});
