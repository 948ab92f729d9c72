/**
 * `--threads N`: several devices to a worker thread, each on its own MessagePort. The runs of
 * the shipped scenarios (test/shipped-scenarios.test.ts) show the outputs are the same as
 * in-process; here, what the runner relies on: each device's own exit (0 when it has left the
 * bus, 1 with the reason when it failed) while its thread-mates go on, a kill ending just that
 * device, and the command line refusing bad counts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachMessagePort, RadioBus } from '@gbhan/radio-bus';
import { afterEach, describe, expect, it } from 'vitest';
import { DEVICE_WORKER, DeviceThreads, deviceSpecs, GBHAN_BIN, parseScenario } from '../src/index.js';

/** `gbhan <args>` as a user runs it: exit code and everything it printed. */
function gbhan(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [GBHAN_BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const dir = mkdtempSync(join(tmpdir(), 'gbhan-threads-'));
const scenario = parseScenario(
  [
    'name: threads',
    'duration: 1m',
    'devices:',
    '  - { id: a, type: radio, eui64: 00124b0000000001, channel: 15, position: { x: 0, y: 0 } }',
    '  - { id: b, type: radio, eui64: 00124b0000000002, channel: 15, position: { x: 1, y: 0 } }',
    '',
  ].join('\n'),
  'threads.yaml',
);
const [specA, specB] = deviceSpecs(scenario, '1');
const argv = (id: string, spec: unknown) => [
  '--state',
  join(dir, `${id}.json`),
  '--spec',
  JSON.stringify(spec),
];

let threads: DeviceThreads | null = null;
afterEach(async () => {
  await threads?.close();
  threads = null;
});

describe('DeviceThreads', () => {
  it('a device with a bad spec fails alone with its reason; its thread-mate stays on the bus until killed', async () => {
    const bus = new RadioBus({ seed: 1, expectRadios: 1, idleTimeoutMs: 60_000 });
    threads = new DeviceThreads(DEVICE_WORKER, 1);
    const attached = new Promise<void>((resolve) =>
      bus.onTrace((e) => {
        if (e.type === 'attach') resolve();
      }),
    );
    const good = threads.start('a', 'radio', argv('a', specA), () => {});
    attachMessagePort(bus, good.port);
    let stderr = '';
    const bad = threads.start('b', 'radio', argv('b', { ...specB, registration: undefined }), (t) => {
      stderr += t;
    });
    attachMessagePort(bus, bad.port);
    expect(await bad.device.exit).toBe(1);
    expect(stderr).toMatch(/--spec: registration/);
    await attached;
    expect(good.device.exitCode).toBeNull();
    good.device.kill();
    expect(await good.device.exit).toBe(0);
    bus.close();
  }, 60_000);

  it('an unknown device type fails with its name; closing ends the threads and the devices still in them', async () => {
    threads = new DeviceThreads(DEVICE_WORKER, 2);
    let stderr = '';
    const unknown = threads.start('x', 'toaster', argv('x', specA), (t) => {
      stderr += t;
    });
    expect(await unknown.device.exit).toBe(1);
    expect(stderr).toMatch(/unknown device type toaster/);
    // Never attached to a bus: it waits for its registration answer until the thread ends.
    const waiting = threads.start('a', 'radio', argv('a', specA), () => {});
    await threads.close();
    expect(await waiting.device.exit).toBe(0);
  }, 60_000);

  it('refuses a thread count that is not a whole number >= 1', () => {
    expect(() => new DeviceThreads(DEVICE_WORKER, 0)).toThrow(RangeError);
    expect(() => new DeviceThreads(DEVICE_WORKER, 1.5)).toThrow(RangeError);
  });
});

describe('gbhan run --threads', () => {
  it('refuses a bad count and --processes with exit 2 and one line', () => {
    const zero = gbhan(['run', 'scenarios/air-demo.yaml', '--threads', '0', '--out', dir]);
    expect(zero.code).toBe(2);
    expect(zero.out).toMatch(/--threads must be a whole number from 1 to 1024, got 0/);
    const both = gbhan(['run', 'scenarios/air-demo.yaml', '--threads', '2', '--processes', '--out', dir]);
    expect(both.code).toBe(2);
    expect(both.out).toMatch(/not with --processes/);
  }, 60_000);
});
