/**
 * A street of homes: N homes, each a Communications Hub, an ESME, a GSME and a PPMID (the
 * CH's Device Log updated for the three, which join with their install codes, run CBKE and
 * open their tunnels), 6 m apart along a street, the homes on the 16 2.4 GHz channels round
 * robin (home i on channel 11 + i mod 16), for one simulated hour in-process, `trace:
 * compact`, trace and capture written to a temporary directory.
 *
 * Each run is a child process of its own (peak RSS is per process). Prints per N: wall
 * seconds, CPU seconds (user + system: steadier than wall time on a shared machine),
 * simulated seconds per wall second, peak RSS, trace events, and the growth exponent of wall
 * and CPU time between the two largest N, and the cost of a home-hour at each N against the
 * same home alone (N = 1, measured in the same run: the overhead of scale). `BENCH_HOMES=1,10,100`
 * (default), `BENCH_REPEAT=5` runs for N <= `BENCH_REPEAT_UPTO` (default 100; the median),
 * `BENCH_DURATION=1h`. The goal's own
 * numbers, 1,000 homes and the exponent from 100 to 1,000: `BENCH_HOMES=1,100,1000` (~15 min here). `city.ts --file bench/scenarios/city-1000.yaml`
 * runs a scenario file of homes instead (the same homes, written as a `homes:` template), once,
 * for `BENCH_DURATION` (default 1h).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseDuration } from '@gbhan/clock';
import { parseScenario, runScenario } from '@gbhan/scenario';
import { appendInstallCodeCrc } from '@gbhan/zigbee';

const here = new URL('.', import.meta.url).pathname;

function installCode(home: number, role: number): string {
  const code = new Uint8Array(16);
  for (let i = 0; i < 16; i++) code[i] = (home * 131 + role * 17 + i * 29 + 7) & 0xff;
  return Buffer.from(appendInstallCodeCrc(code)).toString('hex');
}

/** The scenario YAML of `homes` homes on a street. */
export function cityScenario(homes: number, duration: string): string {
  const lines = ['name: city', 'seed: 1', `duration: ${duration}`, 'trace: compact', 'devices:'];
  const timeline = ['timeline:'];
  for (let h = 0; h < homes; h++) {
    const channel = 11 + (h % 16);
    const eui = (role: number) =>
      `00124b${h.toString(16).padStart(8, '0')}${role.toString(16).padStart(2, '0')}`;
    const x = h * 6;
    const chans = `channels: [{ page: 0, channel: ${channel} }], ch: ch${h}`;
    const dev = (id: string, type: string, role: number, dx: number, config: string) =>
      lines.push(
        `  - { id: ${id}${h}, type: ${type}, eui64: ${eui(role)}, channel: ${channel}, position: { x: ${x + dx}, y: ${role} }, config: { ${config} } }`,
      );
    dev('ch', 'comms-hub', 1, 0, `panId: ${0x1000 + h}, channels: [{ page: 0, channel: ${channel} }]`);
    dev('esme', 'esme', 2, 1, `installCode: ${installCode(h, 2)}, ${chans}`);
    dev('gsme', 'gsme', 3, 2, `installCode: ${installCode(h, 3)}, ${chans}`);
    dev('ppmid', 'ppmid', 4, 3, `installCode: ${installCode(h, 4)}, ${chans}, esme: esme${h}`);
    for (const [i, d] of ['esme', 'gsme', 'ppmid'].entries())
      timeline.push(
        `  - { at: ${10 * (i + 1)}s, device: ch${h}, action: update-device-log, args: { op: add, device: ${d}${h} } }`,
      );
  }
  return [...lines, ...timeline, ''].join('\n');
}

interface Run {
  homes: number;
  wallS: number;
  /** CPU seconds of the run (user + system): less sensitive than wall time to a shared machine. */
  cpuS: number;
  simulatedS: number;
  rssMB: number;
  /** Live heap after the run and a full GC: what the run holds (peak RSS also has V8's slack). */
  heapMB: number;
  events: number;
  frames: number;
  joined: number;
  /** Wall seconds to the end of the first COMMISSIONING_US of simulated time (joins, CBKE, tunnels); null if the run is shorter. */
  commissioningS: number | null;
}

