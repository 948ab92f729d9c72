/**
 * What keeps a load bounded and a scenario sensible: the file read with a bound and only from
 * a regular file, the device count and duration limits (and the --max-* options that raise
 * them), YAML alias bombs, times that can never come; and the small commands next to `run`:
 * `gbhan install-code` and the argument checks of `gbhan device`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateInstallCode } from '@gbhan/zigbee';
import { beforeAll, describe, expect, it } from 'vitest';
import { deviceType, deviceTypes, loadScenario, parseScenario, ScenarioError } from '../src/index.js';

// The commands' modules are imported per block, so without them each test fails on its own
// rather than the whole file at import.
type RunCommand = typeof import('../src/run-command.js');
type InstallCode = typeof import('../src/install-code-command.js');
type DeviceCommand = typeof import('../src/device-command.js');

const radio = (i: number) =>
  `  - { id: r${i}, type: radio, eui64: ${(0x00124b0000000000n + BigInt(i)).toString(16).padStart(16, '0')}, channel: 15, position: { x: ${i}, y: 0 } }\n`;
const scenario = (devices: number, extra = '', duration = '2m') =>
  `name: limits\nduration: ${duration}\ndevices:\n${Array.from({ length: devices }, (_, i) => radio(i + 1)).join('')}${extra}`;

function refusal(f: () => unknown): ScenarioError {
  try {
    f();
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

const dir = mkdtempSync(join(tmpdir(), 'gbhan-limits-'));

describe('scenario files are read with a bound', () => {
  it('a file larger than the limit is SCENARIO_LIMIT naming --max-file-size; a raised limit loads it', () => {
    const file = join(dir, 'padded.yaml');
    // a valid scenario, padded with comments to just over 1 MiB
    const text = scenario(2);
    writeFileSync(file, text + `# ${'x'.repeat(98)}\n`.repeat(Math.ceil((1024 * 1024) / 100)));
    const e = refusal(() => loadScenario(file));
    expect(e).toMatchObject({ code: 'SCENARIO_LIMIT', line: null });
    expect(e.message).toMatch(/padded\.yaml: larger than 1 MiB.*--max-file-size/);
    expect(loadScenario(file, { maxFileBytes: 2 * 1024 * 1024 }).devices).toHaveLength(2);
    // exactly at the limit is fine
    writeFileSync(file, text.padEnd(4096, '\n'));
    expect(loadScenario(file, { maxFileBytes: 4096 }).devices).toHaveLength(2);
    expect(refusal(() => loadScenario(file, { maxFileBytes: 4095 })).code).toBe('SCENARIO_LIMIT');
  });

  it('refuses what is not a regular file (a device, a socket, a directory) without reading it', async () => {
    const e = refusal(() => loadScenario('/dev/null'));
    expect(e.code).toBe('SCENARIO_READ');
    expect(e.message).toMatch(/^\/dev\/null: a character device, not a regular file/);
    const sock = join(dir, 'scenario.yaml');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      expect(refusal(() => loadScenario(sock)).message).toMatch(
        /a socket, not a regular file: a scenario is a YAML file \[SCENARIO_READ\]$/,
      );
    } finally {
      server.close();
    }
    expect(refusal(() => loadScenario(tmpdir())).message).toMatch(/a directory, not a regular file/);
    expect(refusal(() => loadScenario(join(dir, 'missing.yaml'))).message).toMatch(/cannot read: ENOENT/);
  });
});

describe('limits of a scenario', () => {
  it('more devices than the limit: SCENARIO_LIMIT at `devices:`, naming --max-devices', () => {
    const text = scenario(501); // the default limit is 500
    const e = refusal(() => parseScenario(text, 'many.yaml'));
    expect({ code: e.code, line: e.line, field: e.field }).toEqual({
      code: 'SCENARIO_LIMIT',
      line: 4,
      field: 'devices',
    });
    expect(e.message).toMatch(/501 devices, more than the 500 .*--max-devices/);
    expect(parseScenario(text, 'many.yaml', { maxDevices: 501 }).devices).toHaveLength(501);
    expect(parseScenario(scenario(500), 'max.yaml').devices).toHaveLength(500);
  });

  it('a duration over the limit: SCENARIO_LIMIT at `duration:`, naming --max-duration', () => {
    for (const d of ['99999999999h', '8d', 604_800.001]) {
      const e = refusal(() => parseScenario(scenario(1, '', String(d)), 'long.yaml'));
      expect({ code: e.code, line: e.line, field: e.field }, String(d)).toEqual({
        code: 'SCENARIO_LIMIT',
        line: 2,
        field: 'duration',
      });
      expect(e.message).toMatch(/longer than 168h00m00s.*--max-duration/);
    }
    expect(parseScenario(scenario(1, '', '7d'), 'week.yaml').durationUs).toBe(604_800_000_000);
    expect(parseScenario(scenario(1, '', '8d'), 'x.yaml', { maxDurationUs: 8 * 86_400e6 }).durationUs).toBe(
      8 * 86_400e6,
    );
  });

  it('a YAML alias bomb is SCENARIO_YAML at the first alias, not a ReferenceError', () => {
    const bomb = [
      'name: lol',
      'duration: 1m',
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
      'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
      'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
      'devices: *i',
      '',
    ].join('\n');
    const e = refusal(() => parseScenario(bomb, 'lol.yaml'));
    expect({ code: e.code, line: e.line }).toEqual({ code: 'SCENARIO_YAML', line: 4 });
    expect(e.message).toMatch(/^lol\.yaml:4: invalid YAML: aliases expand to too many nodes/);
    // a few aliases, as a scenario might use them, are fine
    const anchors = `${scenario(1)}expect:\n  - event: &rx { type: rx }\n  - never: *rx\n    after: 1m\n`;
    expect(parseScenario(anchors, 'ok.yaml').expect).toHaveLength(2);
  });
});

describe('times that can never come are load errors with a line', () => {
  it('a timeline entry after the duration', () => {
    const text = scenario(
      1,
      'timeline:\n  - { at: 1m, device: r1, action: send }\n  - { at: 2m1s, device: r1, action: send }\n',
    );
    const e = refusal(() => parseScenario(text, 'late.yaml'));
    expect({ code: e.code, line: e.line, field: e.field }).toEqual({
      code: 'SCENARIO_BAD_TIME',
      line: 7,
      field: 'timeline.1.at',
    });
    expect(e.message).toMatch(/2m01s is after the end of the scenario \(duration 2m00s\)/);
    // at the very end is still in the run
    expect(parseScenario(text.replace('2m1s', '2m'), 'end.yaml').timeline).toHaveLength(2);
  });

  it('an expectation whose `after` is later than its `before`', () => {
    const text = scenario(1, 'expect:\n  - event: { type: tx }\n    after: 1m\n    before: 30s\n');
    const e = refusal(() => parseScenario(text, 'window.yaml'));
    expect({ code: e.code, line: e.line, field: e.field }).toEqual({
      code: 'SCENARIO_BAD_TIME',
      line: 7,
      field: 'expect.0.after',
    });
    expect(e.message).toMatch(/after 1m00s is later than before 30s/);
    expect(parseScenario(text.replace('30s', '1m'), 'w.yaml').expect[0]).toMatchObject({
      after: 60e6,
      before: 60e6,
    });
  });
});

describe('--max-* options', () => {
  let limitsFromOptions: RunCommand['limitsFromOptions'];
  let parseByteSize: RunCommand['parseByteSize'];
  beforeAll(async () => {
    ({ limitsFromOptions, parseByteSize } = await import('../src/run-command.js'));
  });

  it('parse into limits, and refuse values that are no limit', () => {
    expect(limitsFromOptions({})).toEqual({
      maxDevices: 500,
      maxDurationUs: 7 * 86_400e6,
      maxFileBytes: 2 ** 20,
    });
    expect(limitsFromOptions({ maxDevices: '10000', maxDuration: '30d', maxFileSize: '16M' })).toEqual({
      maxDevices: 10_000,
      maxDurationUs: 30 * 86_400e6,
      maxFileBytes: 16 * 2 ** 20,
    });
    expect([
      parseByteSize('4096'),
      parseByteSize('512KiB'),
      parseByteSize('2 MB'),
      parseByteSize('1g'),
    ]).toEqual([4096, 512 * 1024, 2 * 2 ** 20, 2 ** 30]);
    for (const o of [
      { maxDevices: '0' },
      { maxDevices: '2.5' },
      { maxDevices: 'many' },
      { maxDuration: '0s' },
      { maxDuration: '99999999999d' },
      { maxFileSize: '-1' },
      { maxFileSize: '1T' },
      { maxFileSize: '0' },
    ])
      expect(() => limitsFromOptions(o), JSON.stringify(o)).toThrow(
        expect.objectContaining({ name: 'CliError', message: expect.stringMatching(/^--max-/) }),
      );
  });
});

describe('gbhan install-code', () => {
  let runInstallCodeCommand: InstallCode['runInstallCodeCommand'];
  beforeAll(async () => {
    ({ runInstallCodeCommand } = await import('../src/install-code-command.js'));
  });
  const run = (o: Parameters<InstallCode['runInstallCodeCommand']>[0]) => {
    const out: string[] = [];
    const err: string[] = [];
    const { code } = runInstallCodeCommand(
      o,
      (l) => out.push(l),
      (l) => err.push(l),
    );
    return { code, out, err };
  };

  it('prints a code of the asked length with a valid CRC-16/X-25; --seed repeats it', () => {
    for (const length of [6, 8, 12, 16]) {
      const a = run({ length: String(length), seed: 'home-1' });
      expect(a.code).toBe(0);
      expect(a.out).toHaveLength(1);
      expect(a.out[0]).toMatch(new RegExp(`^[0-9a-f]{${2 * (length + 2)}}$`));
      expect(validateInstallCode(a.out[0]!)).toHaveLength(length + 2);
      expect(run({ length: String(length), seed: 'home-1' }).out).toEqual(a.out);
      expect(run({ length: String(length), seed: 'home-2' }).out).not.toEqual(a.out);
    }
    const random = run({});
    expect(random.out[0]).toHaveLength(36); // 16 octets + CRC by default
    expect(run({}).out).not.toEqual(random.out);
  });

  it('--check: 0 for a valid code (spaces and dashes allowed), 1 for a bad CRC or length, 2 for bad options', () => {
    const good = '112e4b6885a2bfdcf91633506d8aa7c43f5a'; // install-and-commission's ESME
    expect(run({ check: good })).toMatchObject({
      code: 0,
      out: [expect.stringMatching(/^valid: 16-octet .* 0x5a3f/)],
    });
    expect(run({ check: '112E 4B68-85A2 BFDC F916 3350 6D8A A7C4 3F5A' }).code).toBe(0);
    for (const bad of [`${good.slice(0, -1)}b`, good.slice(2), 'not hex'])
      expect(run({ check: bad }), bad).toMatchObject({
        code: 1,
        err: [expect.stringMatching(/not a valid install code/)],
      });
    expect(() => run({ length: '7' })).toThrow(/--length must be 6, 8, 12, 16/);
    expect(() => run({ check: good, seed: '1' })).toThrow(/--check .* without --length and --seed/);
  });
});

describe('gbhan device arguments', () => {
  let checkDeviceArgs: DeviceCommand['checkDeviceArgs'];
  let deviceHelp: DeviceCommand['deviceHelp'];
  let runDeviceCommand: DeviceCommand['runDeviceCommand'];
  beforeAll(async () => {
    ({ checkDeviceArgs, deviceHelp, runDeviceCommand } = await import('../src/device-command.js'));
  });
  const radioDef = deviceType('radio')!;
  const eui64 = '00124b0000000001';
  const spec = {
    id: 'a',
    type: 'radio',
    eui64,
    registration: { eui64, band: '2.4GHz', page: 0, channel: 15, position: { x: 0, y: 0 } },
    config: { period: 5_000_000 },
    peers: [],
    seed: '1',
  };
  const args = (s: unknown) => [
    '--bus',
    'ws://127.0.0.1:7454',
    '--state',
    's.json',
    '--spec',
    JSON.stringify(s),
  ];

  it('fills in the radio config defaults of a complete --spec', () => {
    const out = checkDeviceArgs('radio', radioDef, args(spec));
    expect(JSON.parse(out[5]!).config).toEqual({
      pan: 0x1a62,
      period: 5_000_000,
      frame: 'data-request',
      destination: 0,
      pendingAddresses: 0,
      ack: true,
    });
  });

  it('an incomplete or wrong --spec, or a missing option, is a one-line CliError naming the field', () => {
    const { registration, ...noRegistration } = spec;
    const cases: [string[], RegExp][] = [
      [args(noRegistration), /^--spec: registration: required$/],
      [
        args({ ...spec, registration: { ...registration, position: undefined } }),
        /^--spec: registration\.position: required$/,
      ],
      [args({ ...spec, eui64: undefined }), /^--spec: eui64: required$/],
      [args({ ...spec, config: { period: '5s' } }), /^--spec: config\.period: .*expected number/],
      [args({ ...spec, config: { colour: 'red' } }), /^--spec: config: .*colour/],
      [args({ ...spec, type: 'esme' }), /^--spec: type: "esme" is not radio$/],
      [args({ ...spec, eui64: '00124b0000000002' }), /^--spec: registration\.eui64: .* is not eui64/],
      [args([1, 2]), /^--spec: /],
      [['--bus', 'ws://x:1', '--state', 's', '--spec', '{"eui64":'], /^--spec is not JSON/],
      [['--bus', 'http://x:1', '--state', 's', '--spec', '{}'], /^--bus must be a ws:\/\/ URL/],
      [['--bus', 'ws://x:1'], /^missing --state, --spec \(usage: gbhan device radio/],
      [['--bus', 'ws://x:1', '--state', '--spec', '{}'], /^--state needs a value/],
    ];
    for (const [argv, message] of cases) {
      let err: Error | undefined;
      try {
        checkDeviceArgs('radio', radioDef, argv);
      } catch (e) {
        err = e as Error;
      }
      expect(err?.name, argv.join(' ')).toBe('CliError');
      expect(err?.message, argv.join(' ')).toMatch(message);
      expect(err?.message).not.toContain('\n');
    }
  });

  it('--help lists every device type with its description and its own options', async () => {
    const help = deviceHelp();
    for (const t of deviceTypes()) expect(help).toContain(`  ${t.padEnd(10)} ${deviceType(t)!.description}`);
    expect(help).toMatch(/--bus <url>[\s\S]*--state <file>[\s\S]*--spec <json>/);
    expect(help).toMatch(/comms-hub .*\n\s+--wan-port <port>/);
    expect(help).toMatch(/esme .*\n\s+--optical-port <port>/);
    const lines: string[] = [];
    expect(await runDeviceCommand('--help', [], (l) => lines.push(l))).toBe(false);
    expect(await runDeviceCommand('esme', ['--help'], (l) => lines.push(l))).toBe(false);
    expect(lines[1]).toMatch(/Device type:\n {2}esme /);
  });
});
