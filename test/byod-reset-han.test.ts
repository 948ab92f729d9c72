/**
 * Bring your own device, end to end: scenarios/byod-reset-han.yaml with @gbhan/testkit, the
 * ESME as an outside `gbhan device esme` process and `byod-radio` as the Python reference
 * client, both over the WebSocket bus. The test drives the story itself (Device Log add, WAN
 * down, power, Reset HAN through the meter's optical port) and asserts that the meter rejoins
 * the new CH from the ZigBee 05-3474 §3.6.1.4.1 state (not joined): join, CBKE, tunnel.
 * A second test runs the file's own timeline with the same outside devices and judges its
 * `expect:` section, so the scenario holds with your devices as it does under `npm start`.
 */
import { type Han, startHan, TestkitError } from '@gbhan/testkit';
import { describe, expect, it } from 'vitest';
import { CLIENT, lines, PYTHON } from './support/python-client.js';

const FILE = 'scenarios/byod-reset-han.yaml';

/** Attach the outside devices: the ESME process and the Python client. */
async function attachOutside(han: Han) {
  const esme = han.spawnDevice('esme');
  const py = han.spawn(PYTHON, [
    CLIENT,
    ...['--bus', han.url, '--eui64', han.eui64('byod-radio'), '--channel', '15'],
    ...['--x', '4', '--y', '2', '--short', '0x0b01', '--name', 'byod-radio'],
  ]);
  const why = () => `esme: ${esme.stderr()} python: ${py.stderr()}`;
  await Promise.all([han.waitForAttach('esme'), han.waitForAttach('byod-radio')]).catch((e) => {
    throw new Error(`${(e as Error).message}; ${why()}`);
  });
  return { esme, py };
}

describe('bring your own device: Reset HAN and rejoin', () => {
  it('an outside ESME rejoins the new CH from the 3.6.1.4.1 state; the Python radio acks on the same air', async () => {
    const han = await startHan({ scenario: FILE, outside: ['esme', 'byod-radio'] });
    try {
      const { py } = await attachOutside(han);
      // The old home: installed on CH-A, then the WAN fails and the meter leaves.
      han.deviceLogAdd('ch-a', 'esme');
      await han.waitFor(
        { type: 'device', radio: 'esme', event: { type: 'cbke-established', peer: 'ch-a' } },
        { within: '2m' },
      );
      han.wan('ch-a', false);
      await han.run('10s');
      han.power('esme', false);
      han.power('ch-a', false);
      await han.run('20s');
      // The facility: Reset HAN through the meter's own optical port (unlock, reset, relock).
      han.power('esme', true);
      await han.run('30s');
      const since = han.now;
      const reset = await han.resetHan('esme');
      expect(reset.type === 'device' && reset.event).toMatchObject({
        changed: ['app.cbkeDone', 'meter.deviceLog', 'stack.linkKeys', 'stack.network'],
        keptUnchanged: true,
        removedDeviceLogEntries: [han.eui64('ch-a')],
      });
      // ZigBee 05-3474 §3.6.1.4.1: the state after the reset is "not joined", no network.
      const state = await han.waitFor(
        { type: 'device', radio: 'esme', event: { type: 'nwk-state', state: 'not-joined' } },
        { since, within: '1s' },
      );
      expect(state.t).toBe(reset.t);
      // The new home: CH-B holds the meter in its Device Log; the meter joins it from that state.
      han.power('esme', false);
      han.power('ch-b', true);
      await han.run('30s');
      han.power('esme', true);
      const from = han.now;
      const added = await han.waitFor(
        { type: 'device', radio: 'esme', event: { type: 'device-log-ch-added', eui64: 'ch-b' } },
        { since: from, within: '2m' },
      );
      const cbke = await han.waitFor(
        { type: 'device', radio: 'esme', event: { type: 'cbke-established', peer: 'ch-b' } },
        { since: from, within: '2m' },
      );
      const tunnel = await han.waitFor(
        { type: 'device', radio: 'ch-b', event: { type: 'tunnel-established', peer: 'esme' } },
        { since: from, within: '2m' },
      );
      expect(from).toBeLessThan(added.t);
      expect(added.t).toBeLessThan(cbke.t);
      expect(cbke.t).toBeLessThan(tunnel.t);
      // Not with CH-A, which is gone: nothing of the old HAN after the reset.
      han.assertNever(
        { type: 'device', radio: 'esme', event: { type: 'cbke-established', peer: 'ch-a' } },
        since,
      );
      // A wait that cannot succeed ends in virtual time with a typed error, not a hang.
      await expect(
        han.waitFor(
          { type: 'device', radio: 'esme', event: { type: 'cbke-established', peer: 'ch-a' } },
          { within: '5s' },
        ),
      ).rejects.toMatchObject({ code: 'TESTKIT_TIMEOUT' });
      // The Python radio acked the pinger's data requests all along.
      const acked = han.find({ type: 'device', radio: 'pinger', event: { type: 'acked' } });
      expect(acked.length).toBeGreaterThanOrEqual(Math.floor(han.now / 30e6) - 1);
      han.assertNever({ type: 'error' });
      await han.close();
      await py.exit;
      const summary = lines(py.stdout()).at(-1)!;
      expect(summary).toMatchObject({ event: 'summary', acksSent: acked.length });
      // It heard the HAN on its channel too (CH-B's frames), not only the pinger.
      expect(summary.frames as number).toBeGreaterThan(2 * acked.length);
    } finally {
      await han.close();
    }
  }, 60_000);

  it("the file's own timeline holds every expectation with the outside ESME and Python radio", async () => {
    const han = await startHan({ scenario: FILE, outside: ['esme', 'byod-radio'], timeline: true });
    try {
      await attachOutside(han);
      await han.run('9m');
      const results = han.expectations();
      expect(results.filter((r) => !r.held)).toEqual([]);
      expect(results).toHaveLength(6);
    } finally {
      await han.close();
    }
  }, 60_000);

  it('refuses unknown devices and actions with typed errors', async () => {
    await expect(startHan({ scenario: FILE, outside: ['nobody'] })).rejects.toMatchObject({
      code: 'TESTKIT_UNKNOWN_DEVICE',
    });
    const han = await startHan({ scenario: FILE });
    try {
      expect(() => han.act('esme', 'fly')).toThrow(TestkitError);
      expect(() => han.act('esme', 'fly')).toThrow(
        /TESTKIT_BAD_ACTION: device type esme has no action "fly"/,
      );
      expect(() => han.act('ch-a', 'update-device-log', { op: 'add', device: 'nobody' })).toThrow(
        /TESTKIT_UNKNOWN_DEVICE/,
      );
      await expect(han.waitForAttach('nobody')).rejects.toMatchObject({ code: 'TESTKIT_UNKNOWN_DEVICE' });
      // No device attaches for `esme` here: waiting is bounded (wall time) and typed.
      await expect(han.waitForAttach('esme', { timeoutMs: 200 })).resolves.toMatchObject({ type: 'attach' });
    } finally {
      await han.close();
    }
    const outside = await startHan({ scenario: FILE, outside: ['esme'] });
    try {
      await expect(outside.waitForAttach('esme', { timeoutMs: 200 })).rejects.toMatchObject({
        code: 'TESTKIT_ATTACH_TIMEOUT',
      });
    } finally {
      await outside.close();
    }
    // The runner's crash/restart are not the testkit's to replay.
    await expect(
      startHan({ scenario: 'scenarios/meter-crash-restart.yaml', timeline: true }),
    ).rejects.toMatchObject({ code: 'TESTKIT_UNSUPPORTED' });
  });
});
