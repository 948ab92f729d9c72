/**
 * Expectations against the trace event catalogue: a matcher naming an event, a field or a
 * value that cannot occur is a load error (SCENARIO_BAD_EVENT), since such a check could never
 * fail (`never`) or never hold (`event`).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario, ScenarioError } from '../src/index.js';

const ROOT = join(import.meta.dirname, '../../..');

const scenario = (expect: string) => `name: catalogue
duration: 1m
devices:
  - { id: esme, type: radio, eui64: 00124b0000000001, channel: 15, position: { x: 0, y: 0 } }
  - { id: ch, type: radio, eui64: 00124b0000000002, channel: 15, position: { x: 5, y: 0 } }
expect:
${expect}`;

function refusal(expect: string): ScenarioError {
  try {
    parseScenario(scenario(expect), 'scenarios/bad.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected the scenario to be refused');
}

describe('expectations against the catalogue', () => {
  it('refuses an unknown device event type (joinned), naming the line and the field', () => {
    const e = refusal('  - never: { type: device, radio: esme, event: { type: joinned } }\n');
    expect({ code: e.code, line: e.line, field: e.field }).toEqual({
      code: 'SCENARIO_BAD_EVENT',
      line: 7,
      field: 'expect.0.never.event.type',
    });
    expect(e.message).toBe(
      'scenarios/bad.yaml:7: expect.0.never.event.type: unknown device event type "joinned" (did you mean "joined"?) [SCENARIO_BAD_EVENT]',
    );
  });

  it('refuses a misspelt field of a device event and of a bus event', () => {
    const e = refusal(
      '  - name: joined under the CH\n    event:\n      type: device\n      radio: esme\n      event: { type: joined, parnet: ch }\n',
    );
    expect({ code: e.code, line: e.line, field: e.field }).toEqual({
      code: 'SCENARIO_BAD_EVENT',
      line: 11,
      field: 'expect.0.event.event.parnet',
    });
    expect(e.detail).toMatch(/^not a field of joined events \(fields: type, panId, short, parent\)$/);
    const bus = refusal('  - count: { type: rx, form: ch }\n    min: 1\n');
    expect([bus.code, bus.line, bus.field]).toEqual(['SCENARIO_BAD_EVENT', 7, 'expect.0.count.form']);
  });

  it('refuses an unknown bus event type, a value a field never takes, and a bad step of an order', () => {
    expect(refusal('  - event: { type: recieve }\n').field).toBe('expect.0.event.type');
    const reason = refusal('  - never: { type: drop, reason: jamed }\n');
    expect([reason.code, reason.field]).toEqual(['SCENARIO_BAD_EVENT', 'expect.0.never.reason']);
    expect(reason.detail).toMatch(/"jamed" can never match/);
    expect(refusal('  - never: { type: jam, on: yes please }\n').field).toBe('expect.0.never.on');
    const step = refusal(
      '  - order:\n      - { type: power, radio: esme, on: false }\n      - { type: device, event: { type: frame-dropped, reason: nwk-bad-mik } }\n',
    );
    expect([step.code, step.line, step.field]).toEqual([
      'SCENARIO_BAD_EVENT',
      9,
      'expect.0.order.1.event.reason',
    ]);
    // a frame drop reason of another layer than the one named (MAC_DROP_REASONS, ... in @gbhan/stack)
    const layer = refusal(
      '  - never: { type: device, event: { type: frame-dropped, layer: NWK, reason: aps-bad-mic } }\n',
    );
    expect([layer.code, layer.detail]).toEqual([
      'SCENARIO_BAD_EVENT',
      expect.stringMatching(/not a NWK frame drop reason/),
    ]);
    // a device id in an event field that names no device can never equal an EUI64
    expect(refusal('  - event: { type: device, event: { type: cbke-established, peer: chh } }\n').field).toBe(
      'expect.0.event.event.peer',
    );
    // without a type, some event must have every field given
    expect(refusal('  - never: { frme: 3 }\n').field).toBe('expect.0.never.frme');
  });

  it('accepts what events can match: partial fields, nested objects and arrays, device ids', () => {
    const s = parseScenario(
      scenario(
        [
          '  - event: { type: device, radio: esme, event: { type: joined, parent: ch } }',
          '  - never: { type: device, event: { type: frame-dropped, layer: APS, reason: aps-bad-mic } }',
          '  - never: { type: device, event: { type: app-drop, reason: unsupported-command readAttributes } }',
          '  - never: { type: device, event: { type: security-log, detail: { eui64: ch } } }',
          '  - never: { type: device, event: { type: hht-meter-read, values: [{ attrId: 0 }] } }',
          '  - never: { type: attach, position: { x: 0 } }',
          '  - never: { reason: loss }',
          '  - never: { type: device, event: {} }',
        ].join('\n'),
      ),
      'scenarios/good.yaml',
    );
    expect(s.expect).toHaveLength(8);
    expect(s.expect[0]).toMatchObject({
      match: { radio: '00124b0000000001', event: { type: 'joined', parent: '00124b0000000002' } },
    });
  });

  it('loads every shipped scenario', () => {
    const files = readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) expect(loadScenario(join(ROOT, 'scenarios', f)).expect.length).toBeGreaterThan(0);
  });
});
