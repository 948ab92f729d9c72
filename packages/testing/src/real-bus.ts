/**
 * A real in-process radio bus for device tests: trace and frames collected, radios for device
 * classes on 2.4 GHz channel 11 (or another), device events by radio and type, and the
 * handlers that crashed. Imports only @gbhan/radio-bus (subpath `@gbhan/testing/real-bus`).
 * packages/stack/test/harness.ts builds its network of bare ZigbeeNodes on it.
 */
import type { BusTraceEvent, CapturedFrame } from '@gbhan/radio-bus';
import { BusRadio, InProcessTransport, RadioBus } from '@gbhan/radio-bus';

export type DeviceEvent = Record<string, unknown> & { t: number };

export function realBus(seed: number) {
  const bus = new RadioBus({ seed });
  const trace: BusTraceEvent[] = [];
  const frames: CapturedFrame[] = [];
  bus.onTrace((e) => trace.push(e));
  bus.onFrame((f) => frames.push(f));
  const device = () =>
    trace.filter((e): e is Extract<BusTraceEvent, { type: 'device' }> => e.type === 'device');
  return {
    bus,
    trace,
    frames,
    /** A radio at (x, 0): 2.4 GHz page 0, or GB868 for pages 28-31. */
    radio: (eui64: string, x: number, channel = 11, page = 0) =>
      BusRadio.connect(new InProcessTransport(bus), {
        eui64,
        band: page === 0 ? '2.4GHz' : 'GB868',
        page,
        channel,
        position: { x, y: 0 },
      }),
    /** Device events of `eui64` of type `type`, with their time. */
    ev: (eui64: string, type: string): DeviceEvent[] =>
      device()
        .filter((e) => e.radio === eui64 && e.event.type === type)
        .map((e) => ({ t: e.t, ...e.event }) as DeviceEvent),
    /** Handlers that threw (the stack traces them as `unexpected-error` drops): must be none. */
    crashes: () => device().filter((e) => e.event.reason === 'unexpected-error'),
  };
}
