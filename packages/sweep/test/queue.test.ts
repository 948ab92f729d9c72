/**
 * The sweep over BullMQ against a real Redis (redis-server on a free port of 127.0.0.1, no
 * persistence): two `gbhan worker` processes take the runs; one is killed (SIGKILL, with its
 * sandboxed run) once it has finished a run - normally while it holds the next, whose lock
 * then expires and the other worker takes it again (stalled-job recovery). results.csv must equal the local pool's byte for byte, lines
 * sorted and the wall-time column aside.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '@gbhan/testing/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparableCsv, runSweep } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gbhan-sweep-queue-'));
const started: ChildProcess[] = [];
let port = 0;

const STUDY = `name: queued
seeds: 3
parameters:
  distance: [10, 100]
  window: [60m, unlimited]
scenario:
  duration: 3h
  devices:
    - id: ch
      type: comms-hub
      eui64: 00124b0000c0ff01
      channel: 15
      position: { x: 0, y: 0 }
      config: { panId: 0x1a01, channels: [{ page: 0, channel: 15 }], cbkeSuite: 1, cbkeTiming: as-fast-as-computed, interPanWindow: '{{window}}' }
    - id: rogue
      type: attacker
      eui64: 00124b0000dead01
      channel: 15
      position: { x: '{{distance}}', y: 0 }
      config: { target: ch, targetPanId: 0x1a01, channels: [{ page: 0, channel: 15 }] }
  timeline:
    - { at: 30m, device: rogue, action: flood, args: { count: 20, interval: 10s, spoof: 3 } }
    - { at: 2h, device: ch, action: power-off }
    - { at: 2h0m1s, device: ch, action: power-on }
    - { at: 2h10m, device: rogue, action: unknown-issuer }
metrics:
  - window
  - exposure: { classes: [15, 50, 130] }
  - attacker-frames
`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function start(cmd: string, args: string[]): ChildProcess & { output: string } {
  // its own process group, so a kill takes its sandboxed run with it
  const p = spawn(cmd, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  }) as ChildProcess & {
    output: string;
  };
  p.output = '';
  p.stdout!.on('data', (d) => {
    p.output += d;
  });
  p.stderr!.on('data', (d) => {
    p.output += d;
  });
  started.push(p);
  return p;
}

function kill(p: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(-p.pid!, signal);
  } catch {
    // already gone
  }
}

beforeAll(async () => {
  port = await freePort();
  const redis = start('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  // Wall clock: waiting for a server process to listen.
  for (let i = 0; i < 100 && !redis.output.includes('Ready to accept connections'); i++)
    await new Promise((r) => setTimeout(r, 50));
  expect(redis.output).toContain('Ready to accept connections');
});

afterAll(async () => {
  for (const p of started.reverse()) kill(p, p === started[0] ? 'SIGKILL' : 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const worker = (name: string) =>
  start(process.execPath, [
    join(ROOT, 'packages/scenario/bin/gbhan.js'),
    'worker',
    '--queue',
    `redis://127.0.0.1:${port}`,
    '--out',
    join(dir, name),
    '--lock-duration',
    '3000',
    '--stalled-interval',
    '1000',
  ]);

describe('sweep on BullMQ', () => {
  it('two workers (one killed mid-job) give the local pool results, byte for byte', async () => {
    const file = join(dir, 'queued.yaml');
    writeFileSync(file, STUDY);
    const local = await runSweep(file, { out: join(dir, 'local'), workers: 2, log: () => {} });
    expect(local.errors).toBe(0);

    const a = worker('a');
    const b = worker('b');
    const queued = runSweep(file, {
      out: join(dir, 'queued'),
      queue: `redis://127.0.0.1:${port}`,
      queueTimeoutMs: 120_000,
      log: () => {},
    });
    // Kill worker a once it has finished a run (it is then into its next one).
    for (let i = 0; i < 1200 && !a.output.includes('done '); i++) await new Promise((r) => setTimeout(r, 50));
    kill(a);
    const r = await queued;
    expect(a.output).toContain('done ');
    expect(b.output).toContain('done ');
    expect(r.rows).toHaveLength(12);
    expect(r.errors).toBe(0);
    const localCsv = readFileSync(local.files.csv, 'utf8');
    const queuedCsv = readFileSync(r.files.csv, 'utf8');
    expect(comparableCsv(queuedCsv)).toBe(comparableCsv(localCsv));
    // the comparison does see a difference in a metric
    expect(comparableCsv(queuedCsv.replace(',ok,', ',error,'))).not.toBe(comparableCsv(localCsv));
    expect(readFileSync(r.files.summary, 'utf8')).toBe(readFileSync(local.files.summary, 'utf8'));
  });
});
