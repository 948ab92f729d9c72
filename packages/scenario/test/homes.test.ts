/**
 * `homes:`: N homes from one template (ids, EUI64s, install codes, positions per layout,
 * channels, walls, per-home timeline and expectations), its mistakes with the template's line,
 * street-100 holding, the same street run both ways byte for byte, and device specs that stay
 * small for 1,000 homes (only the peers a config names, on stdin).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateInstallCode } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { deviceSpecs, parseScenario, runScenario, ScenarioError, seededInstallCode } from '../src/index.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** A scenario of homes; `layout` and the extra lines replace the defaults. */
function homes(o: { layout?: string; extra?: string; top?: string; medium?: string } = {}): string {
  return `name: t
seed: 7
duration: 2m
${o.medium ?? ''}${o.top ?? ''}homes:
  layout: ${o.layout ?? '{ street: { count: 3, spacing: 20 } }'}
  channels: [11, { band: GB868, page: 28, channel: 1 }]
  devices:
    - id: ch-{home}
      type: comms-hub
      position: { x: 0, y: 0 }
      config:
        channels: [{ page: '{page}', channel: '{channel}' }]
        deviceLog: ['esme-{home}']
    - id: esme-{home}
      type: esme
      position: { x: 3, y: 1 }
      config: { ch: 'ch-{home}' }
  walls:
    - { from: [-5, -5], to: [-5, 5] }
  timeline:
    - { at: 1m, device: 'ch-{home}', action: read-meter, args: { target: 'esme-{home}' } }
${o.extra ?? ''}  expect:
    - name: esme-{home} joins ch-{home}
      event: { type: device, radio: 'esme-{home}', event: { type: joined, parent: 'ch-{home}' } }
`;
}

