/**
 * Device triage end to end (issue 7): `scenarios/reset-han-rejoin.yaml` in-process and with
 * `--processes` gives the same trace byte for byte and holds every expectation; the meter's
 * state file at the end keeps its registers and security log with the tamper entries; and
 * `gbhan optical` drives the optical port of a running meter process (`--optical-port`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RadioBus, startBusServer } from '@gbhan/radio-bus';
import { describe, expect, it } from 'vitest';
import { type OpticalCommandOptions, runOpticalCommand } from '../packages/scenario/src/optical-command.js';
import { gbhan, ROOT } from './support/gbhan.js';

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
    const [a, b] = await Promise.all([
      gbhan([...common, '--out', join(dir, 'in')]),
      gbhan([...common, '--out', join(dir, 'proc'), '--processes']),
    ]);
    expect(a.code, a.out).toBe(0);
    expect(b.code, b.out).toBe(0);
    const x = readFileSync(join(dir, 'in', 'reset-han-rejoin', 'trace.jsonl'));
    const y = readFileSync(join(dir, 'proc', 'reset-han-rejoin', 'trace.jsonl'));
    expect(x.equals(y)).toBe(true);
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
  it('unlocks with the run key, resets the HAN, relocks; refuses a replay and a locked reset', async () => {
    // Real-time pacing: the meter lives in wall-clock time while the tool talks to it.
    const radioBus = new RadioBus({ seed: 1, realTime: { speed: 1 }, expectRadios: 1 });
    const bus = await startBusServer(radioBus, { port: 0 });
    const running = radioBus.runUntil(3_600_000_000);
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-opt-'));
    const port = await freePort();
    const spec = {
      id: 'esme',
      type: 'esme',
      eui64: ESME,
      registration: { eui64: ESME, band: '2.4GHz', page: 0, channel: 15, position: { x: 0, y: 0 } },
      config: { chEui64: '00124b0000c0ffee', installCode: '112e4b6885a2bfdcf91633506d8aa7c43f5a' },
      peers: {},
      seed: 'opt-1',
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
      const wrongKey = await optical('unlock', { seed: 'another-run' });
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.out).toContain('OPTICAL_BAD_SIGNATURE');
      const ok = await gbhan(['optical', '--port', String(port), 'unlock', '--seed', 'opt-1']);
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