/** The homes join at 10, 20 and 30 s; two simulated minutes hold their joins, CBKE and tunnels. */
const COMMISSIONING_US = 120e6;

async function child(homes: number, duration: string, file?: string): Promise<Run> {
  const out = mkdtempSync(join(tmpdir(), 'gbhan-city-'));
  const text = file === undefined ? cityScenario(homes, duration) : readFileSync(file, 'utf8');
  const scenario = parseScenario(text, file ?? 'city.yaml', { maxDevices: 1_000_000, maxFileBytes: 1 << 24 });
  if (file !== undefined) {
    scenario.durationUs = parseDuration(duration);
    homes = scenario.devices.filter((d) => d.type === 'comms-hub').length;
  }
  // Warm-up: one home for a simulated minute (it joins, runs CBKE) loads every device package and warms the JIT,
  // so the measured run is the homes' own cost (a home alone is not mostly module loading).
  await runScenario(parseScenario(cityScenario(1, '1m'), 'warm-up.yaml'), { outRoot: out });
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let commissioningS: number | null = null;
  const r = await runScenario(scenario, {
    outRoot: out,
    manufacturerKeyFile: undefined,
    // The progress callback comes every 250 ms of wall time: the split is that precise.
    onProgress: (t) => {
      if (commissioningS === null && t >= COMMISSIONING_US)
        commissioningS = (performance.now() - start) / 1000;
    },
  });
  const wallS = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  rmSync(out, { recursive: true, force: true });
  (globalThis as { gc?: () => void }).gc?.();
  const heapMB = process.memoryUsage().heapUsed / 1e6;
  const events = Object.values(r.events).reduce((a, b) => a + b, 0);
  const joined = r.events.device ?? 0;
  return {
    homes,
    wallS,
    cpuS,
    simulatedS: r.durationUs / 1e6,
    rssMB: process.resourceUsage().maxRSS / 1024,
    heapMB,
    events,
    frames: r.events.tx ?? 0,
    joined,
    commissioningS,
  };
}

/** Wall ms per home per simulated minute after the commissioning minutes (null: no split). */
function steadyMsPerHomeMinute(r: Run): number | null {
  // The split comes from a progress callback every 250 ms of wall time: meaningless for short runs.
  if (r.commissioningS === null || r.simulatedS * 1e6 <= COMMISSIONING_US || r.wallS < 10) return null;
  const minutes = (r.simulatedS - COMMISSIONING_US / 1e6) / 60;
  return ((r.wallS - r.commissioningS) * 1000) / minutes / r.homes;
}

function phases(r: Run): string {
  const steady = steadyMsPerHomeMinute(r);
  if (r.commissioningS === null || steady === null) return '';
  return `; first ${COMMISSIONING_US / 60e6} simulated min ${r.commissioningS.toFixed(1)} s, then ${steady.toFixed(2)} ms per home per simulated minute`;
}

/** Run as a script (not imported for `cityScenario`). */
const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;

