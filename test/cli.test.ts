/**
 * The two things a user runs from the README: the main job (`gbhan start` = `gbhan run
 * scenarios/`) and the bus server (`gbhan bus`), as real processes. The bus must flush its capture on SIGINT/SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MILLISECOND } from '@gbhan/clock';
import { BusRadio, WebSocketTransport } from '@gbhan/radio-bus';
import { encodeMacFrame } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { malformedCount, tsharkFields } from './support/tshark.js';

const GBHAN = new URL('../packages/scenario/bin/gbhan.js', import.meta.url).pathname;

function gbhan(args: string[]): { proc: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const proc = spawn(process.execPath, [GBHAN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    out += d;
  });
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, out: () => out, exit };
}

async function waitFor(pred: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('gbhan start (the main job: gbhan run scenarios/)', () => {
  it('runs every scenario, prints the summary table, writes captures tshark reads cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-start-'));
    const run = gbhan(['start', '--out', dir]);
    expect(await run.exit, run.out()).toBe(0);
    expect(run.out()).toMatch(/scenario\s+expectations\s+simulated\s+wall\s+capture/);
    expect(run.out()).toMatch(/air-demo\s+8\/8\s+1h00m00s\s+\d+\.\d\ds\s+\S+air-demo\/capture\.pcap/);
    expect(run.out()).toMatch(/install-and-commission\s+17\/17\s+14m00s\s+\d+\.\d\ds\s+\S+capture\.pcap/);
    expect(run.out()).toMatch(/meter-crash-restart\s+10\/10\s+9m00s\s+\d+\.\d\ds\s+\S+capture\.pcap/);
    const scenarios = readdirSync(new URL('../scenarios', import.meta.url).pathname).filter((f) =>
      f.endsWith('.yaml'),
    ).length;
    expect(run.out()).toMatch(new RegExp(`all ${scenarios} scenario\\(s\\) held every expectation`));
    const pcap = join(dir, 'air-demo', 'capture.pcap');
    expect(malformedCount(pcap)).toBe(0);
    expect(malformedCount(join(dir, 'air-demo', 'capture-fcs.pcap'))).toBe(0);
    const pages = new Set(tsharkFields(pcap, ['wpan-tap.ch_page']).map((r) => r[0]));
    expect(pages).toEqual(new Set(['0', '28']));
    const summary = JSON.parse(readFileSync(join(dir, 'air-demo', 'summary.json'), 'utf8'));
    expect(summary.drops['out-of-range']).toBeGreaterThan(0);
    expect(summary.drops.jammed).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'air-demo', 'trace.jsonl'), 'utf8').split('\n').length).toBeGreaterThan(
      1000,
    );
  });
});

describe('gbhan bus', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`serves devices over WebSocket and flushes captures on ${signal}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gbhan-bus-'));
      const pcap = join(dir, 'bus.pcap');
      const trace = join(dir, 'bus.jsonl');
      const bus = gbhan([
        'bus',
        '--port',
        '0',
        '--expect',
        '2',
        '--pcap',
        pcap,
        '--pcap-fcs',
        join(dir, 'fcs.pcap'),
        '--trace',
        trace,
      ]);
      await waitFor(() => /listening on (ws:\/\/\S+)/.test(bus.out()));
      const url = /listening on (ws:\/\/\S+)/.exec(bus.out())![1]!;
      const reg = (n: number) => ({
        eui64: `00000000000000${String(n).padStart(2, '0')}`,
        band: '2.4GHz' as const,
        page: 0,
        channel: 17,
        position: { x: n, y: 0 },
      });
      const a = await BusRadio.connect(new WebSocketTransport(url), reg(1));
      let n = 0;
      const send = () => {
        const psdu = encodeMacFrame(
          {
            frameType: 'command',
            sequenceNumber: n,
            framePending: false,
            ackRequest: false,
            panIdCompression: false,
            frameVersion: 0,
            destinationPan: 0xffff,
            destination: 0xffff,
            command: { id: 'beaconRequest' },
          },
          { fcs: true },
        );
        void a.transmit(psdu);
        if (++n < 25) a.clock.setTimer(100 * MILLISECOND, send);
      };
      a.clock.setTimerAt(MILLISECOND, send);
      const b = await BusRadio.connect(new WebSocketTransport(url), reg(2));
      let heard = 0;
      b.onReceive(() => {
        heard++;
      });
      await waitFor(() => heard === 25).catch((e) => {
        throw new Error(`${e.message}: heard ${heard}; bus said: ${bus.out()}`);
      });
      bus.proc.kill(signal);
      expect(await bus.exit).toBe(0);
      expect(bus.out()).toMatch(/bus stopped \(SIG(INT|TERM)\)/);
      expect(tsharkFields(pcap, ['wpan-tap.ch_num', 'wpan.cmd']).length).toBe(25);
      expect(malformedCount(pcap)).toBe(0);
      expect(
        readFileSync(trace, 'utf8')
          .trim()
          .split('\n')
          .filter((l) => l.includes('"type":"rx"')),
      ).toHaveLength(25);
    });
  }

  it('refuses bad options and bad medium files with a clear message and exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-bus-'));
    const medium = join(dir, 'medium.yaml');
    writeFileSync(medium, 'walls:\n  - from: [0, 0]\n    to: [1]\n');
    const cases: [string[], RegExp][] = [
      [['bus', '--port', 'http'], /--port must be an integer/],
      [['bus', '--speed', '-3'], /--speed must be a positive number/],
      [['bus', '--zep'], /--zep .* --real-time/],
      [['bus', '--until', 'soon'], /not a duration/],
      [['bus', '--medium', medium], /medium\.yaml: medium config: walls\.0\.to/],
      [['bus', '--medium', join(dir, 'missing.yaml')], /cannot read --medium/],
    ];
    for (const [args, message] of cases) {
      const run = gbhan(args);
      expect(await run.exit, args.join(' ')).toBe(2);
      expect(run.out()).toMatch(message);
    }
  });
});

describe('gbhan device comms-hub --wan-port', () => {
  it('serves a local JSON endpoint that plays the DCC', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-wan-'));
    const bus = gbhan(['bus', '--port', '0', '--expect', '1']);
    await waitFor(() => /listening on (ws:\/\/\S+)/.test(bus.out()));
    const url = /listening on (ws:\/\/\S+)/.exec(bus.out())![1]!;
    const eui64 = '00124b0000c0ffee';
    const spec = {
      id: 'ch',
      type: 'comms-hub',
      eui64,
      registration: { eui64, band: '2.4GHz', page: 0, channel: 15, position: { x: 0, y: 0 } },
      config: { panId: 0x1a62, channels: [{ page: 0, channel: 15 }] },
      peers: [{ id: 'ch', type: 'comms-hub', eui64 }],
      seed: '1',
    };
    const port = 20000 + Math.floor(Math.random() * 20000);
    const ch = gbhan([
      'device',
      'comms-hub',
      '--bus',
      url,
      '--state',
      join(dir, 'ch.json'),
      '--spec',
      JSON.stringify(spec),
      '--wan-port',
      String(port),
    ]);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(() => bus.out().includes(`attach ${eui64}`));
    let status: { deviceLog: { eui64: string }[] } | null = null;
    const add = {
      action: 'update-device-log',
      op: 'add',
      eui64: '00124b0000e5e5e5',
      deviceType: 'ESME',
      installCode: '112e4b6885a2bfdcf91633506d8aa7c43f5a',
    };
    await waitFor(() => {
      void fetch(`${base}/dcc`, { method: 'POST', body: JSON.stringify(add) })
        .then(() => fetch(`${base}/status`))
        .then((r) => r.json())
        .then((j) => {
          status = j as typeof status;
        })
        .catch(() => {});
      return status !== null && status.deviceLog.length > 0;
    });
    expect(status!.deviceLog.map((e) => e.eui64)).toEqual(['00124b0000e5e5e5']);
    const bad = await fetch(`${base}/dcc`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    bus.proc.kill('SIGTERM');
    expect(await bus.exit).toBe(0);
    expect(await ch.exit).toBe(0);
  });
});
