/**
 * Device triage end to end: `scenarios/reset-han-rejoin.yaml` in-process and with
 * `--processes` gives the same trace byte for byte and holds every expectation; the meter's
 * state file at the end keeps its registers and security log with the tamper entries; each
 * run has its own random manufacturer key, written to its output directory and absent from
 * its trace; and `gbhan optical` drives the optical port of a running meter process
 * (`--optical-port`) with a key file.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateManufacturerKeyPair,
  MANUFACTURER_PUBLIC_KEY_FILE,
  MANUFACTURER_SECRET_KEY_FILE,
  writeManufacturerKeyFiles,
} from '@gbhan/meter';
import { RadioBus, startBusServer } from '@gbhan/radio-bus';
import { gbhan, ROOT } from '@gbhan/testing';
import { describe, expect, it } from 'vitest';
import { type OpticalCommandOptions, runOpticalCommand } from '../packages/scenario/src/optical-command.js';

const GBHAN = join(ROOT, 'packages/scenario/bin/gbhan.js');
const ESME = '00124b0000e5e5e5';

/** A long-running gbhan process (the meter) that the test stops. */
function gbhanProcess(args: string[]): { done: Promise<number | null>; kill: () => void } {
  const proc = spawn(process.execPath, [GBHAN, ...args], { cwd: ROOT, stdio: 'ignore' });
  return { done: new Promise((resolve) => proc.on('exit', resolve)), kill: () => proc.kill('SIGTERM') };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

describe('reset-han-rejoin scenario', () => {
  it('holds every expectation in-process and with --processes, with the same trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-rh-'));
    const common = ['run', 'scenarios/reset-han-rejoin.yaml'];
    // The process run is given a manufacturer key; the in-process run makes its own.
    const given = generateManufacturerKeyPair();
    const keyFile = join(dir, 'my-manufacturer-key.hex');
    writeFileSync(keyFile, `${Buffer.from(given.secretKey).toString('hex')}\n`, { mode: 0o600 });
    const [a, b] = await Promise.all([
      gbhan([...common, '--out', join(dir, 'in')]),
      gbhan([...common, '--out', join(dir, 'proc'), '--processes', '--manufacturer-key-file', keyFile]),
    ]);
    expect(a.code, a.out).toBe(0);
    expect(b.code, b.out).toBe(0);
    const x = readFileSync(join(dir, 'in', 'reset-han-rejoin', 'trace.jsonl'));
    const y = readFileSync(join(dir, 'proc', 'reset-han-rejoin', 'trace.jsonl'));
    expect(x.equals(y)).toBe(true);
    // Different keys, the same trace (the unlocks used each run's key): nothing derived from
    // the key is in it. The in-process run made its key: public key and owner-only secret in
    // its output directory; the process run used the given one and wrote only its public key.
    const out = (run: string, file: string) => join(dir, run, 'reset-han-rejoin', file);
    const made = readFileSync(out('in', MANUFACTURER_SECRET_KEY_FILE), 'utf8').trim();
    expect(made).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(out('in', MANUFACTURER_SECRET_KEY_FILE)).mode & 0o777).toBe(0o600);
    const madePublic = readFileSync(out('in', MANUFACTURER_PUBLIC_KEY_FILE), 'utf8').trim();
    expect(madePublic).toMatch(/^0[23][0-9a-f]{64}$/);
    const givenPublic = Buffer.from(given.publicKey).toString('hex');
    expect(readFileSync(out('proc', MANUFACTURER_PUBLIC_KEY_FILE), 'utf8').trim()).toBe(givenPublic);
    expect(() => statSync(out('proc', MANUFACTURER_SECRET_KEY_FILE))).toThrow();
    expect(madePublic).not.toBe(givenPublic);
    const text = x.toString('utf8');
    for (const k of [made, madePublic, givenPublic, Buffer.from(given.secretKey).toString('hex')])
      expect(text).not.toContain(k);
    const state = JSON.parse(
      readFileSync(join(dir, 'proc', 'reset-han-rejoin', 'state', 'esme.json'), 'utf8'),
    );
    // The new HAN: CH-B in the meter's Device Log; the security log kept the tamper entries.
    expect(state['meter.deviceLog']).toEqual([{ eui64: '00124b0000c0ffe2', type: 'CHF' }]);
    const log = state['stack.securityLog'] as { event: string }[];
    expect(log.filter((e) => e.event === 'reset-han-attempt')).toHaveLength(3);
    expect(state['meter.metering']).toBeDefined();
  }, 60_000);
});