function refusal(text: string): ScenarioError {
  try {
    parseScenario(text, 'h.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('loaded');
}

describe('homes: expansion', () => {
  const s = parseScenario(homes(), 'h.yaml');
  const line = (text: string) => homes().split('\n').indexOf(text) + 1;

  it('makes each home: ids with {home}, derived EUI64s, positions from the layout, channels round robin', () => {
    expect(s.devices.map((d) => d.id)).toEqual(['ch-1', 'esme-1', 'ch-2', 'esme-2', 'ch-3', 'esme-3']);
    expect(s.devices.map((d) => d.eui64)).toEqual([
      '00124b0000010001',
      '00124b0000010002',
      '00124b0000020001',
      '00124b0000020002',
      '00124b0000030001',
      '00124b0000030002',
    ]);
    expect(s.devices.map((d) => d.position)).toEqual([
      { x: 0, y: 0 },
      { x: 3, y: 1 },
      { x: 20, y: 0 },
      { x: 23, y: 1 },
      { x: 40, y: 0 },
      { x: 43, y: 1 },
    ]);
    expect(s.devices.map((d) => [d.band, d.page, d.channel])).toEqual([
      ['2.4GHz', 0, 11],
      ['2.4GHz', 0, 11],
      ['GB868', 28, 1],
      ['GB868', 28, 1],
      ['2.4GHz', 0, 11],
      ['2.4GHz', 0, 11],
    ]);
    // numeric placeholders are numbers in the config
    expect((s.devices[2]!.config as { channels: unknown }).channels).toEqual([{ page: 28, channel: 1 }]);
    // each device's line is its template's
    expect(new Set(s.devices.filter((d) => d.type === 'esme').map((d) => d.line))).toEqual(
      new Set([line('    - id: esme-{home}')]),
    );
  });

  it('gives joiners install codes from the seed, with valid CRCs, and the CH logs its own home', () => {
    const esmes = s.devices.filter((d) => d.type === 'esme');
    const codes = esmes.map((d) => (d.config as { installCode: string }).installCode);
    expect(new Set(codes).size).toBe(3);
    for (const [i, code] of codes.entries()) {
      expect(code).toMatch(/^[0-9a-f]{36}$/);
      expect(() => validateInstallCode(code)).not.toThrow();
      expect(code).toBe(seededInstallCode(`7/esme-${i + 1}`)); // = gbhan install-code --seed 7/esme-N
    }
    const ch2 = s.devices.find((d) => d.id === 'ch-2')!;
    expect((ch2.config as { deviceLog: unknown }).deviceLog).toEqual([
      { eui64: '00124b0000020002', deviceType: 'ESME', installCode: codes[1] },
    ]);
    expect((esmes[1]!.config as { chEui64: string }).chEui64).toBe('00124b0000020001');
    // a device's peers are the devices its config names, nothing else
    expect(ch2.peers).toEqual(['esme-2']);
    expect(esmes[1]!.peers).toEqual(['ch-2']);
  });

  it('puts each home its walls, and makes its timeline entries and expectations per home', () => {
    expect(s.medium.walls).toEqual([
      { from: [-5, -5], to: [-5, 5] },
      { from: [15, -5], to: [15, 5] },
      { from: [35, -5], to: [35, 5] },
    ]);
    expect(s.timeline.map((e) => (e.kind === 'device' ? [e.device, e.command.target, e.line] : []))).toEqual(
      [1, 2, 3].map((h) => [
        `ch-${h}`,
        `00124b00000${h}0002`,
        line("    - { at: 1m, device: 'ch-{home}', action: read-meter, args: { target: 'esme-{home}' } }"),
      ]),
    );
    expect(s.expect.map((x) => [x.text, x.kind === 'event' ? x.match.radio : null])).toEqual(
      [1, 2, 3].map((h) => [`esme-${h} joins ch-${h}`, `00124b00000${h}0002`]),
    );
    expect(s.expect[0]!.kind === 'event' && s.expect[0]!.match.event).toEqual({
      type: 'joined',
      parent: '00124b0000010001',
    });
  });

  it('lays homes out on a grid, or at random (seeded) by density or area', () => {
    const grid = parseScenario(homes({ layout: '{ grid: { rows: 2, cols: 3, spacing: 10 } }' }), 'h.yaml');
    expect(
      grid.devices.filter((d) => d.type === 'comms-hub').map((d) => [d.position.x, d.position.y]),
    ).toEqual([
      [0, 0],
      [10, 0],
      [20, 0],
      [0, 10],
      [10, 10],
      [20, 10],
    ]);
    const random = (layout: string) =>
      parseScenario(homes({ layout }), 'h.yaml')
        .devices.filter((d) => d.type === 'comms-hub')
        .map((d) => d.position);
    const a = random('{ random: { count: 50, density: 200 } }'); // 0.25 km^2: a 500 m square
    expect(a).toHaveLength(50);
    expect(random('{ random: { count: 50, density: 200 } }')).toEqual(a);
    for (const p of a) expect(p.x >= 0 && p.x < 500 && p.y >= 0 && p.y < 500).toBe(true);
    expect(Math.max(...a.map((p) => p.x))).toBeGreaterThan(250);
    const b = random('{ random: { count: 20, area: { width: 100, height: 30 } } }');
    for (const p of b) expect(p.x >= 0 && p.x < 100 && p.y >= 0 && p.y < 30).toBe(true);
  });
});

describe('homes: mistakes name the template line', () => {
  const at = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  it('a placeholder naming no device: SCENARIO_UNKNOWN_REFERENCE at the template entry, with the home', () => {
    const text = homes().replace("radio: 'esme-{home}'", "radio: 'meter-{home}'");
    const e = refusal(text);
    expect(e.code).toBe('SCENARIO_UNKNOWN_REFERENCE');
    expect(e.line).toBe(at(text, "radio: 'meter-{home}'"));
    expect(e.field).toBe('homes.expect.0.event.radio');
    expect(e.message).toMatch(/home 1: no device "meter-1"/);
    const t2 = homes().replace("args: { target: 'esme-{home}' }", "args: { target: 'gsme-{home}' }");
    expect(refusal(t2)).toMatchObject({
      code: 'SCENARIO_UNKNOWN_REFERENCE',
      field: 'homes.timeline.0.args.target',
    });
    const t3 = homes().replace("deviceLog: ['esme-{home}']", "deviceLog: ['esme-{home}', 'ppmid-{home}']");
    expect(refusal(t3)).toMatchObject({
      code: 'SCENARIO_UNKNOWN_REFERENCE',
      line: at(t3, 'deviceLog'),
      field: 'homes.devices.0.config.deviceLog.1',
    });
  });

  it('a bad layout', () => {
    const two = homes({
      layout: '{ street: { count: 3, spacing: 20 }, grid: { rows: 1, cols: 1, spacing: 1 } }',
    });
    expect(refusal(two)).toMatchObject({
      code: 'SCENARIO_SCHEMA',
      line: at(two, 'layout:'),
      field: 'homes.layout',
    });
    expect(refusal(two).message).toMatch(/exactly one of street, grid, random \(found street, grid\)/);
    const noSpacing = homes({ layout: '{ street: { count: 3 } }' });
    expect(refusal(noSpacing)).toMatchObject({
      code: 'SCENARIO_SCHEMA',
      field: 'homes.layout.street.spacing',
    });
    const zero = homes({ layout: '{ street: { count: 0, spacing: 5 } }' });
    expect(refusal(zero)).toMatchObject({ code: 'SCENARIO_SCHEMA', field: 'homes.layout.street.count' });
    const both = homes({ layout: '{ random: { count: 3, density: 5, area: { width: 1, height: 1 } } }' });
    expect(refusal(both)).toMatchObject({ code: 'SCENARIO_SCHEMA', field: 'homes.layout.random' });
    const avenue = homes({ layout: '{ avenue: { count: 3 } }' });
    expect(refusal(avenue)).toMatchObject({ code: 'SCENARIO_SCHEMA', field: 'homes.layout.avenue' });
  });

  it('template ids without {home}, a given EUI64, bad channels, walls without log-distance, too many devices', () => {
    expect(refusal(homes().replace('- id: ch-{home}', '- id: ch'))).toMatchObject({
      field: 'homes.devices.0.id',
    });
    const eui = homes().replace(
      '      type: comms-hub\n',
      '      type: comms-hub\n      eui64: 00124b0000000001\n',
    );
    expect(refusal(eui)).toMatchObject({ code: 'SCENARIO_SCHEMA', field: 'homes.devices.0.eui64' });
    expect(refusal(homes().replace('channels: [11,', 'channels: [27,'))).toMatchObject({
      field: 'homes.channels.0',
    });
    const free = homes({ medium: 'medium: { model: free-space }\n' });
    expect(refusal(free)).toMatchObject({ code: 'SCENARIO_SCHEMA', field: 'homes.walls' });
    const many = refusal(homes({ layout: '{ grid: { rows: 1000, cols: 1000, spacing: 5 } }' }));
    expect(many).toMatchObject({ code: 'SCENARIO_LIMIT', field: 'homes' });
    expect(many.message).toMatch(/1000000 homes of 2 devices .*--max-devices/);
    // a config mistake in an expanded device: the template's line and field, and the home
    const bad = homes().replace("config: { ch: 'ch-{home}' }", "config: { ch: 'ch-{home}', loadW: many }");
    expect(refusal(bad)).toMatchObject({
      code: 'SCENARIO_BAD_CONFIG',
      line: at(bad, 'loadW'),
      field: 'homes.devices.1.config.loadW',
    });
    expect(refusal(bad).message).toMatch(/home 1: /);
    // an expanded device whose id another device already has
    const dup = homes({
      top: 'devices:\n  - { id: esme-2, type: radio, eui64: 00124b00000000ff, channel: 11, position: { x: 0, y: 0 } }\n',
    });
    expect(refusal(dup)).toMatchObject({ code: 'SCENARIO_DUPLICATE_ID', field: 'homes.devices.1.id' });
  });
});

describe('street-100 and the same street both ways', () => {
  it('street-100: 100 homes commissioned, every expectation held', async () => {
    const s = parseScenario(readFileSync(join(ROOT, 'scenarios/street-100.yaml'), 'utf8'), 'street-100.yaml');
    expect(s.devices).toHaveLength(300);
    const r = await runScenario(s, { outRoot: mkdtempSync(join(tmpdir(), 'gbhan-street-')) });
    expect(r.expectations.filter((x) => !x.held)).toEqual([]);
    expect(r.total).toBe(204);
  }, 120_000);

  it('3 homes of street-100 in-process and with --processes: the same trace, capture and keys', async () => {
    const text = readFileSync(join(ROOT, 'scenarios/street-100.yaml'), 'utf8').replace(
      'count: 100',
      'count: 3',
    );
    const s = parseScenario(text, 'street-3.yaml');
    const out = mkdtempSync(join(tmpdir(), 'gbhan-street3-'));
    const a = await runScenario(s, { outRoot: join(out, 'in') });
    const b = await runScenario(s, { outRoot: join(out, 'proc'), processes: true });
    const perHome = a.expectations.filter((x) => /^(esme|ppmid)-\d+ runs CBKE/.test(x.text));
    expect(perHome.map((x) => x.held)).toEqual(Array(6).fill(true));
    for (const f of ['trace.jsonl', 'capture.pcap', 'keys'] as const) {
      const key = f === 'trace.jsonl' ? 'trace' : f === 'capture.pcap' ? 'pcap' : 'keys';
      expect(readFileSync(b.outputs[key]!).equals(readFileSync(a.outputs[key]!)), f).toBe(true);
    }
  }, 120_000);
});

describe('device specs', () => {
  it('stay small for 1,000 homes: only the peers a config names (before: every device, ~240 KB each)', () => {
    const file = join(ROOT, 'bench/scenarios/city-1000.yaml');
    const s = parseScenario(readFileSync(file, 'utf8'), file, { maxDevices: 4000 });
    expect(s.devices).toHaveLength(4000);
    const specs = deviceSpecs(s, '1', { publicKey: 'ab'.repeat(33), secretKeyFile: '/tmp/k.hex' });
    const sizes = specs.map((x) => JSON.stringify(x).length);
    expect(Math.max(...sizes)).toBeLessThan(4096);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(4 * 1024 * 1024);
    const ppmid = specs.find((x) => x.id === 'ppmid-500')!;
    expect(ppmid.peers.map((p) => p.id).sort()).toEqual(['ch-500', 'esme-500']);
    expect(specs.find((x) => x.id === 'ch-500')!.peers).toEqual([]);
  });
});
