/**
 * The MessagePort transport (message-port.ts): radios on MessagePorts get the same trace as
 * the same radios in-process, event for event; a bad message on a port is that radio's error
 * only; closing the bus closes the ports.
 */
import { MessageChannel } from 'node:worker_threads';
import { MILLISECOND, SECOND } from '@gbhan/clock';
import { describe, expect, it } from 'vitest';
import {
  attachMessagePort,
  BusRadio,
  type BusTraceEvent,
  type ClientTransport,
  InProcessTransport,
  MessagePortTransport,
  RadioBus,
} from '../src/index.js';
import { macDataFrame } from './frames.js';
import { eui } from './harness.js';

async function run(kind: 'in-process' | 'message-port'): Promise<BusTraceEvent[]> {
  const bus = new RadioBus({ seed: 5, expectRadios: 4, idleTimeoutMs: 10_000 });
  const trace: BusTraceEvent[] = [];
  bus.onTrace((e) => trace.push(e));
  const transport = (): ClientTransport => {
    if (kind === 'in-process') return new InProcessTransport(bus);
    const { port1, port2 } = new MessageChannel();
    attachMessagePort(bus, port1);
    return new MessagePortTransport(port2);
  };
  const radios = await Promise.all(
    [1, 2, 3, 4].map((n) =>
      BusRadio.connect(transport(), {
        eui64: eui(n),
        band: '2.4GHz',
        page: 0,
        channel: 11,
        position: { x: n * 3, y: 0 },
      }),
    ),
  );
  for (const [i, r] of radios.entries()) {
    let k = 0;
    const send = () => {
      void r.transmit(macDataFrame(k, 1, 0xffff, i, new Uint8Array(10 + i)));
      if (++k < 5) r.clock.setTimer(37 * MILLISECOND, send);
    };
    r.clock.setTimerAt((i + 1) * 3 * MILLISECOND, send);
    r.onReceive(() => r.trace({ type: 'heard', n: i }));
  }
  await bus.runUntil(SECOND);
  const closed = Promise.all(radios.map((r) => new Promise<void>((done) => r.onClose(() => done()))));
  bus.close();
  await closed;
  return trace;
}

describe('MessagePort transport', () => {
  it('gives the same trace as in-process', async () => {
    const inProcess = await run('in-process');
    const ports = await run('message-port');
    expect(inProcess.filter((e) => e.type === 'rx').length).toBeGreaterThan(40);
    expect(ports).toEqual(inProcess);
  });

  it('a malformed message is an error for that radio only', async () => {
    const bus = new RadioBus({ seed: 1 });
    const { port1, port2 } = new MessageChannel();
    attachMessagePort(bus, port1);
    const got = new Promise<unknown>((resolve) => port2.on('message', resolve));
    port2.postMessage({ type: 'hello', version: 1, eui64: 'nope' });
    const msg = (await got) as { type: string; code: string };
    expect(msg.type).toBe('error');
    expect(msg.code).toBe('BUS_MALFORMED');
    port2.close();
    bus.close();
  });
});
