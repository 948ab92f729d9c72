/**
 * Real runs of the `radio` device type: expectations that hold and fail on what the air did,
 * the outputs, and the exit code of `gbhan run`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalizeStart, parseScenario, runRunCommand, runScenario, wiresharkKeys } from '../src/index.js';

const SCENARIO = `name: range-and-jam
seed: 5
duration: 3m
trace: full # the expectations count out-of-range drops, which a compact trace only counts
devices:
  - { id: hub, type: radio, eui64: 00124b0000000001, channel: 15, position: { x: 0, y: 0 }, config: { short: 0 } }
  - { id: near, type: radio, eui64: 00124b0000000002, channel: 15, position: { x: 5, y: 0 }, config: { period: 5s } }
  - { id: far, type: radio, eui64: 00124b0000000003, channel: 15, position: { x: 400, y: 0 }, config: { period: 5s } }
timeline:
  - at: 1m
    action: jam
    args: { band: 2.4GHz, channel: 15, position: { x: 2, y: 0 }, for: 30s }
  - { at: 2m, device: near, action: power-off }
expect:
  - never: { type: rx, from: far }
  - count: { type: drop, from: far, reason: out-of-range }
    min: 20
  - event: { type: drop, reason: jammed }
    after: 1m
    before: 1m30s
  - never: { type: drop, reason: jammed }
    before: 59s
  - never: { type: drop, reason: jammed }
    after: 1m31s
  - count: { type: device, radio: near, event: { type: acked } }
    min: 15
    max: 18
  - event: { type: device, radio: near, event: { type: tx-refused, status: 'off' } }
    after: 2m
  - never: { type: device, radio: near, event: { type: acked } }
    after: 2m1s
  - order:
      - { type: control, radio: near, command: { action: power-off } }
      - { type: power, radio: near, on: false }
`;

describe('running scenarios', () => {
  it('judges expectations on what happened on the air and writes the outputs', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gbhan-run-'));
    const r = await runScenario(parseScenario(SCENARIO, 'range-and-jam.yaml'), { outRoot: out });
    expect(r.expectations.filter((x) => !x.held)).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.held).toBe(9);
    const dir = join(out, 'range-and-jam');
    const trace = readFileSync(join(dir, 'trace.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(trace[0]).toMatchObject({ type: 'attach', radio: '00124b0000000001', name: 'hub' });
    expect(trace.every((e) => e.t <= 180_000_000)).toBe(true);
    expect(readFileSync(join(dir, 'capture.pcap')).length).toBeGreaterThan(1000);
    expect(readFileSync(join(dir, 'keys'), 'utf8')).toBe('');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ name: 'range-and-jam', held: 9, total: 9, passed: true });
    expect(summary.drops.jammed).toBeGreaterThan(0);
  });

  it('runs on the medium model the scenario names (a matrix: who hears whom is the listed loss)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gbhan-run-'));
    // By distance near (5 m) hears the hub and far (400 m) does not; the matrix says otherwise.
    const text = `name: matrix-site
duration: 30s
trace: full
medium:
  model: matrix
  matrix:
    links:
      - { from: hub, to: near, lossDb: 150 }
      - { from: hub, to: far, lossDb: 60 }
devices:
  - { id: hub, type: radio, eui64: 00124b0000000001, channel: 15, position: { x: 0, y: 0 } }
  - { id: near, type: radio, eui64: 00124b0000000002, channel: 15, position: { x: 5, y: 0 }, config: { period: 5s } }
  - { id: far, type: radio, eui64: 00124b0000000003, channel: 15, position: { x: 400, y: 0 }, config: { period: 5s } }
expect:
  - event: { type: rx, radio: hub, from: far, rssi: -57 }
  - never: { type: rx, radio: hub, from: near }
  - event: { type: drop, radio: hub, from: near, reason: out-of-range }
`;
    const r = await runScenario(parseScenario(text, 'matrix-site.yaml'), { outRoot: out });
    expect(r.expectations.filter((x) => !x.held)).toEqual([]);
    expect(r.held).toBe(3);
  });

  it('reports failures with the deciding event, and gbhan run exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-run-'));
    const file = join(dir, 'tight.yaml');
    writeFileSync(
      file,
      SCENARIO.replace('name: range-and-jam', 'name: tight')
        .replace('    after: 1m\n    before: 1m30s\n', '    before: 59s\n')
        .replace('  - never: { type: rx, from: far }', '  - never: { type: rx, from: near }'),
    );
    const lines: string[] = [];
    const { code, results } = await runRunCommand([file], { out: join(dir, 'out') }, (l) => lines.push(l));
    expect(code).toBe(1);
    const r = results[0]!;
    expect(r.held).toBe(7);
    const failed = r.expectations.filter((x) => !x.held);
    expect(failed.map((x) => x.line)).toEqual([15, 18]);
    expect(failed[0]!.detail).toMatch(/^happened at 2\.50\ds$/);
    expect(failed[0]!.event!.summary).toMatch(/^rx hub <- near frame/);
    expect(failed[1]!.detail).toMatch(/^happened at 1m0\d\.\d+s, not by 59s$/);
    const text = lines.join('\n');
    expect(text).toMatch(/FAIL never: \{"type":"rx","from":"near"\}: happened at .*tight\.yaml:15\)/);
    expect(text).toMatch(/tight\s+7\/9 FAILED\s+3m00s\s+\S+s\s+.*capture\.pcap/);
    expect(text).toMatch(/1 of 1 scenario\(s\) failed/);
  });

  it('shows a progress line on stderr when asked (or when stderr is a terminal)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-run-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(file, SCENARIO);
    let written = '';
    const stream = { isTTY: false, write: (s: string) => (written += s) } as unknown as NodeJS.WriteStream;
    await runRunCommand([file], { out: dir }, () => {}, stream);
    expect(written).toBe('');
    await runRunCommand([file], { out: dir, progress: true }, () => {}, stream);
    expect(written).toMatch(/\rrange-and-jam: 3m00s of 3m00s simulated \(100%\)\s*\n$/);
  });

  it('refuses two scenarios with the same name (they would share an output directory)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-run-'));
    writeFileSync(join(dir, 'a.yaml'), SCENARIO);
    writeFileSync(join(dir, 'b.yaml'), `# another\n${SCENARIO}`);
    await expect(runRunCommand([dir], { out: dir }, () => {})).rejects.toThrow(
      /b\.yaml:2: name: scenario name "range-and-jam" is also .*a\.yaml's .*\[SCENARIO_DUPLICATE_ID\]/,
    );
  });

  it('is deterministic: same scenario and seed, same trace and capture bytes', async () => {
    const files: Buffer[][] = [];
    for (let i = 0; i < 2; i++) {
      const out = mkdtempSync(join(tmpdir(), 'gbhan-run-'));
      await runScenario(parseScenario(SCENARIO, 'a.yaml'), { outRoot: out, durationUs: 70_000_000 });
      files.push(['trace.jsonl', 'capture.pcap'].map((f) => readFileSync(join(out, 'range-and-jam', f))));
    }
    expect(files[0]![0]!.equals(files[1]![0]!)).toBe(true);
    expect(files[0]![1]!.equals(files[1]![1]!)).toBe(true);
  });
});

describe('a radio that changes band on the timeline', () => {
  it('moves to GB868 with set-channel page 28, is heard there only, and refuses a channel the band lacks', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gbhan-run-'));
    const yaml = `name: band-hop
seed: 5
duration: 40s
devices:
  - { id: hub24, type: radio, eui64: 00124b0000000001, channel: 15, position: { x: 0, y: 0 }, config: { short: 0 } }
  - { id: hub868, type: radio, eui64: 00124b0000000004, band: GB868, page: 28, channel: 3, position: { x: 0, y: 1 }, config: { short: 0 } }
  - { id: hopper, type: radio, eui64: 00124b0000000002, channel: 15, position: { x: 5, y: 0 }, config: { period: 5s } }
timeline:
  - { at: 12s, device: hopper, action: set-channel, args: { page: 28, channel: 3 } }
  - { at: 27s, device: hopper, action: set-channel, args: { page: 28, channel: 27 } }
  - { at: 32s, device: hopper, action: set-channel, args: { page: 0, channel: 15 } }
expect:
  - event: { type: channel, radio: hopper, band: GB868, page: 28, channel: 3 }
    after: 12s
    before: 13s
  - event: { type: rx, radio: hub868, from: hopper }
    after: 12s
    before: 27s
  - never: { type: rx, radio: hub24, from: hopper }
    after: 12s
    before: 32s
  - event: { type: device, radio: hopper, event: { type: control-refused, action: set-channel, reason: bad-channel } }
    after: 27s
    before: 28s
  - event: { type: rx, radio: hub24, from: hopper }
    after: 32s
  - never: { type: error }
`;
    const r = await runScenario(parseScenario(yaml, 'band-hop.yaml'), { outRoot: out });
    expect(r.expectations.filter((x) => !x.held)).toEqual([]);
    expect(r.held).toBe(6);
  });
});

describe('trace helpers', () => {
  it('renders key exports as Wireshark zigbee_pc_keys lines, one per distinct key', () => {
    const names = new Map([['00124b0000000001', 'ch']]);
    const key = '000102030405060708090a0b0c0d0e0f';
    const lines = wiresharkKeys(
      [
        { t: 5, type: 'device', radio: '00124b0000000001', event: { type: 'key-export', key, label: 'nwk' } },
        { t: 6, type: 'device', radio: '00124b0000000001', event: { type: 'key-export', linkKey: key } },
        {
          t: 7,
          type: 'device',
          radio: '00124b0000000001',
          event: { type: 'key-export', origin: 'cbke', linkKey: 'AA'.repeat(16) },
        },
        { t: 8, type: 'device', radio: '00124b0000000001', event: { type: 'joined' } },
      ],
      names,
    );
    expect(lines).toEqual([
      `"${key}","Normal","nwk"`,
      `"${'aa'.repeat(16)}","Normal","ch origin=cbke t=7us"`,
    ]);
  });

  it('puts the events before time starts in radio order, keeping each radio own order', () => {
    const a = '00124b0000000001';
    const b = '00124b0000000002';
    const pos = { x: 0, y: 0 };
    const attach = (radio: string) => ({
      t: 0,
      type: 'attach' as const,
      radio,
      band: '2.4GHz' as const,
      page: 0,
      channel: 11,
      position: pos,
    });
    const dev = (radio: string, n: number) => ({
      t: 0,
      type: 'device' as const,
      radio,
      event: { type: 'x', n },
    });
    const tx = {
      t: 0,
      type: 'jam' as const,
      band: '2.4GHz' as const,
      page: 0,
      channel: 11,
      on: true,
      jammer: 0,
    };
    const out = canonicalizeStart([attach(b), dev(b, 1), attach(a), dev(b, 2), dev(a, 3), tx, dev(b, 4)]);
    expect(out).toEqual([attach(a), dev(a, 3), attach(b), dev(b, 1), dev(b, 2), tx, dev(b, 4)]);
  });
});
