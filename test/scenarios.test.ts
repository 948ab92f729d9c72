/**
 * Scenarios end to end: the same scenario in-process and with every device in its own
 * process over the WebSocket bus gives the same trace and capture, byte for byte (the air demo
 * with plain radios, and a home commissioned on the real stack, whose key file lets tshark
 * decrypt the capture); and `gbhan run` refuses bad files with file, line and field, exit code 2.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { differingOutputs, gbhan, ROOT } from './support/gbhan.js';
import { malformedCount, tsharkFields } from './support/tshark.js';

describe('gbhan run', () => {
  it('gives identical traces and captures in-process and with --processes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-scn-'));
    const common = ['run', 'scenarios/air-demo.yaml', '--duration', '2m'];
    const [a, b] = await Promise.all([
      gbhan([...common, '--out', join(dir, 'in')]),
      gbhan([...common, '--out', join(dir, 'proc'), '--processes']),
    ]);
    // The expectations are written for the full hour: some fail on two minutes (exit 1).
    expect(a.code, a.out).toBe(1);
    expect(b.code, b.out).toBe(1);
    expect(a.out).toMatch(/seed 1, in-process\): \d\/8/);
    expect(b.out).toMatch(/seed 1, processes\): \d\/8/);
    for (const f of ['trace.jsonl', 'capture.pcap']) {
      const x = readFileSync(join(dir, 'in', 'air-demo', f));
      const y = readFileSync(join(dir, 'proc', 'air-demo', f));
      expect(x.length).toBeGreaterThan(1000);
      expect(x.equals(y), f).toBe(true);
    }
    expect(malformedCount(join(dir, 'proc', 'air-demo', 'capture.pcap'))).toBe(0);
  });

  it('commissions a home on the real stack, in-process and with --processes, with a key file that decrypts the capture', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-scn-'));
    const common = ['run', 'scenarios/install-and-commission.yaml'];
    const [a, b] = await Promise.all([
      gbhan([...common, '--out', join(dir, 'in')]),
      gbhan([...common, '--out', join(dir, 'proc'), '--processes']),
    ]);
    expect(a.code, a.out).toBe(0);
    expect(b.code, b.out).toBe(0);
    expect(a.out).toMatch(/install-and-commission\s+17\/17\s+14m00s/);
    expect(differingOutputs(dir, 'install-and-commission', ['trace.jsonl', 'capture.pcap', 'keys'])).toEqual(
      [],
    );
    const out = join(dir, 'in', 'install-and-commission');
    const keys = readFileSync(join(out, 'keys'), 'utf8').trim().split('\n');
    // the network key, four install-code link keys (one logged wrongly), four suite-2 CBKE link
    // keys (3 with the CH, PPMID-ESME), the PPMID-ESME partner key from the Trust Centre
    expect(keys.filter((l) => l.includes('kind=network'))).toHaveLength(1);
    expect(keys.filter((l) => l.includes('origin=install-code'))).toHaveLength(4);
    expect(keys.filter((l) => l.includes('origin=cbke') && l.includes('suite=2'))).toHaveLength(4);
    expect(keys.filter((l) => l.includes('origin=partner'))).toHaveLength(1);
    for (const l of keys) expect(l).toMatch(/^"[0-9a-f]{32}","Normal","[^"]+"$/);
    const pcap = join(out, 'capture.pcap');
    const keyOpts = keys.flatMap((l) => ['-o', `uat:zigbee_pc_keys:${l}`]);
    expect(tsharkFields(pcap, ['zbee_aps.cluster'], ['-Y', 'zbee_zcl'])).toHaveLength(0);
    const clusters = new Set(
      tsharkFields(pcap, ['zbee_aps.cluster'], [...keyOpts, '-Y', 'zbee_zcl']).map((r) => r[0]),
    );
    // Key Establishment, Metering, Prepayment, Tunneling, Events (the GSME's alerts to the
    // GPF): readable only with the key file
    expect(clusters).toEqual(new Set(['0x0800', '0x0702', '0x0705', '0x0704', '0x0709']));
    expect(malformedCount(pcap, keyOpts)).toBe(0);
    // Every NWK- and APS-secured frame decrypts with the key file, and none without it.
    expect(tsharkFields(pcap, ['frame.number'], ['-Y', 'zbee_sec.encrypted_payload']).length).toBeGreaterThan(
      100,
    );
    expect(
      tsharkFields(pcap, ['frame.number'], [...keyOpts, '-Y', 'zbee_sec.encrypted_payload']),
    ).toHaveLength(0);
  });

  it('restarts a SIGKILLed meter process from its state file: it rejoins and reuses no frame counter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-scn-'));
    const common = ['run', 'scenarios/meter-crash-restart.yaml'];
    const [a, b] = await Promise.all([
      gbhan([...common, '--out', join(dir, 'in')]),
      gbhan([...common, '--out', join(dir, 'proc'), '--processes']),
    ]);
    expect(a.code, a.out).toBe(0);
    expect(b.code, b.out).toBe(0);
    expect(differingOutputs(dir, 'meter-crash-restart', ['trace.jsonl', 'capture.pcap'])).toEqual([]);
    const out = join(dir, 'proc', 'meter-crash-restart');
    const trace = readFileSync(join(out, 'trace.jsonl'), 'utf8');
    expect(trace).toContain('"type":"detach","radio":"00124b0000e5e5e5","reason":"crashed"');
    // Every security header the ESME sent, in capture order: per key (network, link), the
    // frame counters only ever go up - across the SIGKILL too.
    const rows = tsharkFields(join(out, 'capture.pcap'), [
      'frame.time_relative',
      'zbee.sec.src64',
      'zbee.sec.counter',
      'zbee.sec.key_id',
    ]);
    const seen = new Map<string, number[]>();
    let afterRestart = 0;
    for (const [time, src, counters, keyIds] of rows) {
      if (!src?.split(',').includes('00:12:4b:00:00:e5:e5:e5')) continue;
      const cs = counters!.split(',').map(Number);
      const ks = keyIds!.split(',');
      for (const [i, c] of cs.entries()) {
        const list = seen.get(ks[i]!) ?? [];
        list.push(c);
        seen.set(ks[i]!, list);
      }
      if (Number(time) > 300) afterRestart++;
    }
    expect(afterRestart).toBeGreaterThan(0);
    expect(seen.get('0x01')?.length).toBeGreaterThan(5);
    for (const [key, list] of seen) {
      for (let i = 1; i < list.length; i++)
        expect(list[i], `key ${key} counter #${i}`).toBeGreaterThan(list[i - 1]!);
    }
  });

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
    expect(r.out).toMatch(/install-and-commission-gb868\s+17\/17/);
    const pcap = join(dir, 'install-and-commission-gb868', 'capture.pcap');
    expect(new Set(tsharkFields(pcap, ['wpan-tap.ch_page']).map((x) => x[0]))).toEqual(new Set(['28']));
    expect(malformedCount(pcap)).toBe(0);
  });
});