describe('gbhan optical against a running meter process', () => {
  it('unlocks with the key file, resets the HAN, relocks; refuses another key, a replay and a locked reset', async () => {
    // Real-time pacing: the meter lives in wall-clock time while the tool talks to it.
    const radioBus = new RadioBus({ seed: 1, realTime: { speed: 1 }, expectRadios: 1 });
    const bus = await startBusServer(radioBus, { port: 0 });
    const running = radioBus.runUntil(3_600_000_000);
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-opt-'));
    const port = await freePort();
    // The manufacturer key a run would write (out/<scenario>/); the meter gets its public half.
    const key = writeManufacturerKeyFiles(dir, generateManufacturerKeyPair(), true);
    const publicKey = readFileSync(key.publicKey, 'utf8').trim();
    const spec = {
      id: 'esme',
      type: 'esme',
      eui64: ESME,
      registration: { eui64: ESME, band: '2.4GHz', page: 0, channel: 15, position: { x: 0, y: 0 } },
      config: { chEui64: '00124b0000c0ffee', installCode: '112e4b6885a2bfdcf91633506d8aa7c43f5a' },
      peers: {},
      seed: 'opt-1',
      manufacturer: { publicKey },
    };
    const device = gbhanProcess([
      'device',
      'esme',
      '--bus',
      bus.url,
      '--state',
      join(dir, 'esme.json'),
      '--spec',
      JSON.stringify(spec),
      '--optical-port',
      String(port),
    ]);
    try {
      // The tool's library call (what `gbhan optical` runs), to spare a process per step; the
      // command line itself is run for the unlock below.
      const optical = async (command: string, opts: Partial<OpticalCommandOptions> = {}) => {
        const lines: string[] = [];
        const { code } = await runOpticalCommand(command, { port: String(port), ...opts }, (l) =>
          lines.push(l),
        );
        return { code, out: lines.join('\n') };
      };
      for (let i = 0; ; i++) {
        try {
          await optical('status');
          break;
        } catch (e) {
          if (i > 150) throw e;
          await new Promise((res) => setTimeout(res, 100));
        }
      }
      const locked = await optical('reset-han');
      expect(locked.code, locked.out).toBe(1);
      expect(locked.out).toContain('OPTICAL_LOCKED');
      const other = Buffer.from(generateManufacturerKeyPair().secretKey).toString('hex');
      const wrongKey = await optical('unlock', { manufacturerKey: other });
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.out).toContain('OPTICAL_BAD_SIGNATURE');
      // No key, or a key file that is not one: bad options (CliError: exit 2), nothing sent.
      await expect(optical('unlock')).rejects.toMatchObject({ name: 'CliError', message: /--key-file/ });
      await expect(optical('unlock', { keyFile: key.publicKey })).rejects.toMatchObject({
        name: 'CliError',
        message: /64 hex digits/,
      });
      const ok = await gbhan(['optical', '--port', String(port), 'unlock', '--key-file', key.secretKey!]);
      expect(ok.code, ok.out).toBe(0);
      // the challenge was used: any value presented again is refused
      const replay = await optical('unlock', { signature: '00'.repeat(64) });
      expect(replay.out).toContain('OPTICAL_NO_CHALLENGE');
      const reset = await optical('reset-han');
      expect(reset.code, reset.out).toBe(0);
      expect(reset.out).toContain('"changed"');
      expect((await optical('leave-facility')).code).toBe(0);
      expect((await optical('reset-han')).out).toContain('OPTICAL_LOCKED');
      const bad = await gbhan(['optical', '--port', '0', 'status']);
      expect(bad.code).toBe(2);
    } finally {
      device.kill();
      await device.done;
      await bus.close();
      radioBus.close();
      void running;
    }
  }, 60_000);
});
