/**
 * A scenario's `links:` section and link actions: members by device id, mistakes with file,
 * line and code, and the actions reaching the bus at their virtual times.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario, ScenarioError } from '../src/index.js';

const SCENARIO = `name: wlan
duration: 10s
devices:
  - { id: head-end, type: radio, eui64: 00124b0000000001, channel: 15, position: { x: 0, y: 0 } }
  - { id: ppmid-a, type: radio, eui64: 00124b0000000002, channel: 15, position: { x: 5, y: 0 } }
links:
  wlan-home-a:
    members: [head-end, ppmid-a]
    latency: { kind: lognormal, medianMs: 40, sigma: 0.5 }
    loss: 0.01
    bandwidthBps: 2000000
    outages: [{ from: 6s, to: 7s }]
timeline:
  - { at: 2s, action: wlan-down, args: { link: wlan-home-a } }
  - { at: 3s, action: wlan-up, args: { link: wlan-home-a } }
  - { at: 4s, action: link-delay, args: { link: wlan-home-a, latency: 250 } }
  - { at: 5s, action: link-loss, args: { link: wlan-home-a, loss: 0.5 } }
expect:
  - order:
      - { type: link-state, link: wlan-home-a, up: false, cause: control }
      - { type: link-state, link: wlan-home-a, up: true, cause: control }
      - { type: link-set, link: wlan-home-a }
      - { type: link-state, link: wlan-home-a, up: false, cause: outage }
`;

function error(text: string): ScenarioError {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected the scenario to be refused');
}

describe('scenario links', () => {
  it('resolves members to EUI64s and outages to microseconds', () => {
    const s = parseScenario(SCENARIO, 'wlan.yaml');
    expect(s.links['wlan-home-a']).toMatchObject({
      members: ['00124b0000000001', '00124b0000000002'],
      outages: [{ from: 6_000_000, to: 7_000_000 }],
    });
    expect(s.timeline.map((e) => (e.kind === 'link' ? [e.at, e.link, e.change] : null))).toEqual([
      [2_000_000, 'wlan-home-a', { up: false }],
      [3_000_000, 'wlan-home-a', { up: true }],
      [4_000_000, 'wlan-home-a', { latency: { kind: 'fixed', ms: 250 } }],
      [5_000_000, 'wlan-home-a', { loss: 0.5 }],
    ]);
  });

  it('names the file, line and field of a mistake', () => {
    const unknownMember = error(SCENARIO.replace('[head-end, ppmid-a]', '[head-end, ppmid-b]'));
    expect([unknownMember.code, unknownMember.line, unknownMember.field]).toEqual([
      'SCENARIO_UNKNOWN_REFERENCE',
      8,
      'links.wlan-home-a.members.1',
    ]);
    const same = error(SCENARIO.replace('[head-end, ppmid-a]', '[head-end, 00124b0000000001]'));
    expect([same.code, same.line, same.field]).toEqual(['SCENARIO_SCHEMA', 8, 'links.wlan-home-a.members.1']);
    const unknownLink = error(
      SCENARIO.replace('wlan-up, args: { link: wlan-home-a }', 'wlan-up, args: { link: wlan-b }'),
    );
    expect([unknownLink.code, unknownLink.line, unknownLink.field]).toEqual([
      'SCENARIO_UNKNOWN_REFERENCE',
      15,
      'timeline.1.args.link',
    ]);
    expect(unknownLink.message).toMatch(/no link "wlan-b" \(links: wlan-home-a\)/);
    const badLoss = error(SCENARIO.replace('loss: 0.5', 'loss: 5'));
    expect([badLoss.code, badLoss.line]).toEqual(['SCENARIO_SCHEMA', 17]);
    const badLatency = error(SCENARIO.replace('sigma: 0.5', 'sigma: -1'));
    expect([badLatency.code, badLatency.line]).toEqual(['SCENARIO_SCHEMA', 9]);
    const badOutage = error(SCENARIO.replace('to: 7s', 'to: soon'));
    expect(badOutage.code).toBe('SCENARIO_BAD_DURATION');
    const action = error(SCENARIO.replace('action: wlan-down', 'action: wlan-off'));
    expect(action.code).toBe('SCENARIO_UNKNOWN_ACTION');
    expect(action.message).toMatch(/links: wlan-down, wlan-up, link-state, link-delay, link-loss, link-set/);
  });

  it('runs: the actions and the outage change the link at their virtual times', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gbhan-links-'));
    const r = await runScenario(parseScenario(SCENARIO, 'wlan.yaml'), { outRoot: out });
    expect(r.passed).toBe(true);
    const events = readFileSync(r.outputs.trace!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; t: number })
      .filter((e) => e.type.startsWith('link-'));
    expect(events).toEqual([
      { t: 2_000_000, type: 'link-state', link: 'wlan-home-a', up: false, cause: 'control' },
      { t: 3_000_000, type: 'link-state', link: 'wlan-home-a', up: true, cause: 'control' },
      { t: 4_000_000, type: 'link-set', link: 'wlan-home-a', latency: { kind: 'fixed', ms: 250 } },
      { t: 5_000_000, type: 'link-set', link: 'wlan-home-a', loss: 0.5 },
      { t: 6_000_000, type: 'link-state', link: 'wlan-home-a', up: false, cause: 'outage' },
      { t: 7_000_000, type: 'link-state', link: 'wlan-home-a', up: true, cause: 'outage' },
    ]);
    // Each device in its own process: the same trace, byte for byte.
    const p = await runScenario(parseScenario(SCENARIO, 'wlan.yaml'), {
      outRoot: mkdtempSync(join(tmpdir(), 'gbhan-links-p-')),
      processes: true,
    });
    expect(readFileSync(p.outputs.trace!, 'utf8')).toBe(readFileSync(r.outputs.trace!, 'utf8'));
  }, 60_000);
});
