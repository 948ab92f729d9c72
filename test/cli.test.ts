/**
 * The two things a user runs from the README: the main job (`gbhan start` = `gbhan run
 * scenarios/`) and the bus server (`gbhan bus`), as real processes. The bus must flush its capture on SIGINT/SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MILLISECOND } from '@gbhan/clock';
import { BusRadio, WebSocketTransport } from '@gbhan/radio-bus';
import { malformedCount, tsharkFields } from '@gbhan/testing';
import { encodeMacFrame } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';

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
    expect(run.out()).toMatch(/install-and-commission\s+19\/19\s+14m00s\s+\d+\.\d\ds\s+\S+capture\.pcap/);
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
    // Every shipped scenario, street-100 among them: minutes on a busy 2-core machine.
  }, 600_000);
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
    type Status = { deviceLog: { eui64: string }[] };
    let status: Status | null = null;
    const add = {
      action: 'update-device-log',
      op: 'add',
      eui64: '00124b0000e5e5e5',
      deviceType: 'ESME',
      installCode: '112e4b6885a2bfdcf91633506d8aa7c43f5a',
    };
    // One request at a time until the endpoint is up and has taken it (firing one every poll
    // without waiting could pile hundreds of requests up on a loaded machine).
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await fetch(`${base}/dcc`, { method: 'POST', body: JSON.stringify(add) });
        const got = (await (await fetch(`${base}/status`)).json()) as Status;
        status = got;
        if (got.deviceLog.length > 0) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for the WAN endpoint');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status!.deviceLog.map((e) => e.eui64)).toEqual(['00124b0000e5e5e5']);
    const bad = await fetch(`${base}/dcc`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    // gbhan dcc send --hex: raw GBCS bytes reach the WAN side, which routes them by recipient.
    const { Dcc, remoteParties, deviceGbcsKeys } = await import('@gbhan/gbcs');
    const esmeKeys = deviceGbcsKeys('1', '00124b0000e5e5e5');
    const dcc = new Dcc({
      parties: remoteParties('1'),
      deviceKeys: () => ({ dsPublic: esmeKeys.ds.publicKey, kaPublic: esmeKeys.ka.publicKey }),
    });
    const built = dcc.command(
      '00124b0000e5e5e5',
      { useCase: 'CS01a', utrn: '00000000000001000500' },
      { nowUnixMs: 1 },
    );
    const hex = Buffer.from(built.bytes).toString('hex');
    const send = gbhan(['dcc', 'send', '--port', String(port), '--hex', hex]);
    // The ESME is logged but not attached: the command gets as far as the tunnel.
    expect(await send.exit).toBe(1);
    expect(send.out()).toContain('WAN_NO_TUNNEL');
    const notGbcs = gbhan(['dcc', 'send', '--port', String(port), '--hex', '0011']);
    expect(await notGbcs.exit).toBe(1);
    expect(notGbcs.out()).toContain('WAN_BAD_COMMAND');
    const badHex = gbhan(['dcc', 'send', '--port', String(port), '--hex', 'xyz']);
    expect(await badHex.exit).toBe(2);
    bus.proc.kill('SIGTERM');
    expect(await bus.exit).toBe(0);
    expect(await ch.exit).toBe(0);
  });
});

/**
 * Run gbhan and watch its memory: a child whose resident set passes `maxRssMb` is killed (code
 * null), so a regression to reading /dev/zero or building 10,000 devices fails the test instead
 * of the machine.
 */
