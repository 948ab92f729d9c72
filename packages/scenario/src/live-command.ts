/**
 * `gbhan run <file> --ui [--port N] [--speed X]` and `gbhan view <out/dir> [--port N]`: the
 * live view (@gbhan/report) on 127.0.0.1. A live run is paced by the bus's real-time mode at
 * the page's speed and paused by holding the bus's time; a finished run is replayed from its
 * trace.jsonl. Both keep serving until SIGINT/SIGTERM.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BusTraceEvent } from '@gbhan/radio-bus';
import { BusLiveControl, type LiveRun, LiveServer, ReplayControl, type ReportDevice } from '@gbhan/report';
import { CliError } from './bus-command.js';
import { limitsFromOptions, type RunCommandOptions, runRunCommand, scenarioFiles } from './run-command.js';
import { loadScenario, type Scenario } from './schema.js';

export const DEFAULT_UI_PORT = 7460;

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_UI_PORT;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--port must be 0..65535, got ${text}`);
  return n;
}

function parseSpeed(text: string | undefined): number | null {
  if (text === undefined) return 1;
  if (text === 'max') return null;
  const n = Number(text);
  if (!(n > 0 && n <= 1e6))
    throw new CliError(`--speed must be a factor above 0 (1 = real time) or max, got ${text}`);
  return n;
}

export function liveRunOf(s: Scenario): LiveRun {
  return {
    name: s.name,
    ...(s.description === undefined ? {} : { description: s.description }),
    mode: 'live',
    durationUs: s.durationUs,
    devices: s.devices,
    walls: s.medium.walls ?? [],
    ...(s.medium.bands ? { bands: s.medium.bands } : {}),
  };
}

/** Resolves on SIGINT/SIGTERM (the view serves until then). */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export interface LiveRunHandle {
  server: LiveServer;
  /** The run's exit code once it has finished. */
  finished: Promise<number>;
}

/** Start the view and the run; the caller decides how long the view outlives the run. */
export async function startLiveRun(
  paths: string[],
  o: RunCommandOptions,
  log: (line: string) => void = console.log,
): Promise<LiveRunHandle> {
  const files = scenarioFiles(paths);
  if (files.length !== 1) throw new CliError(`--ui shows one scenario; ${files.length} were given`);
  const speed = parseSpeed(o.speed);
  const scenario = loadScenario(files[0]!, limitsFromOptions(o));
  const server = await LiveServer.start(liveRunOf(scenario), { port: parsePort(o.port) });
  log(`live view: ${server.url}`);
  let control: BusLiveControl | null = null;
  const finished = runRunCommand(
    paths,
    {
      ...o,
      hooks: {
        ...(speed === null ? {} : { realTime: { speed } }),
        onStart: (bus, follow) => {
          control = new BusLiveControl(bus, speed);
          server.attach(control);
          follow((e) => server.push(e));
        },
      },
    },
    log,
  ).then(
    (r) => {
      control?.finish();
      const result = r.results[0];
      const trace = result?.outputs.trace;
      if (result !== undefined && trace !== undefined)
        server.enableReplay(() => {
          const replay = new ReplayControl(trace, result.durationUs, (e) => server.push(e), speed);
          replay.start();
          return replay;
        });
      return r.code;
    },
    (e: unknown) => {
      control?.finish();
      throw e;
    },
  );
  void finished.then(
    () => control?.finish(),
    () => {},
  );
  return { server, finished };
}

export async function runLiveRunCommand(paths: string[], o: RunCommandOptions): Promise<number> {
  const { server, finished } = await startLiveRun(paths, o);
  const code = await finished;
  console.log(`the run is over; the live view stays at ${server.url} (Ctrl-C to stop)`);
  await untilSignal();
  await server.close();
  return code;
}

/** The devices of a finished run: its trace's attach events, typed from summary.json. */
async function devicesFromTrace(
  tracePath: string,
  types: ReadonlyMap<string, string>,
): Promise<ReportDevice[]> {
  const devices = new Map<string, ReportDevice>();
  const lines = createInterface({ input: createReadStream(tracePath), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let e: BusTraceEvent;
    try {
      e = JSON.parse(line) as BusTraceEvent;
    } catch {
      break;
    }
    if (e.t > 0) break; // every device attaches at time 0
    if (e.type !== 'attach' || devices.has(e.radio)) continue;
    devices.set(e.radio, {
      id: e.name ?? e.radio,
      type: types.get(e.radio) ?? 'radio',
      eui64: e.radio,
      band: e.band,
      channel: e.channel,
      position: e.position,
    });
  }
  lines.close();
  return [...devices.values()];
}

export interface ReplayHandle {
  server: LiveServer;
  control: ReplayControl;
}

/** Serve the replay of the run in `dir` (its summary.json and trace.jsonl). */
export async function startReplay(dir: string, o: { port?: string; speed?: string }): Promise<ReplayHandle> {
  const summaryPath = join(dir, 'summary.json');
  const tracePath = join(dir, 'trace.jsonl');
  if (!existsSync(summaryPath) || !existsSync(tracePath))
    throw new CliError(`${dir} is no run's output directory (summary.json and trace.jsonl are needed)`);
  let summary: { name?: unknown; file?: unknown; durationUs?: unknown; radios?: unknown };
  try {
    summary = JSON.parse(readFileSync(summaryPath, 'utf8'));
  } catch (e) {
    throw new CliError(`${summaryPath}: not JSON (${(e as Error).message})`);
  }
  if (typeof summary.durationUs !== 'number' || !Array.isArray(summary.radios))
    throw new CliError(`${summaryPath}: no durationUs or radios (not a gbhan summary)`);
  const types = new Map(
    (summary.radios as { eui64?: unknown; type?: unknown }[]).map((r) => [String(r.eui64), String(r.type)]),
  );
  // Walls are in the scenario, not in the outputs: read it if it is still where it ran from.
  let scenario: Scenario | null = null;
  if (typeof summary.file === 'string' && existsSync(summary.file)) {
    try {
      scenario = loadScenario(summary.file);
    } catch {
      scenario = null;
    }
  }
  const run: LiveRun = {
    name: String(summary.name ?? dir),
    mode: 'replay',
    durationUs: summary.durationUs,
    devices: await devicesFromTrace(tracePath, types),
    walls: scenario?.medium.walls ?? [],
    ...(scenario?.medium.bands ? { bands: scenario.medium.bands } : {}),
  };
  const server = await LiveServer.start(run, { port: parsePort(o.port) });
  const control = new ReplayControl(
    tracePath,
    summary.durationUs,
    (e) => server.push(e),
    parseSpeed(o.speed),
  );
  server.attach(control);
  control.start();
  return { server, control };
}

export async function runViewCommand(dir: string, o: { port?: string; speed?: string }): Promise<number> {
  const { server, control } = await startReplay(dir, o);
  console.log(`replay of ${dir}: ${server.url} (Ctrl-C to stop)`);
  await untilSignal();
  control.stop();
  await server.close();
  return 0;
}
