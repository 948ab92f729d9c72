/**
 * The Python reference client (clients/python/gbhan_bus_client.py, stdlib + Debian's
 * python3-websockets) lives on the bus: it registers a plain 802.15.4 radio, keeps the
 * idle/seen lock-step, acknowledges the data requests an emulated radio sends it (the emulated
 * radio traces each ack it gets) and gets its own data requests acknowledged. Run with
 * /usr/bin/python3, the interpreter Debian's package is installed for.
 */
import { parseScenario } from '@gbhan/scenario';
import { startHan } from '@gbhan/testkit';
import { describe, expect, it } from 'vitest';
import { CLIENT, lines, PYTHON } from './support/python-client.js';

const SCENARIO = `
name: python-client
seed: 3
duration: 5m
devices:
  - { id: py, type: radio, eui64: 00124b0000b0d001, channel: 15, position: { x: 0, y: 0 }, config: { pan: 0x0bad, short: 0x0b01 } }
  - id: pinger
    type: radio
    eui64: 00124b0000b0d002
    channel: 15
    position: { x: 5, y: 0 }
    config: { pan: 0x0bad, short: 0x0b02, period: 10s, destination: 0x0b01 }
`;

describe('the Python reference client', () => {
  it('registers, acks the frames addressed to it and gets its own acked, in lock-step', async () => {
    const han = await startHan({ scenario: parseScenario(SCENARIO, 'python-client.yaml'), outside: ['py'] });
    try {
      const py = han.spawn(PYTHON, [
        CLIENT,
        '--bus',
        han.url,
        '--eui64',
        '00124b0000b0d001',
        '--channel',
        '15',
        '--short',
        '0x0b01',
        '--send-to',
        '0x0b02',
        '--period',
        '20000000',
        '--name',
        'py',
      ]);
      await han.waitForAttach('py', { timeoutMs: 20_000 }).catch((e) => {
        throw new Error(`${e.message}; client stderr: ${py.stderr()}`);
      });
      await han.run('2m');
      // Every data request of the pinger (at 5s, 15s, ... 115s) was acked by the client, 192 us
      // after its last bit: 12 acks; an ack one turnaround late or missing would fail this.
      const acked = han.find({ type: 'device', radio: 'pinger', event: { type: 'acked' } });
      expect(acked).toHaveLength(12);
      const tx = han.find({ type: 'tx', radio: 'py' });
      // The pinger's data requests (12 bytes; its 5-byte frames are acks of the client's).
      const requests = han.find({ type: 'tx', radio: 'pinger', bytes: 12 });
      // The client's ack follows the pinger's first data request by airtime + turnaround.
      const first = requests[0]!;
      const ack = tx.find((e) => e.t > first.t)!;
      expect(ack.t - first.t).toBe((5 + 1 + (first as { bytes: number }).bytes) * 32 + 192);
      expect(han.find({ type: 'attach', radio: 'py' })[0]).toMatchObject({ name: 'py', channel: 15 });
      han.assertNever({ type: 'error' });
      await han.close();
      await py.exit;
      const out = lines(py.stdout());
      expect(out[0]).toMatchObject({ event: 'registered', eui64: '00124b0000b0d001', version: 1 });
      expect(out.filter((l) => l.event === 'ack-sent')).toHaveLength(12);
      // Its own data requests (at 1s, 21s, ... 101s) were acked by the emulated radio.
      expect(out.filter((l) => l.event === 'acked')).toHaveLength(6);
      expect(out.at(-1)).toMatchObject({ event: 'summary', acksSent: 12, acked: 6, txRefused: 0 });
    } finally {
      await han.close();
    }
  }, 60_000);
});
