/**
 * `gbhan run` refuses bad files with file, line and field, exit code 2; and a home commissions
 * on GB868 as on 2.4 GHz. (Every shipped scenario in-process vs --processes: shipped-scenarios.test.ts.)
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gbhan, malformedCount, ROOT, tsharkFields } from '@gbhan/testing';
import { describe, expect, it } from 'vitest';

describe('gbhan run', () => {
  it('refuses bad scenario files naming file, line and field, with exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-scn-'));
    const good = readFileSync(join(ROOT, 'scenarios/air-demo.yaml'), 'utf8');
    const cases: [string, string, RegExp][] = [
      [
        'yaml',
        good.replace('lossRate: 0.01', 'lossRate: [0.01'),
        /yaml\.yaml:\d+: invalid YAML.*\[SCENARIO_YAML\]/,
      ],
      [
        'type',
        good.replace('type: radio', 'type: kettle'),
        /type\.yaml:18: devices\.0\.type: unknown device type "kettle".*\[SCENARIO_UNKNOWN_DEVICE_TYPE\]/,
      ],
      [
        'action',
        good.replace('action: jam', 'action: jam-everything'),
        /action\.yaml:60: timeline\.0\.action: unknown action "jam-everything".*\[SCENARIO_UNKNOWN_ACTION\]/,
      ],
      [
        'eui64',
        good.replace('eui64: 00124b0000000010', 'eui64: 00124b00000000100'),
        /eui64\.yaml:22: devices\.2\.eui64: not an EUI64.*\[SCENARIO_BAD_EUI64\]/,
      ],
    ];
    for (const [name, text] of cases) writeFileSync(join(dir, `${name}.yaml`), text);
    const runs = await Promise.all(cases.map(([name]) => gbhan(['run', join(dir, `${name}.yaml`)])));
    for (const [i, [name, , message]] of cases.entries()) {
      expect(runs[i]!.code, name).toBe(2);
      expect(runs[i]!.out, name).toMatch(message);
    }
    const [missing, device] = await Promise.all([
      gbhan(['run', join(dir, 'missing.yaml')]),
      gbhan(['device', 'toaster', '--bus', 'ws://127.0.0.1:1']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/missing\.yaml: cannot read: .*\[SCENARIO_READ\]/);
    expect(device.code).toBe(2);
    expect(device.out).toMatch(/unknown device type toaster \(known: [a-z0-9, -]+\)/);
    for (const t of ['comms-hub', 'esme', 'gsme', 'ppmid', 'radio', 'hht', 'attacker'])
      expect(device.out.match(/\(known: ([^)]*)\)/)?.[1]?.split(', ')).toContain(t);
  });
});

describe('a GB868 home', () => {
  it('commissions the same home with the CH and every device on GB868 page 28', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-scn-'));
    const yaml = readFileSync(join(ROOT, 'scenarios/install-and-commission.yaml'), 'utf8')
      .replace(/^name: install-and-commission$/m, 'name: install-and-commission-gb868')
      .replace(/^ {4}channel: 15$/gm, '    channel: 3\n    band: GB868\n    page: 28')
      .replaceAll('channels: [{ page: 0, channel: 15 }]', 'channels: [{ page: 28, channel: 3 }]');
    const file = join(dir, 'gb868.yaml');
    writeFileSync(file, yaml);
    const r = await gbhan(['run', file, '--out', dir]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/install-and-commission-gb868\s+19\/19/);
    const pcap = join(dir, 'install-and-commission-gb868', 'capture.pcap');
    expect(new Set(tsharkFields(pcap, ['wpan-tap.ch_page']).map((x) => x[0]))).toEqual(new Set(['28']));
    expect(malformedCount(pcap)).toBe(0);
  });
});
