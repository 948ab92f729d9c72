/**
 * The Inter-PAN scenarios of issue 6 end to end: every expectation holds, each capture
 * dissects in tshark with 0 malformed frames and its Inter-PAN frames shown as Inter-PAN
 * (NWK frame type 3 with the Inter-PAN APS stub), and the attack scenario gives the same trace
 * and capture in-process and with --processes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { differingOutputs, gbhan } from './support/gbhan.js';
import { malformedCount, tsharkFields } from './support/tshark.js';

const SCENARIOS = ['hht-install-window', 'interpan-under-attack', 'secmp0037-local-ppmid-pairing'];

describe('Inter-PAN scenarios (issue 6)', () => {
  it('hold every expectation; captures dissect with 0 malformed and Inter-PAN shown as Inter-PAN', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-interpan-'));
    const [a, b] = await Promise.all([
      gbhan(['run', ...SCENARIOS.map((s) => `scenarios/${s}.yaml`), '--out', join(dir, 'in')]),
      gbhan(['run', 'scenarios/interpan-under-attack.yaml', '--processes', '--out', join(dir, 'proc')]),
    ]);
    expect(a.code, a.out).toBe(0);
    expect(b.code, b.out).toBe(0);
    expect(differingOutputs(dir, 'interpan-under-attack', ['trace.jsonl', 'capture.pcap'])).toEqual([]);
    for (const s of SCENARIOS) {
      const pcap = join(dir, 'in', s, 'capture.pcap');
      expect(malformedCount(pcap), s).toBe(0);
      const interPan = tsharkFields(
        pcap,
        ['zbee_nwk.frame_type', 'zbee_aps.type'],
        ['-Y', 'zbee_nwk.frame_type == 3'],
      );
      expect(interPan.length, s).toBeGreaterThan(5);
      // APS frame type 3 = Inter-PAN stub
      expect(
        interPan.every(([nwk, aps]) => Number(nwk) === 3 && Number(aps) === 3),
        s,
      ).toBe(true);
    }
  });
});
