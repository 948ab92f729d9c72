/**
 * `scenarios/gbcs-end-to-end.yaml` run once in-process, then judged from its outputs: Wireshark's
 * GBCS dissector reads every GBCS message in the capture (0 malformed frames), the commands and
 * responses it sees are, in order, the ones the trace says the DCC sent and checked; no forged
 * command ever ran; and the ESME's credit holds exactly the one genuine top-up.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gbhan, malformedCount, tsharkFields } from '@gbhan/testing';
import { beforeAll, describe, expect, it } from 'vitest';

const SCENARIO = 'gbcs-end-to-end';
const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const GSME = '00124b0000065e5e';
const METERS = [ESME, GSME];
/** GBCS message codes of the use cases the scenario sends. */
const MESSAGE_CODE: Record<string, string> = {
  CS01a: '0x0007',
  ECS70: '0x0062',
  ECS19: '0x002d',
  ECS42: '0x004f',
  ECS43: '0x0050',
  CS01b: '0x0097',
  GCS28: '0x007f',
};
const TOPUP_AMOUNT = 500;
const INITIAL_CREDIT = 1000;

const dir = mkdtempSync(join(tmpdir(), 'gbhan-gbcs-e2e-'));
const out = (file: string) => join(dir, SCENARIO, file);

type Event = Record<string, unknown> & { type: string };
type Line = { t: number; type: string; radio?: string; event?: Event };
let run: { code: number | null; out: string };
let lines: Line[] = [];
/** Device events of one radio and type, in trace order. */
const events = (radio: string, type: string) =>
  lines
    .filter((l) => l.type === 'device' && l.radio === radio && l.event?.type === type)
    .map((l) => l.event!);

