/**
 * Bad scenario files: every mistake names the file, the line and the field, with a stable code.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError, type ScenarioErrorCode } from '../src/index.js';

const GOOD = `name: small
seed: 3
duration: 2m
devices:
  - id: a
    type: radio
    eui64: 00124b0000000001
    channel: 15
    position: { x: 0, y: 0 }
  - id: b
    type: radio
    eui64: 0000000000000002
    channel: 15
    position: { x: 5, y: 0 }
    config: { period: 10s }
timeline:
  - at: 30s
    device: b
    action: power-off
  - at: 1m
    action: jam
    args: { band: 2.4GHz, channel: 15, position: { x: 1, y: 1 }, for: 5s }
expect:
  - event: { type: rx, radio: a, from: b }
    before: 20s
  - never: { type: drop, reason: collision }
  - count: { type: tx, radio: b }
    max: 10
  - order:
      - { type: power, radio: b, on: false }
      - { type: jam, on: true }
`;

function fails(text: string): ScenarioError {
  try {
    parseScenario(text, 'scenarios/bad.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected the scenario to be refused');
}

function expectError(text: string, code: ScenarioErrorCode, line: number, field: string, detail?: RegExp) {
  const e = fails(text);
  expect({ code: e.code, line: e.line, field: e.field }).toEqual({ code, line, field });
  expect(e.file).toBe('scenarios/bad.yaml');
  expect(e.message).toContain(`scenarios/bad.yaml:${line}: ${field === '' ? '' : `${field}: `}`);
  if (detail) expect(e.message).toMatch(detail);
}

describe('scenario files', () => {
  it('loads a good file: durations in microseconds, ids resolved to EUI64s, defaults applied', () => {
    const s = parseScenario(GOOD, 'scenarios/small.yaml');
    expect(s.name).toBe('small');
    expect(s.seed).toBe('3');
    expect(s.durationUs).toBe(120_000_000);
    // A digits-only EUI64 (a number to YAML) keeps its digits.
    expect(s.devices.map((d) => [d.eui64, d.page, d.powered])).toEqual([
      ['00124b0000000001', 0, true],
      ['0000000000000002', 0, true],
    ]);
    expect((s.devices[1]!.config as { period: number }).period).toBe(10_000_000);
    expect(s.timeline[0]).toMatchObject({ at: 30_000_000, kind: 'device', eui64: '0000000000000002' });
    expect(s.timeline[0]!.kind === 'device' && s.timeline[0]!.command).toEqual({ action: 'power-off' });
    expect(s.timeline[1]).toMatchObject({ at: 60_000_000, kind: 'jam', args: { page: 0, for: 5_000_000 } });
    expect(s.expect[0]).toMatchObject({
      kind: 'event',
      match: { type: 'rx', radio: '00124b0000000001', from: '0000000000000002' },
      before: 20_000_000,
      line: 24,
    });
    expect(s.outputs).toEqual({ trace: true, pcap: true, keys: true, pcapFcs: false, report: true });
  });

  it('bad YAML syntax', () => {
    expectError(GOOD.replace('position: { x: 5, y: 0 }', 'position: { x: 5, y: 0'), 'SCENARIO_YAML', 15, '');
    expect(fails(GOOD.replace('seed: 3', 'seed: 3\nseed: 4')).code).toBe('SCENARIO_YAML');
  });

  it('unknown device type', () => {
    expectError(
      GOOD.replace('type: radio\n    eui64: 0000', 'type: toaster\n    eui64: 0000'),
      'SCENARIO_UNKNOWN_DEVICE_TYPE',
      11,
      'devices.1.type',
      /toaster.*known: .*radio/,
    );
  });

  it('unknown action (device and radio fault)', () => {
    expectError(
      GOOD.replace('action: power-off', 'action: explode'),
      'SCENARIO_UNKNOWN_ACTION',
      19,
      'timeline.0.action',
      /explode.*power-on/,
    );
    expectError(
      GOOD.replace('action: jam', 'action: flood'),
      'SCENARIO_UNKNOWN_ACTION',
      21,
      'timeline.1.action',
    );
  });

  it('bad EUI64 (too short, not hex, duplicate)', () => {
    expectError(
      GOOD.replace('eui64: 00124b0000000001', 'eui64: 00124b00001'),
      'SCENARIO_BAD_EUI64',
      7,
      'devices.0.eui64',
    );
    expectError(
      GOOD.replace('eui64: 00124b0000000001', 'eui64: 00124g0000000001'),
      'SCENARIO_BAD_EUI64',
      7,
      'devices.0.eui64',
    );
    expectError(
      GOOD.replace('eui64: 0000000000000002', 'eui64: 00124B0000000001'),
      'SCENARIO_BAD_EUI64',
      12,
      'devices.1.eui64',
      /already device a/,
    );
  });

  it('bad durations', () => {
    expectError(GOOD.replace('duration: 2m', 'duration: soon'), 'SCENARIO_BAD_DURATION', 3, 'duration');
    expectError(GOOD.replace('at: 30s', 'at: 30 parsecs'), 'SCENARIO_BAD_DURATION', 17, 'timeline.0.at');
    expectError(GOOD.replace('before: 20s', 'before: -1'), 'SCENARIO_BAD_DURATION', 25, 'expect.0.before');
    expectError(
      GOOD.replace('period: 10s', 'period: 10x'),
      'SCENARIO_BAD_DURATION',
      15,
      'devices.1.config.period',
    );
  });

  it('duplicate device id', () => {
    expectError(GOOD.replace('id: b', 'id: a'), 'SCENARIO_DUPLICATE_ID', 10, 'devices.1.id');
  });

  it('references to unknown devices (timeline, expectations)', () => {
    expectError(
      GOOD.replace('device: b', 'device: c'),
      'SCENARIO_UNKNOWN_REFERENCE',
      18,
      'timeline.0.device',
      /no device "c"/,
    );
    expectError(
      GOOD.replace('from: b }', 'from: zz }'),
      'SCENARIO_UNKNOWN_REFERENCE',
      24,
      'expect.0.event.from',
    );
    expectError(
      GOOD.replace('{ type: power, radio: b', '{ type: power, radio: q'),
      'SCENARIO_UNKNOWN_REFERENCE',
      30,
      'expect.3.order.0.radio',
    );
  });

  it('wrong field types, unknown and missing fields', () => {
    expectError(
      GOOD.replace('channel: 15\n    position: { x: 0', "channel: 'fifteen'\n    position: { x: 0"),
      'SCENARIO_SCHEMA',
      8,
      'devices.0.channel',
      /expected number/,
    );
    expectError(
      GOOD.replace('channel: 15\n    position: { x: 0', 'channel: 9\n    position: { x: 0'),
      'SCENARIO_SCHEMA',
      8,
      'devices.0.channel',
      /not on band/,
    );
    expectError(
      GOOD.replace('seed: 3', 'seed: 3\ncolour: blue'),
      'SCENARIO_SCHEMA',
      3,
      'colour',
      /unknown field/,
    );
    expectError(
      GOOD.replace('    position: { x: 5, y: 0 }\n', ''),
      'SCENARIO_SCHEMA',
      10,
      'devices.1.position',
      /required/,
    );
    expectError(
      GOOD.replace('{ period: 10s }', '{ period: 10s, volume: 11 }'),
      'SCENARIO_BAD_CONFIG',
      15,
      'devices.1.config.volume',
      /unknown field/,
    );
    expectError(
      GOOD.replace('    max: 10\n', ''),
      'SCENARIO_SCHEMA',
      27,
      'expect.2.count',
      /min and\/or max/,
    );
    expectError(
      GOOD.replace('  - never:', '  - nope:'),
      'SCENARIO_SCHEMA',
      26,
      'expect.1',
      /exactly one of event, never/,
    );
    expectError(GOOD.replace('for: 5s', 'for: 5s, power: 3'), 'SCENARIO_SCHEMA', 22, 'timeline.1.args.power');
    expectError(
      GOOD.replace('walls', 'x').replace('seed: 3', 'seed: 3\nmedium: { lossRate: 2 }'),
      'SCENARIO_SCHEMA',
      3,
      'medium.lossRate',
    );
    expectError(
      GOOD.replace('seed: 3', 'seed: 3\nmedium:\n  walls:\n    - { from: [0, 0], to: [1, 1], height: 2 }'),
      'SCENARIO_SCHEMA',
      5,
      'medium.walls.0.height',
      /unknown field \(allowed: from, to, lossDb\)/,
    );
    expectError('- just\n- a list\n', 'SCENARIO_SCHEMA', 1, '');
  });
});

describe("the medium's propagation model", () => {
  const withMedium = (medium: string) => GOOD.replace('seed: 3', `seed: 3\nmedium:\n${medium}`);
  const MATRIX = `  model: matrix
  matrix:
    links:
      - { from: a, to: 0000000000000002, lossDb: 150 }
    defaultLossDb: 200
`;

  it('loads a model by name; matrix links name devices by id or EUI64', () => {
    expect(parseScenario(withMedium('  model: free-space\n'), 'f.yaml').medium.model).toBe('free-space');
    const s = parseScenario(withMedium(MATRIX), 'm.yaml');
    expect(s.medium.matrix).toEqual({
      links: [{ from: '00124b0000000001', to: '0000000000000002', lossDb: 150 }],
      defaultLossDb: 200,
    });
  });

  it('names the line and field of a bad model, parameter or link', () => {
    expectError(withMedium('  model: ray-tracing\n'), 'SCENARIO_SCHEMA', 4, 'medium.model', /free-space/);
    expectError(
      withMedium('  model: free-space\n  walls:\n    - { from: [3, -20], to: [3, 20] }\n'),
      'SCENARIO_SCHEMA',
      6,
      'medium.walls',
      /not used by the free-space model/,
    );
    expectError(
      withMedium(MATRIX.replace('to: 0000000000000002', 'to: c')),
      'SCENARIO_UNKNOWN_REFERENCE',
      7,
      'medium.matrix.links.0.to',
      /no device "c"/,
    );
    expectError(
      withMedium(MATRIX.replace('lossDb: 150 }', 'lossDb: 150, gain: 3 }')),
      'SCENARIO_SCHEMA',
      7,
      'medium.matrix.links.0.gain',
      /unknown field \(allowed: from, to, lossDb, reverseLossDb, band\)/,
    );
    // The same pair once by id and once by EUI64.
    expectError(
      withMedium(
        MATRIX.replace(
          'lossDb: 150 }',
          'lossDb: 150 }\n      - { from: b, to: 00124B0000000001, lossDb: 90 }',
        ),
      ),
      'SCENARIO_SCHEMA',
      8,
      'medium.matrix.links.1',
      /already given by matrix.links.0/,
    );
    expectError(
      withMedium('  model: matrix\n'),
      'SCENARIO_SCHEMA',
      4,
      'medium.matrix',
      /required with model: matrix/,
    );
  });
});

describe('GB device types in scenario files', () => {
  const HOME = `name: home
duration: 5m
devices:
  - { id: ch, type: comms-hub, eui64: 00124b0000000001, channel: 15, position: { x: 0, y: 0 }, config: { deviceLog: [ppmid] } }
  - id: esme
    type: esme
    eui64: 00124b0000000002
    channel: 15
    position: { x: 1, y: 0 }
    config: { installCode: 83fed3407a939723a5c639b26916d505c3b5, joinRetry: 1m }
  - id: ppmid
    type: ppmid
    eui64: 00124b0000000003
    channel: 15
    position: { x: 2, y: 0 }
    config: { installCode: 83fed3407a939723a5c639b26916d505c3b5 }
timeline:
  - { at: 10s, device: ch, action: update-device-log, args: { op: add, device: esme } }
  - { at: 20s, device: ch, action: read-meter, args: { target: esme } }
  - { at: 30s, device: ch, action: update-device-log, args: { op: remove, device: ppmid } }
expect:
  - event: { type: device, radio: ch, event: { type: tunnel-established, peer: esme } }
`;

  it('resolves device references in configs, commands and device events', () => {
    const s = parseScenario(HOME, 'home.yaml');
    const [ch, esme, ppmid] = s.devices;
    expect(ch!.config).toEqual({
      deviceLog: [
        {
          eui64: '00124b0000000003',
          deviceType: 'PPMID',
          installCode: '83fed3407a939723a5c639b26916d505c3b5',
        },
      ],
    });
    // The device's config: references as EUI64s, durations as `<name>Us` (the kind's resolveConfig).
    expect(esme!.config).toEqual({
      installCode: '83fed3407a939723a5c639b26916d505c3b5',
      joinRetryUs: 60_000_000,
      chEui64: '00124b0000000001',
    });
    expect(ppmid!.config).toMatchObject({ chEui64: '00124b0000000001', esmeEui64: '00124b0000000002' });
    const commands = s.timeline.map((e) => (e.kind === 'device' ? e.command : null));
    expect(commands).toEqual([
      {
        action: 'update-device-log',
        op: 'add',
        eui64: '00124b0000000002',
        deviceType: 'ESME',
        installCode: '83fed3407a939723a5c639b26916d505c3b5',
      },
      { action: 'read-meter', target: '00124b0000000002' },
      { action: 'update-device-log', op: 'remove', eui64: '00124b0000000003' },
    ]);
    expect(s.expect[0]).toMatchObject({
      match: { event: { type: 'tunnel-established', peer: '00124b0000000002' } },
    });
  });

  it('names the field of a bad reference or a missing default', () => {
    expectError(
      HOME.replace('deviceLog: [ppmid]', 'deviceLog: [pmid]'),
      'SCENARIO_UNKNOWN_REFERENCE',
      4,
      'devices.0.config.deviceLog.0',
    );
    expectError(
      HOME.replace('target: esme', 'target: gsme'),
      'SCENARIO_UNKNOWN_REFERENCE',
      19,
      'timeline.1.args.target',
    );
    expectError(
      HOME.replace('{ op: add, device: esme }', '{ op: add, device: esme, colour: red }'),
      'SCENARIO_SCHEMA',
      18,
      'timeline.0.args.colour',
    );
    expectError(
      HOME.replace('device: ch, action: read-meter', 'device: esme, action: read-meter'),
      'SCENARIO_UNKNOWN_ACTION',
      19,
      'timeline.1.action',
      /device type esme has no action "read-meter" \(actions: power-on, power-off, set-load, emergency-credit, top-up, optical, crash, restart\)/,
    );
    expectError(
      HOME.replace('type: comms-hub', 'type: radio').replace(', config: { deviceLog: [ppmid] }', ''),
      'SCENARIO_UNKNOWN_REFERENCE',
      10,
      'devices.1.config.ch',
      /required: no comms-hub device to default to/,
    );
    expectError(
      HOME.replace('type: comms-hub, eui64: 00124b0000000001', 'type: esme, eui64: 00124b0000000001').replace(
        ', config: { deviceLog: [ppmid] }',
        '',
      ),
      'SCENARIO_BAD_CONFIG',
      4,
      'devices.0.config.installCode',
    );
    expectError(
      HOME.replace(
        'installCode: 83fed3407a939723a5c639b26916d505c3b5, joinRetry',
        'installCode: xyz, joinRetry',
      ),
      'SCENARIO_BAD_CONFIG',
      10,
      'devices.1.config.installCode',
    );
  });
});