function bounded(
  args: string[],
  o: { cwd?: string; maxRssMb?: number; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; killed: string | null }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [GBHAN, ...args], {
      cwd: o.cwd ?? new URL('..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed: string | null = null;
    proc.stdout!.on('data', (d) => {
      stdout += d;
    });
    proc.stderr!.on('data', (d) => {
      stderr += d;
    });
    const started = Date.now();
    const watch = setInterval(() => {
      let rssKb = 0;
      try {
        rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? 0);
      } catch {
        return; // exited
      }
      if (rssKb > (o.maxRssMb ?? 1024) * 1024) killed = `RSS ${Math.round(rssKb / 1024)} MB`;
      else if (Date.now() - started > (o.timeoutMs ?? 90_000)) killed = 'timeout';
      if (killed !== null) proc.kill('SIGKILL');
    }, 50);
    proc.on('exit', (code) => {
      clearInterval(watch);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

/** Exit 2 and exactly one line on stderr, matching `message`. */
function expectOneLine(r: Awaited<ReturnType<typeof bounded>>, message: RegExp, what: string): void {
  expect({ code: r.code, killed: r.killed }, `${what}: ${r.stderr}`).toEqual({ code: 2, killed: null });
  expect(r.stderr.trimEnd().split('\n'), what).toHaveLength(1);
  expect(r.stderr.trimEnd(), what).toMatch(message);
}

describe('gbhan refuses what it cannot run: one line on stderr, exit 2, bounded memory', () => {
  it('a device file, 10,000 devices, a duration of 11 million years, an alias bomb, times that never come, an event that does not exist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-limits-'));
    const many = join(dir, 'many.yaml');
    const devices = Array.from(
      { length: 10_000 },
      (_, i) =>
        `  - { id: r${i}, type: radio, eui64: ${(0x00124b0000000000n + BigInt(i + 1)).toString(16).padStart(16, '0')}, channel: 15, position: { x: ${i % 100}, y: ${Math.floor(i / 100)} } }\n`,
    ).join('');
    writeFileSync(many, `name: many\nduration: 1m\ndevices:\n${devices}`);
    const lol = join(dir, 'lol.yaml');
    const levels = 'abcdefghi'.split('');
    writeFileSync(
      lol,
      `name: lol\nduration: 1m\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${levels
        .slice(1)
        .map((l, i) => `${l}: &${l} [${Array(9).fill(`*${levels[i]}`).join(', ')}]\n`)
        .join('')}devices: *i\n`,
    );
    const late = join(dir, 'late.yaml');
    writeFileSync(
      late,
      'name: late\nduration: 1m\ndevices:\n  - { id: a, type: radio, eui64: 00124b0000000001, channel: 15, position: { x: 0, y: 0 } }\ntimeline:\n  - { at: 2m, device: a, action: send }\n',
    );
    const joinned = join(dir, 'joinned.yaml');
    writeFileSync(
      joinned,
      'name: joinned\nduration: 1m\ndevices:\n  - { id: a, type: radio, eui64: 00124b0000000001, channel: 15, position: { x: 0, y: 0 } }\nexpect:\n  - never: { type: device, radio: a, event: { type: joinned } }\n',
    );
    const runs = await Promise.all([
      bounded(['run', '/dev/zero']),
      bounded(['run', many]),
      bounded(['run', many, '--max-devices', '9999']),
      bounded(['run', 'scenarios/air-demo.yaml', '--duration', '99999999999h']),
      bounded(['run', 'scenarios/air-demo.yaml', '--max-duration', '30m']),
      bounded(['run', lol]),
      bounded(['run', late]),
      bounded(['run', many, '--max-file-size', '64K']),
      bounded(['run', joinned]),
    ]);
    const expected: [string, RegExp][] = [
      ['/dev/zero', /^gbhan: \/dev\/zero: a character device, not a regular file.*\[SCENARIO_READ\]$/m],
      [
        '10,000 devices',
        /many\.yaml:4: devices: 10000 devices, more than the 500 .*--max-devices\) \[SCENARIO_LIMIT\]/,
      ],
      ['--max-devices 9999', /more than the 9999 /],
      ['--duration', /^gbhan: --duration 99999999999h is longer than 168h00m00s.*--max-duration/],
      [
        '--max-duration',
        /air-demo\.yaml:\d+: duration: 1h00m00s is longer than 30m00s, .*\[SCENARIO_LIMIT\]/,
      ],
      ['alias bomb', /lol\.yaml:4: invalid YAML: aliases expand to too many nodes.*\[SCENARIO_YAML\]/],
      [
        'timeline after the end',
        /late\.yaml:6: timeline\.0\.at: 2m00s is after the end .*\[SCENARIO_BAD_TIME\]/,
      ],
      ['--max-file-size', /many\.yaml: larger than 64 KiB.*--max-file-size\) \[SCENARIO_LIMIT\]/],
      [
        'an expectation on an event that does not exist',
        /joinned\.yaml:6: expect\.0\.never\.event\.type: unknown device event type "joinned" .*\[SCENARIO_BAD_EVENT\]$/,
      ],
    ];
    for (const [i, [what, message]] of expected.entries()) expectOneLine(runs[i]!, message, what);
  }, 120_000);

  it('a port in use, --out naming a file, a bad or incomplete --spec, a bad option value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-oneline-'));
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    const eui64 = '00124b0000000001';
    const registration = { eui64, band: '2.4GHz', page: 0, channel: 15, position: { x: 0, y: 0 } };
    const device = (spec: string, type = 'radio') => [
      'device',
      type,
      '--bus',
      `ws://127.0.0.1:${port}`,
      '--state',
      join(dir, 's.json'),
      '--spec',
      spec,
    ];
    try {
      const runs = await Promise.all([
        bounded(['bus', '--port', String(port)]),
        bounded(['run', 'scenarios/air-demo.yaml', '--out', file]),
        bounded(device('{not json')),
        bounded(device(JSON.stringify({ eui64, seed: '1' }))),
        bounded(
          device(
            JSON.stringify({ eui64, seed: '1', registration: { ...registration, position: undefined } }),
          ),
        ),
        bounded(device(JSON.stringify({ eui64, seed: '1', registration, config: { period: '10s' } }))),
        bounded(['device', 'radio', '--bus', `ws://127.0.0.1:${port}`]),
        bounded(['run', 'scenarios/air-demo.yaml', '--max-devices', 'lots']),
      ]);
      const expected: [string, RegExp][] = [
        [
          'EADDRINUSE',
          new RegExp(
            `^gbhan: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(EADDRINUSE\\)$`,
          ),
        ],
        ['--out a file', /^gbhan: --out .*not-a-dir is not a directory$/],
        ['--spec not JSON', /^gbhan: --spec is not JSON: /],
        ['--spec without registration', /^gbhan: --spec: registration: required$/],
        ['--spec without position', /^gbhan: --spec: registration\.position: required$/],
        [
          '--spec with a config as written in a scenario',
          /^gbhan: --spec: config\.period: .*expected number/,
        ],
        ['no --state, --spec', /^gbhan: missing --state, --spec \(usage: gbhan device radio /],
        ['--max-devices lots', /^gbhan: --max-devices must be a whole number >= 1, got lots$/],
      ];
      for (const [i, [what, message]] of expected.entries()) expectOneLine(runs[i]!, message, what);
    } finally {
      busy.close();
    }
  }, 120_000);

  it('a missing required option or argument exits 2, as documented', async () => {
    const runs = await Promise.all([
      bounded(['optical', 'status']),
      bounded(['run']),
      bounded(['device']),
      bounded(['run', 'scenarios/air-demo.yaml', '--no-such-option']),
    ]);
    for (const [i, r] of runs.entries()) {
      expect(r.code, String(i)).toBe(2);
      expect(r.stderr, String(i)).toMatch(
        /^error: (required option|missing required argument|unknown option)/,
      );
    }
  });
});