/** tshark options giving it the run's key file (`zigbee_pc_keys` rows). */
const keyOptions = () =>
  readFileSync(out('keys'), 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .flatMap((l) => ['-o', `uat:zigbee_pc_keys:${l}`]);

/** "90:b3:d5:1f:30:01:00:00" -> "90b3d51f30010000" */
const eui = (s: string) => s.replaceAll(':', '').toLowerCase();

beforeAll(async () => {
  run = await gbhan(['run', `scenarios/${SCENARIO}.yaml`, '--out', dir]);
  lines = readFileSync(out('trace.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Line);
}, 300_000);

describe('the gbcs-end-to-end scenario', () => {
  it('holds every expectation', () => {
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/all 1 scenario\(s\) held every expectation/);
  });

  it('tshark dissects every GBCS message, 0 malformed, and sees the commands and responses of the trace in order', () => {
    const pcap = out('capture.pcap');
    const keys = keyOptions();
    expect(malformedCount(pcap, keys)).toBe(0);
    const rows = tsharkFields(
      pcap,
      [
        'gbcs_message.grouping_header.cra_flag',
        'gbcs_message.grouping_header.originator_counter',
        'gbcs_message.grouping_header.message_code',
        'gbcs_message.grouping_header.business_originator_id',
        'gbcs_message.grouping_header.business_target_id',
      ],
      [...keys, '-Y', 'gbcs_message'],
    ).map(([cra, counter, code, originator, target]) => ({
      cra: cra!,
      counter: counter!,
      code: code!,
      originator: eui(originator!),
      target: eui(target!),
    }));
    // Without the key file the tunnel is encrypted: no GBCS message can be seen at all.
    expect(tsharkFields(pcap, ['frame.number'], ['-Y', 'gbcs_message'])).toEqual([]);
    for (const r of rows) {
      expect(r.cra).toMatch(/^0x0[123]$/);
      expect(r.counter).toMatch(/^\d+$/);
      expect(r.code).toMatch(/^0x[0-9a-f]{4}$/);
    }

    const sent = events(CH, 'gbcs-command-sent');
    // 12 to the ESME, 3 to the GSME (through the GPF).
    expect(sent.length).toBe(15);
    const commands = rows.filter((r) => r.cra === '0x01');
    expect(commands).toEqual(
      sent.map((e) => ({
        cra: '0x01',
        counter: e.counter,
        code: MESSAGE_CODE[e.useCase as string],
        originator: e.originator,
        target: e.target,
      })),
    );
    // The trace's replay is byte for byte the ECS42 before it: it shows as the same command.
    const responses = rows.filter((r) => r.cra === '0x02');
    const answered = events(CH, 'gbcs-response');
    expect(answered.length).toBe(8);
    for (const a of answered) expect(a).toMatchObject({ authenticated: true, refusal: null });
    expect(answered.filter((a) => a.from === GSME).map((a) => a.useCase)).toEqual(['CS01b', 'GCS28']);
    expect(responses).toEqual(
      answered.map((e) => {
        const cmd = sent.find((s) => s.requestId === e.requestId)!;
        return {
          cra: '0x02',
          counter: e.counter,
          code: MESSAGE_CODE[e.useCase as string],
          originator: e.from,
          target: cmd.originator,
        };
      }),
    );
    // GBZ (the GSME's payloads): Wireshark's gbcs_gbz reads the CS01b commands (the tampered
    // one too: its flipped bit is in the payload) and responses, and the GCS28 response.
    const gbz = tsharkFields(
      pcap,
      ['gbcs_message.grouping_header.message_code', 'gbcs_gbz.profile_id'],
      [...keys, '-Y', 'gbcs_gbz'],
    );
    expect(gbz.length).toBeGreaterThanOrEqual(4);
    for (const [code, profile] of gbz) {
      expect(['0x0097', '0x007f']).toContain(code);
      expect(profile).toBe('0x0109');
    }
    // Each response answers a command with the same counter that was sent just before it.
    for (const e of answered) expect(sent.find((s) => s.requestId === e.requestId)?.counter).toBe(e.counter);
  });

  it('no forged command ever runs: each is followed by a refusal, and the executed ones are exactly the genuine', () => {
    const sent = events(CH, 'gbcs-command-sent');
    const onMeters = (type: string) =>
      lines
        .filter((l) => l.type === 'device' && METERS.includes(l.radio!) && l.event?.type === type)
        .map((l) => ({ ...l.event!, meter: l.radio }) as Record<string, unknown>);
    const executed = onMeters('gbcs-command-executed');
    const refused = onMeters('gbcs-command-refused');
    const forged = sent.filter((e) => e.forged === true);
    expect(forged.length).toBe(6);
    // Genuine sends from the Supplier ran, once each, in order; supplier2's ECS43 is genuine
    // but from a party this meter does not trust.
    const genuine = sent.filter((e) => e.forged === false && e.originator === '90b3d51f30010000');
    expect(executed.map((e) => [e.meter, e.useCase, e.counter, e.originator])).toEqual(
      genuine.map((e) => [e.target, e.useCase, e.counter, e.originator]),
    );
    expect(new Set(executed.map((e) => e.counter)).size).toBe(executed.length);
    // A forged command's counter, when new (not a replay of a genuine one's), never ran.
    const genuineCounters = new Set(genuine.map((e) => e.counter));
    for (const f of forged)
      if (!genuineCounters.has(f.counter)) expect(executed.map((e) => e.counter)).not.toContain(f.counter);
    // Between each forged (or untrusted) send and the next send: a refusal, no execution.
    const deviceLines = lines.filter((l) => l.type === 'device' && l.event !== undefined);
    const sends = deviceLines.filter((l) => l.radio === CH && l.event!.type === 'gbcs-command-sent');
    let refusalsSeen = 0;
    for (const [i, s] of sends.entries()) {
      if (s.event!.forged === false && s.event!.originator === '90b3d51f30010000') continue;
      // The GSME takes its commands at its next wake-up: look until its next GET answer, at most.
      const until =
        s.event!.target === GSME ? Number.POSITIVE_INFINITY : (sends[i + 1]?.t ?? Number.POSITIVE_INFINITY);
      const between = deviceLines.filter((l) => l.radio === s.event!.target && l.t >= s.t && l.t < until);
      expect(between.filter((l) => l.event!.type === 'gbcs-command-executed')).toEqual([]);
      expect(between.filter((l) => l.event!.type === 'gbcs-command-refused')).toHaveLength(1);
      refusalsSeen++;
    }
    expect(refusalsSeen).toBe(7);
    expect(refused.map((e) => [e.meter, e.reason])).toEqual([
      [ESME, 'stale-counter'],
      [ESME, 'bad-mac'],
      [ESME, 'bad-signature'],
      [ESME, 'stale-counter'],
      [ESME, 'bad-mac'],
      [ESME, 'unknown-originator'],
      [GSME, 'bad-mac'],
    ]);
  });

  it("the ESME's credit holds exactly one top-up", () => {
    const topUps = events(ESME, 'top-up-accepted');
    expect(topUps).toHaveLength(1);
    expect(topUps[0]).toMatchObject({ amount: TOPUP_AMOUNT, code: '00000000000001000500' });
    const atTopUp = topUps.at(-1)!.credit as number;
    // Less a little for the 2 kW load since the start; a second top-up would add 500 or more.
    expect(atTopUp).toBeGreaterThan(INITIAL_CREDIT + TOPUP_AMOUNT - 50);
    expect(atTopUp).toBeLessThanOrEqual(INITIAL_CREDIT + TOPUP_AMOUNT);
    // The last ECS19 read (after every forgery) answers with the credit less the load since.
    const reads = events(CH, 'gbcs-response').filter((e) => e.useCase === 'ECS19');
    expect(reads).toHaveLength(2);
    // The prepayment values travel sealed for the Supplier (0x31 + GCM); the DCC opened them.
    const data = reads.at(-1)!.data as { sealed: { type: string; value: number } }[];
    expect(data).toHaveLength(1);
    const last = data[0]!.sealed;
    expect(last.type).toBe('double-long');
    expect(last.value).toBeLessThanOrEqual(atTopUp);
    expect(last.value).toBeGreaterThan(INITIAL_CREDIT + TOPUP_AMOUNT - 50);
  });

  it("its risk table: the forgeries attempted, none executed, each detected, with the alert's delay", () => {
    const summary = JSON.parse(readFileSync(out('summary.json'), 'utf8'));
    const risk = (id: string) => summary.risks.find((r: { id: string }) => r.id === id);
    const sent = events(CH, 'gbcs-command-sent');
    // the attacks the timeline sends the ESME between 5m and 8m, and the tampered one for the GSME
    const esmeAttacks = sent.filter((e) => e.target === ESME && e.forged === true);
    expect(risk('forged-wan-command')).toMatchObject({
      category: 'dcc-user-infrastructure',
      exercised: true,
      attempts: 6,
      executed: 0,
      detected: 6,
      delay: { samples: 6, unmatched: 0 },
      // (2 + 4 x 4) x max(2, 5, 5)
      scores: { score: 90, rating: 'High' },
    });
    expect(esmeAttacks).toHaveLength(5); // the sixth is a genuine command from an unknown supplier
    expect(risk('forged-wan-command').delay.maxS).toBeLessThan(1);
    expect(risk('forged-gsme-command')).toMatchObject({ attempts: 1, executed: 0, detected: 1 });
    expect(risk('forged-gsme-command').delay.medianS).toBeGreaterThan(30); // waits for the wake-up
    expect(risk('alt-channel-command')).toMatchObject({ category: 'alternative-channel', exercised: false });
    expect(run.out).toMatch(/Alternative Channel\n.*\n +alt-channel-command +75\* +High +0 +not +exercised/);
  });
});
