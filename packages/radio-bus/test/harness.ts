/** Test harness: a bus and in-process radios with their traces collected. */

import type { RadioRegistration, ReceivedFrame } from '../src/client.js';
import {
  BusRadio,
  type BusRadio as BusRadioType,
  InProcessTransport,
  RadioBus,
  type RadioBusConfig,
} from '../src/index.js';
import type { BusTraceEvent } from '../src/trace.js';

export interface TestRadio {
  radio: BusRadioType;
  received: (ReceivedFrame & { at: number })[];
}

export function eui(n: number): string {
  return n.toString(16).padStart(16, '0');
}

/** The `hello` of radio `n` on 2.4 GHz channel 11 at the origin, `over` changing or adding fields. */
export function helloOf(n: number, over: Record<string, unknown> = {}) {
  return {
    type: 'hello' as const,
    version: 1,
    eui64: eui(n),
    band: '2.4GHz' as const,
    page: 0,
    channel: 11,
    position: { x: 0, y: 0 },
    ...over,
  };
}

export async function makeBus(config: RadioBusConfig = {}) {
  const bus = new RadioBus({ seed: 7, ...config });
  const trace: BusTraceEvent[] = [];
  bus.onTrace((e) => trace.push(e));
  const add = async (n: number, reg: Partial<RadioRegistration> = {}): Promise<TestRadio> => {
    const radio = await BusRadio.connect(new InProcessTransport(bus), {
      eui64: eui(n),
      band: '2.4GHz',
      page: 0,
      channel: 11,
      position: { x: 0, y: 0 },
      ...reg,
    });
    const t: TestRadio = { radio, received: [] };
    radio.onReceive((f) => {
      t.received.push({ ...f, at: radio.clock.now() });
    });
    return t;
  };
  const drops = (reason?: string) =>
    trace.filter(
      (e): e is Extract<BusTraceEvent, { type: 'drop' }> =>
        e.type === 'drop' && (reason === undefined || e.reason === reason),
    );
  return { bus, trace, add, drops };
}

/** Schedule a transmission of `psdu` at virtual time `at` on this radio. */
export function txAt(r: TestRadio, at: number, psdu: Uint8Array) {
  return new Promise<Awaited<ReturnType<BusRadioType['transmit']>>>((resolve) => {
    r.radio.clock.setTimerAt(at, () => {
      r.radio.transmit(psdu).then(resolve);
    });
  });
}