describe('gbhan device --help', () => {
  it('prints every device type with its arguments and exits 0', async () => {
    for (const args of [
      ['device', '--help'],
      ['device', 'esme', '--help'],
    ]) {
      const r = await bounded(args);
      expect({ code: r.code, stderr: r.stderr }, args.join(' ')).toEqual({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^Usage: gbhan device <type> --bus <url> --state <file> --spec <json>/);
      expect(r.stdout).toMatch(/--optical-port <port>/);
    }
    const all = (await bounded(['device', '--help'])).stdout;
    for (const t of ['attacker', 'comms-hub', 'esme', 'gsme', 'hht', 'ppmid', 'radio'])
      expect(all).toMatch(new RegExp(`^  ${t} +\\S`, 'm'));
  });
});

describe('gbhan install-code', () => {
  it('prints a valid install code with its CRC; --seed repeats it; --check judges one', async () => {
    const [a, b, six, good, bad, badOption] = await Promise.all([
      bounded(['install-code', '--seed', 'home-7']),
      bounded(['install-code', '--seed', 'home-7']),
      bounded(['install-code', '--length', '6']),
      bounded(['install-code', '--check', '112e4b6885a2bfdcf91633506d8aa7c43f5a']),
      bounded(['install-code', '--check', '112e4b6885a2bfdcf91633506d8aa7c43f5b']),
      bounded(['install-code', '--length', '10']),
    ]);
    expect(a).toMatchObject({ code: 0, stdout: expect.stringMatching(/^[0-9a-f]{36}\n$/) });
    expect(b.stdout).toBe(a.stdout);
    expect(six.stdout).toMatch(/^[0-9a-f]{16}\n$/);
    const check = await bounded(['install-code', '--check', a.stdout.trim()]);
    expect(check).toMatchObject({ code: 0, stdout: expect.stringMatching(/^valid: 16-octet install code/) });
    expect(good.code).toBe(0);
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringMatching(/not a valid install code: .*crc/) });
    expect(badOption).toMatchObject({ code: 2, stderr: expect.stringMatching(/^gbhan: --length must be/) });
  });
});

