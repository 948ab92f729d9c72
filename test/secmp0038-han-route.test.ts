/**
 * SECMP0038 on the CH, side by side: two homes, each with an enhanced PPMID that passes a
 * fully formed GBCS top-up (built by the run's DCC) onto the HAN. Home A's CH has
 * `secmp0038: true` and routes it to the ESME, which checks and runs it and whose answer goes
 * back to the PPMID; home B's CH keeps today's rule and refuses it (Security Log, alert
 * 0x8F30). The same command then arrives by the WAN too: home A's ESME runs it exactly once.
 * The hex is built in the test with the run's keys, so the YAML is written here.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDcc } from '@gbhan/comms-hub';
import { gbhan } from '@gbhan/testing';
import { beforeAll, describe, expect, it } from 'vitest';

const SEED = 38;
const home = (n: 'a' | 'b', channel: number, x: number) => ({
  ch: `00124b00000c${n === 'a' ? '0a' : '0b'}00`,
  esme: `00124b0000e5${n === 'a' ? '0a' : '0b'}00`,
  ppmid: `00124b0000bb${n === 'a' ? '0a' : '0b'}00`,
  channel,
  x,
});
const A = home('a', 15, 0);
const B = home('b', 20, 500);

function yaml(topUpHexA: string, topUpHexB: string): string {
  const devices = (h: typeof A, id: string, secmp0038: boolean) => `
  - { id: ch-${id}, type: comms-hub, eui64: ${h.ch}, channel: ${h.channel}, position: { x: ${h.x}, y: 0 },
      config: { secmp0038: ${secmp0038}, channels: [{ page: 0, channel: ${h.channel} }] } }
  - { id: esme-${id}, type: esme, eui64: ${h.esme}, channel: ${h.channel}, position: { x: ${h.x + 3}, y: 0 },
      config: { installCode: 112e4b6885a2bfdcf91633506d8aa7c43f5a, ch: ch-${id}, channels: [{ page: 0, channel: ${h.channel} }], prepayment: { initialCredit: 1000 } } }
  - { id: ppmid-${id}, type: ppmid, eui64: ${h.ppmid}, channel: ${h.channel}, position: { x: ${h.x + 2}, y: 0 },
      config: { installCode: 33506d8aa7c4e1fe1b3855728facc9e6110f, ch: ch-${id}, esme: esme-${id}, enhanced: true, readPeriod: 10m, readGas: false, channels: [{ page: 0, channel: ${h.channel} }] } }`;
  const log = (id: string) => `
  - { at: 5s, device: ch-${id}, action: update-device-log, args: { op: add, device: esme-${id} } }
  - { at: 10s, device: ch-${id}, action: update-device-log, args: { op: add, device: ppmid-${id} } }`;
  return `name: secmp0038-han-route
seed: ${SEED}
duration: 8m
devices:${devices(A, 'a', true)}${devices(B, 'b', false)}
timeline:${log('a')}${log('b')}
  - { at: 4m, device: ppmid-a, action: alt-channel-command, args: { hex: ${topUpHexA} } }
  - { at: 4m, device: ppmid-b, action: alt-channel-command, args: { hex: ${topUpHexB} } }
  # The WAN comes back and the head-end sends the same command that way too.
  - { at: 5m, device: ch-a, action: gbcs, args: { hex: ${topUpHexA} } }
expect:
  - name: both PPMIDs are commissioned with their CH (tunnel open)
    count: { type: device, event: { type: tunnel-request, status: 0 } }
    min: 2
    before: 4m
`;
}

type Line = { t: number; type: string; radio?: string; event?: Record<string, unknown> & { type: string } };
let lines: Line[] = [];
const events = (radio: string, type: string) =>
  lines
    .filter((l) => l.type === 'device' && l.radio === radio && l.event?.type === type)
    .map((l) => l.event!);

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbhan-secmp0038-'));
  const dcc = runDcc(SEED);
  // Counters as the head-end would use them: Unix ms of the virtual run (2026-01-01 + 3 min).
  const now = 1_767_225_600_000 + 180_000;
  const hex = (esme: string, utrn: string) =>
    Buffer.from(dcc.command(esme, { useCase: 'CS01a', utrn }, { nowUnixMs: now }).bytes).toString('hex');
  const file = join(dir, 'secmp0038-han-route.yaml');
  writeFileSync(file, yaml(hex(A.esme, '00000000000038000700'), hex(B.esme, '00000000000039000700')));
  const run = await gbhan(['run', file, '--out', dir]);
  expect(run.code, run.out).toBe(0);
  lines = readFileSync(join(dir, 'secmp0038-han-route', 'trace.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}, 120_000);

describe('SECMP0038: a command passed on by an enhanced PPMID', () => {
  it('both PPMIDs pass the command on to their CH unchanged', () => {
    for (const h of [A, B])
      expect(events(h.ppmid, 'alt-channel-command')).toEqual([
        expect.objectContaining({ useCase: 'CS01a', target: h.esme, forwarded: true }),
      ]);
  });

  it('with secmp0038 the CH routes it, the ESME runs it once and its answer goes back to the PPMID', () => {
    expect(events(A.ch, 'gbcs-han-command')).toEqual([
      expect.objectContaining({ from: A.ppmid, target: A.esme, routed: true }),
    ]);
    expect(events(A.esme, 'gbcs-command-executed')).toEqual([
      expect.objectContaining({ useCase: 'CS01a', result: 'accepted 700' }),
    ]);
    expect(events(A.ch, 'gbcs-response-to-ppmid')).toEqual([
      expect.objectContaining({ ppmid: A.ppmid, sent: true }),
    ]);
    expect(events(A.ppmid, 'alt-channel-response')).toEqual([expect.objectContaining({ useCase: 'CS01a' })]);
  });

  it('the same command by the WAN afterwards is refused as a replay: executed exactly once', () => {
    expect(events(A.esme, 'gbcs-command-refused')).toEqual([
      expect.objectContaining({ reason: 'stale-counter' }),
    ]);
    expect(events(A.esme, 'top-up-accepted')).toHaveLength(1);
  });

  it("without secmp0038 the CH refuses it (today's rule): logged and alerted, the meter never sees it", () => {
    expect(events(B.ch, 'gbcs-han-command')).toEqual([
      expect.objectContaining({ from: B.ppmid, routed: false, reason: 'secmp0038-off' }),
    ]);
    expect(events(B.ch, 'security-log')).toContainEqual(
      expect.objectContaining({ event: 'gbcs-han-command-refused' }),
    );
    expect(events(B.esme, 'gbcs-command-executed')).toEqual([]);
    expect(events(B.esme, 'gbcs-command-refused')).toEqual([]);
    expect(events(B.esme, 'top-up-accepted')).toEqual([]);
  });
});
