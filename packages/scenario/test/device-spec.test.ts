/**
 * `gbhan device <kind> --spec` for the GB device kinds: the config (in its resolved form, as
 * `gbhan run --processes` passes it) is checked before the device starts, so a wrong field is a
 * one-line CliError naming it - before issue 18, `{"channels": 5}` crashed a comms-hub with a
 * TypeError once time ran. Every spec a shipped scenario gives its devices passes unchanged.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDeviceArgs } from '../src/device-command.js';
import { deviceSpecs, deviceType, loadScenario } from '../src/index.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const args = (s: unknown) => [
  '--bus',
  'ws://127.0.0.1:7454',
  '--state',
  's.json',
  '--spec',
  JSON.stringify(s),
];

function spec(type: string, config: Record<string, unknown>) {
  const eui64 = '00124b0000000002';
  return {
    id: 'x',
    type,
    eui64,
    registration: { eui64, band: '2.4GHz', page: 0, channel: 15, position: { x: 0, y: 0 } },
    config,
    peers: [],
    seed: '1',
  };
}

describe('gbhan device <kind> --spec config', () => {
  it('refuses wrong shared fields with the field named', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['comms-hub', { channels: 5 }, /^--spec: config\.channels: .*expected array/],
      ['comms-hub', { channels: [{ page: 0, channel: 40 }] }, /^--spec: config\.channels\.0: not a channel/],
      ['comms-hub', { deviceLog: [{}] }, /^--spec: config\.deviceLog\.0\.eui64: required$/],
      ['esme', { installCode: 5 }, /^--spec: config\.installCode: .*expected string/],
      [
        'esme',
        { installCode: 'xyz' },
        /^--spec: config\.installCode: install code with its CRC: hex digits$/,
      ],
      ['esme', { joinRetryUs: '20s' }, /^--spec: config\.joinRetryUs: whole microseconds >= 0/],
      ['ppmid', { chEui64: 'ch-a' }, /^--spec: config\.chEui64: an EUI64/],
      ['gsme', { cbkeSuite: 3 }, /^--spec: config\.cbkeSuite: /],
    ];
    for (const [type, config, message] of cases)
      expect(
        () => checkDeviceArgs(type, deviceType(type)!, args(spec(type, config))),
        `${type} ${JSON.stringify(config)}`,
      ).toThrow(message);
  });

  it("passes every shipped scenario's device specs unchanged", () => {
    let n = 0;
    for (const file of readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.yaml'))) {
      const scenario = loadScenario(join(ROOT, 'scenarios', file));
      for (const s of deviceSpecs(scenario, scenario.seed)) {
        if (s.type === 'radio') continue;
        const out = checkDeviceArgs(s.type, deviceType(s.type)!, args(s));
        expect(JSON.parse(out[5]!).config).toEqual(JSON.parse(JSON.stringify(s.config)));
        n++;
      }
    }
    expect(n).toBeGreaterThan(300);
  });
});
