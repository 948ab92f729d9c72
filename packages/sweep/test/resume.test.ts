/**
 * Resume: a sweep killed (SIGKILL) mid-way keeps the rows it had finished; run again, it
 * runs only the missing ones. Nothing lost, nothing duplicated - also when the crash left a
 * half-written last line in results.jsonl.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gbhan, ROOT } from '@gbhan/testing/cli';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'gbhan-sweep-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STUDY = `name: resume
seeds: 4
parameters:
  distance: [10, 40, 100]
scenario:
  duration: 6h
  devices:
    - id: ch
      type: comms-hub
      eui64: 00124b0000c0ff01
      channel: 15
      position: { x: 0, y: 0 }
      config: { panId: 0x1a01, channels: [{ page: 0, channel: 15 }], cbkeSuite: 1, cbkeTiming: as-fast-as-computed }
    - id: rogue
      type: attacker
      eui64: 00124b0000dead01
      channel: 15
      position: { x: '{{distance}}', y: 0 }
      config: { target: ch, targetPanId: 0x1a01, channels: [{ page: 0, channel: 15 }] }
  timeline:
    - { at: 30m, device: rogue, action: flood, args: { count: 20, interval: 10s } }
    - { at: 3h, device: ch, action: power-off }
    - { at: 3h0m1s, device: ch, action: power-on }
metrics: [window, attacker-frames]
`;

const lines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];

describe('sweep resume', () => {
  it('a killed sweep, run again, ends with every row exactly once', async () => {
    const file = join(dir, 'resume.yaml');
    writeFileSync(file, STUDY);
    const out = join(dir, 'out');
    const jsonl = join(out, 'resume', 'results.jsonl');
    const proc = spawn(
      process.execPath,
      [join(ROOT, 'packages/scenario/bin/gbhan.js'), 'sweep', file, '--out', out, '--workers', '1'],
      { cwd: ROOT, stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    // Kill it as soon as 3 rows are in (wall clock: polling a child process).
    for (let i = 0; i < 600 && lines(jsonl).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    proc.kill('SIGKILL');
    await exited;
    const before = lines(jsonl);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.length).toBeLessThan(12);
    // and the crash happened mid-write of the next row
    appendFileSync(jsonl, '{"key":"distance=100,seed=4","params":{"dista');

    const again = await gbhan(['sweep', file, '--out', out, '--workers', '2']);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain(`${before.length} already done, ${12 - before.length} to run`);
    const after = lines(jsonl);
    expect(after.slice(0, before.length)).toEqual(before); // nothing rewritten or lost
    const keys = after.map((l) => JSON.parse(l).key as string);
    expect(new Set(keys).size).toBe(12);
    expect(keys).toHaveLength(12);
    // results.csv: a header and 12 rows in the study's order
    const csv = lines(join(out, 'resume', 'results.csv'));
    expect(csv).toHaveLength(13);
    expect(csv[1]).toMatch(/^"distance=10,seed=1",10,1,ok,/);
    // a third run has nothing left to do
    const third = await gbhan(['sweep', file, '--out', out]);
    expect(third.out).toContain('12 already done, 0 to run');
    expect(lines(jsonl)).toEqual(after);
  });
});