describe('README commands work as shown', () => {
  const ROOT = new URL('..', import.meta.url).pathname;
  const readmes = [
    'README.md',
    ...readdirSync(join(ROOT, 'packages')).map((p) => `packages/${p}/README.md`),
  ].filter((f) => existsSync(join(ROOT, f)));
  /**
   * The self-contained commands of a README's sh blocks (comments cut): runs of one scenario in
   * processes (a run of the whole directory is the main job, tested above), install-code,
   * device --help and events. Servers, placeholders (PORT, FILE) and commands needing a running
   * meter are not run here.
   */
  const commands = (readme: string): string[] =>
    [...readFileSync(join(ROOT, readme), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)]
      .flatMap((m) => m[1]!.split('\n'))
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter((l) => /^(npx )?gbhan (run \S+\.yaml .*--processes|install-code|device --help|events)/.test(l));

  it('finds the process-mode run of README.md and packages/scenario/README.md', () => {
    for (const readme of ['README.md', 'packages/scenario/README.md'])
      expect(commands(readme).filter((c) => c.includes('--processes')).length, readme).toBeGreaterThan(0);
  });

  for (const readme of readmes) {
    const shown = commands(readme);
    if (shown.length === 0) continue;
    it(readme, async () => {
      for (const line of shown) {
        // exactly the arguments shown, from a directory that has the scenarios (outputs stay there)
        const cwd = mkdtempSync(join(tmpdir(), 'gbhan-readme-'));
        symlinkSync(join(ROOT, 'scenarios'), join(cwd, 'scenarios'));
        const args = line.replace(/^(npx )?gbhan /, '').split(/\s+/);
        const r = await bounded(args, { cwd, timeoutMs: 180_000 });
        expect({ code: r.code, killed: r.killed }, `${line}\n${r.stdout}${r.stderr}`).toEqual({
          code: 0,
          killed: null,
        });
        if (args[0] === 'run') expect(r.stdout).toMatch(/all 1 scenario\(s\) held every expectation/);
      }
    }, 400_000);
  }
});
