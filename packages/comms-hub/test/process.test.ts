/**
 * Process mode over a real WebSocket bus (in this test process for speed): the CH and an ESME
 * started through their kinds' process entry (`runKindProcess`), NVM in files, the CH's local
 * WAN endpoint.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MINUTE } from '@gbhan/clock';
import { esmeKind } from '@gbhan/meter';
import { RadioBus, startBusServer } from '@gbhan/radio-bus';
import { DeviceArgsError, parseDeviceArgs } from '@gbhan/runtime';
import { runKindProcess } from '@gbhan/stack';
import { appendInstallCodeCrc, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { commsHubKind } from '../src/index.js';

const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const CODE = toHex(appendInstallCodeCrc(Uint8Array.from({ length: 16 }, (_, i) => i * 7)));

describe('process entries', () => {
  it('parse arguments with typed errors', () => {
    expect(() => parseDeviceArgs([])).toThrow(DeviceArgsError);
    expect(() => parseDeviceArgs(['--bus', 'http://x', '--state', 's'])).toThrow(/ws:/);
    expect(() => parseDeviceArgs(['--bus', 'ws://x', '--state', 's', '--eui64', 'zz'])).toThrow(/EUI64/);
    expect(() =>
      parseDeviceArgs(['--bus', 'ws://x', '--state', 's', '--eui64', CH, '--config', '[1]']),
    ).toThrow(/JSON object/);
    expect(() => parseDeviceArgs(['--bus', 'ws://x', '--state', 's', '--bogus'])).toThrow(DeviceArgsError);
    const a = parseDeviceArgs([
      '--bus',
      'ws://x',
      '--state',
      's',
      '--spec',
      JSON.stringify({
        eui64: ESME,
        seed: 'q',
        type: 'esme',
        config: { loadW: 5 },
        peers: [{ id: 'hub', type: 'comms-hub', eui64: CH }],
      }),
      '--install-code',
      CODE,
    ]);
    expect(a).toMatchObject({
      eui64: ESME,
      seed: 'q',
      type: 'esme',
      config: { loadW: 5, installCode: CODE },
    });
  });

  it('run the CH and an ESME over WebSocket with file NVM and the WAN endpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-proc-'));
    const bus = new RadioBus({ seed: 3, expectRadios: 2 });
    const server = await startBusServer(bus);
    const spec = (type: string, eui64: string, x: number, config: Record<string, unknown>) =>
      JSON.stringify({
        id: type,
        type,
        eui64,
        registration: { eui64, band: '2.4GHz', page: 0, channel: 15, position: { x, y: 0 } },
        config,
        peers: [],
        seed: 'proc',
      });
    const wanPort = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const port = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });
    const hub = runKindProcess(commsHubKind, [
      '--bus',
      server.url,
      '--state',
      join(dir, 'ch.json'),
      '--wan-port',
      String(wanPort),
      '--spec',
      spec('comms-hub', CH, 0, { cbkeSuite: 1, panId: 0x2222, channels: [{ page: 0, channel: 15 }] }),
    ]);
    const esme = runKindProcess(esmeKind, [
      '--bus',
      server.url,
      '--state',
      join(dir, 'esme.json'),
      '--spec',
      spec('esme', ESME, 3, {
        cbkeSuite: 1,
        channels: [{ page: 0, channel: 15 }],
        chEui64: CH,
        installCode: CODE,
      }),
    ]);
    // the DCC logs the ESME through the WAN endpoint before time starts
    let added: Response | undefined;
    for (let i = 0; i < 50 && !added; i++) {
      try {
        added = await fetch(`http://127.0.0.1:${wanPort}/dcc`, {
          method: 'POST',
          body: JSON.stringify({
            action: 'update-device-log',
            op: 'add',
            eui64: ESME,
            deviceType: 'ESME',
            installCode: CODE,
          }),
        });
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(added?.status).toBe(200);
    expect(await added!.json()).toEqual({ requestId: 'dcc-1' });
    const bad = await fetch(`http://127.0.0.1:${wanPort}/dcc`, {
      method: 'POST',
      body: '{"action":"read-meter","target":"00124b00000000ff"}',
    });
    expect(bad.status).toBe(409);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('WAN_UNKNOWN_DEVICE');
    await bus.runUntil(2 * MINUTE);
    const status = (await (await fetch(`http://127.0.0.1:${wanPort}/status`)).json()) as {
      tunnels: Record<string, string>;
    };
    expect(status.tunnels[ESME]).toBe('open');
    await server.close();
    await Promise.all([hub, esme]);
    const chState = JSON.parse(readFileSync(join(dir, 'ch.json'), 'utf8')) as Record<string, unknown>;
    expect((chState['chf.deviceLog'] as { commissioned: boolean }[])[0]!.commissioned).toBe(true);
    const esmeState = JSON.parse(readFileSync(join(dir, 'esme.json'), 'utf8')) as Record<string, unknown>;
    expect(esmeState['app.cbkeDone']).toEqual([CH]);
    expect((esmeState['meter.metering'] as { summation: number }).summation).toBeGreaterThan(0);
  });
});