if (!isMain) {
  // imported: only the exports
} else if (process.argv[2] === '--child') {
  const run = await child(Number(process.argv[3]), process.argv[4] ?? '1h', process.argv[5]);
  console.log(JSON.stringify(run));
} else if (process.argv[2] === '--file') {
  // A scenario file of homes (bench/scenarios/city-1000.yaml), run once in a child process.
  const file = process.argv[3]!;
  const duration = process.env.BENCH_DURATION ?? '1h';
  const p = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', `${here}city.ts`, '--child', '0', duration, file],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    },
  );
  if (p.status !== 0) throw new Error(`${file}: exit ${p.status}`);
  const m = JSON.parse(p.stdout.trim().split('\n').pop()!) as Run;
  console.log(
    `${file}: ${m.homes} homes, ${duration}: ${m.wallS.toFixed(1)} s wall, ${(m.simulatedS / m.wallS).toFixed(0)} simulated s per wall s,` +
      ` peak RSS ${m.rssMB.toFixed(0)} MB, live heap after GC ${m.heapMB.toFixed(0)} MB, ${m.events} events (${m.frames} frames)`,
  );
} else {
  const sizes = (process.env.BENCH_HOMES ?? '1,10,100').split(',').map(Number);
  const repeat = Number(process.env.BENCH_REPEAT ?? 5);
  // N up to 100 runs `repeat` times (median): the growth exponent's smaller end is a short run
  // that one noisy minute of this machine moves by 20-30 %; a 1,000-home run is ~10 min, once.
  const repeatUpTo = Number(process.env.BENCH_REPEAT_UPTO ?? 100);
  const duration = process.env.BENCH_DURATION ?? '1h';
  const results: Run[] = [];
  for (const n of sizes) {
    const runs: Run[] = [];
    for (let i = 0; i < (n <= repeatUpTo ? repeat : 1); i++) {
      const p = spawnSync(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', `${here}city.ts`, '--child', String(n), duration],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 1 << 20,
        },
      );
      if (p.status !== 0) throw new Error(`city ${n} homes: exit ${p.status}`);
      const run = JSON.parse(p.stdout.trim().split('\n').pop()!) as Run;
      runs.push(run);
      console.log(
        `  ${n} homes run ${i + 1}: ${run.wallS.toFixed(1)} s (CPU ${run.cpuS.toFixed(1)} s), ${run.rssMB.toFixed(0)} MB (heap ${run.heapMB.toFixed(0)} MB), ${run.frames} frames, ${run.events} events${phases(run)}`,
      );
    }
    runs.sort((a, b) => a.wallS - b.wallS);
    const m = runs[runs.length >> 1]!;
    results.push(m);
    console.log(
      `city ${n} homes (${n * 4} devices, 16 channels), ${duration}: ${m.wallS.toFixed(1)} s wall, CPU ${m.cpuS.toFixed(1)} s` +
        ` (median of ${runs.length}), ${(m.simulatedS / m.wallS).toFixed(0)} simulated s per wall s,` +
        ` peak RSS ${m.rssMB.toFixed(0)} MB, live heap after GC ${m.heapMB.toFixed(0)} MB, ${m.events} events (${m.frames} frames)`,
    );
  }
  const alone = results.find((r) => r.homes === 1);
  if (alone !== undefined) {
    // CPU of N homes against N times the CPU of one home alone (same run, both after a warm-up
    // run in their process); the marginal figure leaves out what a run costs whatever its size.
    for (const r of results.filter((x) => x.homes > 1)) {
      const ratio = r.cpuS / (r.homes * alone.cpuS);
      const marginal = (r.cpuS - alone.cpuS) / (r.homes - 1) / alone.cpuS;
      console.log(
        `cost per home-hour at ${r.homes} homes vs one home alone: ${ratio.toFixed(2)} (marginal home: ${marginal.toFixed(2)})`,
      );
    }
  }
  if (results.length >= 2) {
    const [a, b] = results.slice(-2) as [Run, Run];
    const sa = steadyMsPerHomeMinute(a);
    const sb = steadyMsPerHomeMinute(b);
    if (sa !== null && sb !== null)
      console.log(
        `after commissioning, wall ms per home per simulated minute: ${sa.toFixed(2)} at ${a.homes} homes, ${sb.toFixed(2)} at ${b.homes} (x${(sb / sa).toFixed(2)})`,
      );
    const k = Math.log(b.wallS / a.wallS) / Math.log(b.homes / a.homes);
    const kCpu = Math.log(b.cpuS / a.cpuS) / Math.log(b.homes / a.homes);
    const kMem = Math.log(b.rssMB / a.rssMB) / Math.log(b.homes / a.homes);
    console.log(
      `growth exponent ${a.homes} -> ${b.homes} homes: wall ${k.toFixed(2)}, CPU ${kCpu.toFixed(2)}, RSS ${kMem.toFixed(2)} (goal <= 1.2)`,
    );
    const at1000 = b.wallS * (1000 / b.homes) ** k;
    console.log(`extrapolated to 1,000 homes: ${at1000.toFixed(0)} s (goal <= 60 s)`);
  }
}
