/**
 * The optical endpoint (`--optical-port`) on a real-time bus judges challenge lifetimes and
 * lockouts in bus time: the meter's clock moves only with the bus's messages, so while nothing
 * happens on the bus it would stand still; each request wakes the radio to the bus's instant.
 */
import type { AddressInfo } from 'node:net';
import { HOUR } from '@gbhan/clock';
import { BusRadio, type BusTraceEvent, InProcessTransport, RadioBus } from '@gbhan/radio-bus';
import { MemoryNvStore } from '@gbhan/stack';
import { toHex } from '@gbhan/zigbee';
import { afterEach, describe, expect, it } from 'vitest';
import { Esme, generateManufacturerKeyPair, ManufacturerTool, startOpticalEndpoint } from '../src/index.js';

const ESME = '00124b0000e5e5e5';
const KEY = generateManufacturerKeyPair();
const tool = new ManufacturerTool(KEY.secretKey);
/** x200: the 2-minute challenge lifetime is 0.6 s of wall time, the 5-minute lockout 1.5 s. */
const SPEED = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function meterOnRealTimeBus() {
  const bus = new RadioBus({ seed: 1, realTime: { speed: SPEED } });
  const trace: BusTraceEvent[] = [];
  bus.onTrace((e) => trace.push(e));
  const radio = await BusRadio.connect(new InProcessTransport(bus), {
    eui64: ESME,
    band: '2.4GHz',
    page: 0,
    channel: 15,
    position: { x: 0, y: 0 },
  });
  // No CH: one scan, then a join retry a day later - the bus is quiet after that.
  const esme = new Esme({
    radio,
    nvm: new MemoryNvStore(),
    seed: 'endpoint-1',
    config: {
      chEui64: '00124b0000c0ffee',
      installCode: '112e4b6885a2bfdcf91633506d8aa7c43f5a',
      channels: [{ page: 0, channel: 15 }],
      joinRetryUs: 24 * HOUR,
      manufacturerPublicKey: toHex(KEY.publicKey),
    },
  });
  const server = await startOpticalEndpoint(esme.triage, radio, 0);
  cleanups.push(() => bus.close());
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  void bus.runUntil(Number.POSITIVE_INFINITY);
  const joinRetry = () =>
    trace.some((e) => e.type === 'device' && (e.event as { type: string }).type === 'join-retry');
  for (let i = 0; i < 500 && !joinRetry(); i++) await sleep(10);
  expect(joinRetry()).toBe(true);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/optical`;
  const optical = async (command: string, signature?: string) => {
    const res = await fetch(url, {
      method: 'POST',
      body: JSON.stringify({ command, ...(signature === undefined ? {} : { signature }) }),
      headers: { 'content-type': 'application/json' },
    });
    return (await res.json()) as { ok: boolean; code?: string; challenge?: string };
  };
  const unlockNow = async () => {
    const c = await optical('challenge');
    expect(c).toMatchObject({ ok: true });
    return optical('unlock', tool.unlockResponse(ESME, String(c.challenge)));
  };
  /** Frames on the air since `from` (trace index). */
  const airSince = (from: number) => trace.slice(from).filter((e) => e.type === 'tx' || e.type === 'rx');
  return { bus, esme, trace, optical, unlockNow, airSince };
}

describe('optical endpoint on a real-time bus', () => {
  it('refuses an unlock whose challenge expired in wall-paced bus time while the bus was quiet', async () => {
    const m = await meterOnRealTimeBus();
    // A prompt unlock works (the key and the endpoint are right).
    expect(await m.unlockNow()).toMatchObject({ ok: true });
    expect(await m.optical('leave-facility')).toMatchObject({ ok: true });

    const from = m.trace.length;
    const c = await m.optical('challenge');
    expect(c.ok).toBe(true);
    await sleep((1.5 * 120_000) / SPEED); // 180 s of bus time: past the 2-minute lifetime
    const late = await m.optical('unlock', tool.unlockResponse(ESME, String(c.challenge)));
    expect(m.airSince(from)).toEqual([]); // nothing else happened on the bus meanwhile
    expect(late).toMatchObject({ ok: false, code: 'OPTICAL_CHALLENGE_EXPIRED' });
    expect(m.esme.triage.optical.unlocked).toBe(false);
    expect(await m.optical('reset-han')).toMatchObject({ ok: false, code: 'OPTICAL_LOCKED' });
  }, 30_000);

  it('ends a lockout once its time has passed in wall-paced bus time', async () => {
    const m = await meterOnRealTimeBus();
    const from = m.trace.length;
    // Three failed unlocks (no challenge): a 5-minute lockout.
    for (let i = 0; i < 3; i++)
      expect(await m.optical('unlock', '00'.repeat(64))).toMatchObject({ code: 'OPTICAL_NO_CHALLENGE' });
    expect(await m.optical('challenge')).toMatchObject({ ok: false, code: 'OPTICAL_RATE_LIMITED' });
    await sleep((1.3 * 300_000) / SPEED); // 390 s of bus time
    expect(m.airSince(from)).toEqual([]);
    expect(await m.unlockNow()).toMatchObject({ ok: true });
    expect(m.esme.triage.optical.unlocked).toBe(true);
  }, 30_000);
});
