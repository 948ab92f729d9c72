/**
 * Runs one loaded scenario: a bus with the scenario's medium and radio faults, the devices
 * (in this process over the in-process transport, each in its own process over the
 * WebSocket bus, or each in a worker thread over a MessagePort - the same protocol in every
 * mode), the timeline as controller commands at
 * their virtual times, then the expectations over the trace and the outputs:
 * out/<scenario>/trace.jsonl, capture.pcap (802.15.4 TAP), keys (Wireshark zigbee_pc_keys)
 * and summary.json; with meters also the run's manufacturer key (public, and the secret when
 * the run made it).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  attachMessagePort,
  type BusTraceEvent,
  DEFAULT_EPOCH_US,
  InProcessTransport,
  LINKTYPE_IEEE802_15_4_TAP,
  LINKTYPE_IEEE802_15_4_WITHFCS,
  PcapWriter,
  RadioBus,
  type RadioRegistration,
  startBusServer,
} from '@gbhan/radio-bus';
import { ReportCollector, type ReportRun, writeReport } from '@gbhan/report';
import { MemoryNvStore } from '@gbhan/stack';
import { DeviceThreads, startDeviceThread } from './device-threads.js';
import type { ExpectationResult } from './expect.js';
import {
  type DeviceSpec,
  defaultProcessArgs,
  deviceType,
  type ScenarioDevice,
  SPEC_ON_STDIN,
} from './registry.js';
import { measureRisks, type RiskResult } from './risks.js';
import { isStartEvent, KeyCollector, RunTrace, sortStart } from './run-trace.js';
import type { Scenario, ScenarioDeviceSpec } from './schema.js';

export const GBHAN_BIN = fileURLToPath(new URL('../bin/gbhan.js', import.meta.url));
/** The entry of device worker threads (`--workers`, `--threads`): registers tsx, then src/device-worker.ts. */
export const DEVICE_WORKER = new URL('../bin/device-worker.js', import.meta.url);

/** A device process or worker thread, as the runner ends it. */
interface Proc {
  exitCode: number | null;
  signalCode?: NodeJS.Signals | null;
  kill(how: 'SIGKILL' | 'SIGTERM'): void;
}

interface Child {
  id: string;
  proc: Proc;
  stderr: string;
  /** Set when the runner ends it (crash action, end of run): its exit is not a failure. */
  expectedExit: boolean;
  exit: Promise<number | null>;
}

export interface RunOptions {
  /** Outputs go to <outRoot>/<scenario name>/ (default `out`). */
  outRoot?: string;
  /** Each device in its own process over the WebSocket bus (default: in-process). */
  processes?: boolean;
  /**
   * Each device in a worker thread of this process over a worker_threads MessagePort (faster
   * than `processes`, same trace).
   */
  workers?: boolean;
  /**
   * The devices in this many worker threads, several to a thread, each still on its own
   * MessagePort (implies `workers`): a lock-step round wakes each thread once.
   */
  threads?: number;
  /** Override the scenario's duration (virtual microseconds). */
  durationUs?: number;
  /** Override the scenario's seed. */
  seed?: string;
  /** Called about every 250 ms of wall time with the virtual time reached. */
  onProgress?: (virtualUs: number, durationUs: number) => void;
  /**
   * The meters' manufacturer key: a secret key file (64 hex digits, as a run writes it).
   * Default: a fresh random key per run (its secret written to the output directory).
   */
  manufacturerKeyFile?: string;
  /**
   * Sees every trace event once, in trace order, as the run streams (after the start is put
   * in radio order): a sweep's metrics observe the run this way instead of re-reading trace.jsonl.
   */
  onEvent?: (e: BusTraceEvent) => void;
  /** Pace virtual time to the wall clock (the live view; speed 1 = real time). */
  realTime?: { speed: number };
  /**
   * The live view: called once the bus exists and before time starts, with the bus (pause,
   * speed) and a way to follow every event the run records, in trace order.
   */
  onStart?: (bus: RadioBus, follow: (listener: (e: BusTraceEvent) => void) => void) => void;
}

export interface ScenarioResult {
  name: string;
  file: string;
  seed: string;
  mode: 'in-process' | 'processes' | 'workers' | 'threads';
  durationUs: number;
  /** Wall-clock milliseconds the run took (for the summary table only). */
  wallMs: number;
  expectations: ExpectationResult[];
  /** The scenario's `risks:` measured over the trace (risks.ts); no part of the verdict. */
  risks: RiskResult[];
  held: number;
  total: number;
  passed: boolean;
  outDir: string;
  outputs: {
    trace?: string;
    pcap?: string;
    pcapFcs?: string;
    keys?: string;
    summary: string;
    /** report.html (outputs.report, default on). */
    report?: string;
    /** The run's manufacturer key (scenarios with meters): public key, and the secret the run made. */
    manufacturerPublicKey?: string;
    manufacturerSecretKey?: string;
  };
  events: Record<string, number>;
  /** Drops by reason: traced, plus (trace: compact) the ones counted rather than traced (out of range, other channel, filtered, asleep and filtered). */
  drops: Record<string, number>;
  /** `compact`: out-of-range and other-channel drops counted, not traced (`drops` and `radios` have them). */
  trace: 'full' | 'compact';
  /**
   * Per device: frames sent and received, frames on its channel it could not hear
   * (`outOfRange`), frames it heard on another channel (`otherChannel`) and frames it heard
   * that its declared 802.15.4 address filter discards (`filtered`: not sent to it), and frames
   * that reached it asleep that the filter would have discarded (`offFiltered`: with `trace:
   * compact` counted, not traced as `receiver-off`), traced or not.
   */
  radios: {
    id: string;
    type: string;
    eui64: string;
    tx: number;
    rx: number;
    outOfRange: number;
    otherChannel: number;
    filtered: number;
    offFiltered: number;
  }[];
  keys: number;
  /**
   * Meters that lost supply in the run (from `supply-interrupted` / `supply-restored`): total
   * time off, to the end of the run if not restored. Absent when no meter lost supply.
   */
  supplyOff?: { id: string; eui64: string; offUs: number; interruptions: number }[];
}

export class ScenarioRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioRunError';
  }
}

function registration(d: ScenarioDeviceSpec): RadioRegistration {
  return {
    eui64: d.eui64,
    band: d.band,
    page: d.page,
    channel: d.channel,
    position: d.position,
    powered: d.powered,
    name: d.id,
    ...(d.txPowerDbm === undefined ? {} : { txPowerDbm: d.txPowerDbm }),
    ...(d.lossDb === undefined ? {} : { lossDb: d.lossDb }),
    ...(d.sensitivityDbm === undefined ? {} : { sensitivityDbm: d.sensitivityDbm }),
  };
}

/**
 * Events before virtual time starts (attachments and what devices report while coming up)
 * arrive in whatever order the devices registered, which differs between in-process and
 * process runs. Put that leading stretch in radio order (each radio's own events keep their
 * order), so the trace file is the same byte for byte either way.
 */
export function canonicalizeStart(events: BusTraceEvent[]): BusTraceEvent[] {
  let n = 0;
  while (n < events.length && isStartEvent(events[n]!)) n++;
  return [...sortStart(events.slice(0, n)), ...events.slice(n)];
}

/**
 * Keys devices put in the trace for Wireshark: `{type:'key-export', key | linkKey | networkKey:
 * hex, label?}` (also `type:'key'`). Rendered as zigbee_pc_keys lines, one per distinct key;
 * without a label, one is made of the event's kind/origin/peers and the reporting device.
 */
export function wiresharkKeys(
  events: readonly BusTraceEvent[],
  names: ReadonlyMap<string, string>,
): string[] {
  const keys = new KeyCollector(names);
  for (const e of events) keys.push(e);
  return keys.lines;
}

/**
 * The run's manufacturer key, for scenarios with meters: the configured secret key file, or
 * a fresh random key (key material: node:crypto, never the seed). Generated once here, so
 * in-process and `--processes` meters share it; its public key (and the secret the run made,
 * mode 0600) go to the output directory. Meters get the secret in memory in-process, the
 * file's path in a process. Nothing derived from it reaches the trace or the capture.
 */
async function runManufacturerKey(
  scenario: Scenario,
  outDir: string,
  processes: boolean,
  keyFile: string | undefined,
): Promise<{
  spec: NonNullable<DeviceSpec['manufacturer']>;
  files: { manufacturerPublicKey: string; manufacturerSecretKey?: string };
} | null> {
  if (!scenario.devices.some((d) => deviceType(d.type)?.usesManufacturerKey)) return null;
  const meter = await import('@gbhan/meter');
  for (const f of [meter.MANUFACTURER_PUBLIC_KEY_FILE, meter.MANUFACTURER_SECRET_KEY_FILE])
    rmSync(join(outDir, f), { force: true });
  const pair =
    keyFile === undefined
      ? meter.generateManufacturerKeyPair()
      : meter.readManufacturerSecretKeyFile(keyFile);
  const written = meter.writeManufacturerKeyFiles(outDir, pair, keyFile === undefined);
  const secretFile = resolve(keyFile ?? written.secretKey!);
  const publicKey = Buffer.from(pair.publicKey).toString('hex');
  return {
    spec: processes
      ? { publicKey, secretKeyFile: secretFile }
      : { publicKey, secretKey: Buffer.from(pair.secretKey).toString('hex') },
    files: {
      manufacturerPublicKey: written.publicKey,
      ...(written.secretKey === undefined ? {} : { manufacturerSecretKey: written.secretKey }),
    },
  };
}

/**
 * What each device is started with: its registration, its config (references already EUI64s)
 * and only the peers its config names - not every device of the scenario, so a spec stays a
 * few hundred bytes however many homes the scenario has.
 */
export function deviceSpecs(
  scenario: Pick<Scenario, 'devices'>,
  seed: string,
  manufacturer?: DeviceSpec['manufacturer'],
): DeviceSpec[] {
  const byId = new Map(scenario.devices.map((d) => [d.id, d]));
  return scenario.devices.map((d) => ({
    id: d.id,
    type: d.type,
    eui64: d.eui64,
    registration: registration(d),
    config: d.config,
    peers: d.peers.map((id) => {
      const p = byId.get(id)!;
      return { id: p.id, type: p.type, eui64: p.eui64 };
    }),
    seed,
    ...(manufacturer && deviceType(d.type)?.usesManufacturerKey ? { manufacturer } : {}),
  }));
}

type TimelineEvent = Scenario['timeline'][number];
/** A crash or a restart: only a runner that owns the devices can do them. */
export type DeviceLifeEvent = Extract<TimelineEvent, { kind: 'crash' | 'restart' }>;

/**
 * The timeline onto the bus, in file order: jammers, wired-link changes and device commands
 * at their virtual times; crashes and restarts go to `life`.
 */
export function scheduleTimeline(
  bus: RadioBus,
  timeline: readonly TimelineEvent[],
  life: (e: DeviceLifeEvent) => void,
): void {
  for (const e of timeline) {
    if (e.kind === 'jam') {
      const { band, page, channel, position, txPowerDbm } = e.args;
      bus.addJammer({
        band,
        page: page ?? 0,
        channel,
        position,
        txPowerDbm,
        startUs: e.at,
        endUs: e.at + e.args.for,
      });
    } else if (e.kind === 'link') {
      const { up, ...set } = e.change;
      if (up !== undefined) bus.linkState(e.link, up, e.at);
      if (set.latency !== undefined || set.loss !== undefined) bus.linkSet(e.link, set, e.at);
    } else if (e.kind === 'device') bus.scheduleControl(e.eui64, e.at, e.command);
    else life(e);
  }
}

export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ScenarioResult> {
  const threads = options.threads === undefined ? null : new DeviceThreads(DEVICE_WORKER, options.threads);
  const workers = (options.workers ?? false) || threads !== null;
  if (workers && options.processes) throw new ScenarioRunError('choose processes or workers, not both');
  /** Devices outside the runner's own event loop (processes or workers): the bus waits for them. */
  const separate = workers || (options.processes ?? false);
  const processes = options.processes ?? false;
  const durationUs = options.durationUs ?? scenario.durationUs;
  const seed = options.seed ?? scenario.seed;
  const outDir = join(options.outRoot ?? 'out', scenario.name);
  const files = {
    trace: join(outDir, 'trace.jsonl'),
    pcap: join(outDir, 'capture.pcap'),
    pcapFcs: join(outDir, 'capture-fcs.pcap'),
    keys: join(outDir, 'keys'),
    summary: join(outDir, 'summary.json'),
    report: join(outDir, 'report.html'),
  };
  // Remove what an earlier run left (only our own files: the directory may hold others).
  for (const f of Object.values(files)) rmSync(f, { force: true });
  rmSync(join(outDir, 'state'), { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const names = new Map(scenario.devices.map((d) => [d.eui64, d.id]));

  const bus = new RadioBus({
    ...scenario.medium,
    ...(Object.keys(scenario.links).length === 0 ? {} : { links: scenario.links }),
    seed: /^-?\d+$/.test(seed) ? Number(seed) : seed,
    trace: scenario.trace,
    ...(separate ? { expectRadios: scenario.devices.length, idleTimeoutMs: 30_000 } : {}),
    ...(options.realTime ? { realTime: options.realTime } : {}),
  });
  // Record only until the duration is reached: what devices do while the run is being torn
  // down (and the order sockets close in) is not part of the run.
  let recording = true;
  const trace = new RunTrace(
    scenario.outputs.trace ? files.trace : null,
    scenario.expect,
    names,
    scenario.devices,
    scenario.risks,
    options.onEvent,
  );
  if (scenario.outputs.report) trace.report = new ReportCollector(scenario.devices);
  bus.onTrace((e) => {
    if (recording) trace.push(e);
  });
  options.onStart?.(bus, (l) => trace.listeners.push(l));
  let nonDeliveries: ReturnType<RadioBus['nonDeliveries']> = new Map();
  const stopRecording = () => {
    if (!recording) return;
    recording = false;
    nonDeliveries = bus.nonDeliveries();
  };
  const pcap = scenario.outputs.pcap
    ? new PcapWriter(files.pcap, LINKTYPE_IEEE802_15_4_TAP, DEFAULT_EPOCH_US)
    : null;
  const pcapFcs = scenario.outputs.pcapFcs
    ? new PcapWriter(files.pcapFcs, LINKTYPE_IEEE802_15_4_WITHFCS, DEFAULT_EPOCH_US)
    : null;
  bus.onFrame((f) => {
    if (!recording) return;
    pcap?.write(f);
    pcapFcs?.write(f);
  });

  const manufacturer = await runManufacturerKey(scenario, outDir, separate, options.manufacturerKeyFile);
  const specs = deviceSpecs(scenario, seed, manufacturer?.spec);
  const specById = new Map(specs.map((s) => [s.id, s]));

  // Wall clock: only for the progress line and the summary's wall-time column.
  const wallStart = performance.now();
  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.(bus.time, durationUs), 250)
    : null;
  /** In-process devices now running, and the NVM each keeps across a crash and restart. */
  const live = new Map<string, ScenarioDevice>();
  const nvms = new Map<string, MemoryNvStore>();
  const children = new Map<string, Child>();
  const exited: Child[] = [];
  let failRun: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    failRun = reject;
  });
  let server: Awaited<ReturnType<typeof startBusServer>> | null = null;
  const stateDir = join(outDir, 'state');

  const watchExit = (child: Child, type: string) => {
    void child.exit.then((code) => {
      if (child.expectedExit) return;
      failRun(
        new ScenarioRunError(
          `device ${child.id} (${type}) exited with code ${code} during the run${child.stderr ? `: ${child.stderr.trim()}` : ''}`,
        ),
      );
    });
    children.set(child.id, child);
  };

  const startWorker = (spec: DeviceSpec): void => {
    const argv = ['--state', join(stateDir, `${spec.id}.json`), '--spec', JSON.stringify(spec)];
    const child: Child = {
      id: spec.id,
      proc: { exitCode: null, kill() {} },
      stderr: '',
      expectedExit: false,
      exit: Promise.resolve(null),
    };
    const onStderr = (text: string) => {
      child.stderr += text;
    };
    const { device, port } =
      threads !== null
        ? threads.start(spec.id, spec.type, argv, onStderr)
        : startDeviceThread(DEVICE_WORKER, spec.type, argv, onStderr);
    attachMessagePort(bus, port);
    child.proc = device;
    child.exit = device.exit;
    watchExit(child, spec.type);
  };

  const startDevice = async (spec: DeviceSpec): Promise<void> => {
    if (workers) return startWorker(spec);
    if (!processes) {
      let nvm = nvms.get(spec.id);
      if (nvm === undefined) {
        nvm = new MemoryNvStore();
        nvms.set(spec.id, nvm);
      }
      const device = await deviceType(spec.type)!.create({
        ...spec,
        transport: new InProcessTransport(bus),
        statePath: null,
        nvm,
      });
      live.set(spec.id, device);
      return;
    }
    const def = deviceType(spec.type)!;
    const statePath = join(stateDir, `${spec.id}.json`);
    const args = (def.processArgs ?? defaultProcessArgs)(spec, server!.url, statePath);
    const proc = spawn(process.execPath, [GBHAN_BIN, 'device', spec.type, ...args], {
      stdio: [args.includes(SPEC_ON_STDIN) ? 'pipe' : 'ignore', 'ignore', 'pipe'],
    });
    // The spec on stdin, not on the command line (whose size the system limits: E2BIG).
    proc.stdin?.on('error', () => {}); // a device that dies at once: its exit says why
    proc.stdin?.end(JSON.stringify(spec));
    const child: Child = { id: spec.id, proc, stderr: '', expectedExit: false, exit: Promise.resolve(null) };
    proc.stderr!.on('data', (d) => {
      child.stderr += d;
    });
    child.exit = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    watchExit(child, spec.type);
  };

  scheduleTimeline(bus, scenario.timeline, (e) => {
    if (e.kind === 'crash') {
      bus.schedule(e.at, () => {
        // No clean shutdown: the radio leaves the air now and the device gets no chance to save.
        bus.detachRadio(e.eui64, 'crashed');
        const child = children.get(e.device);
        if (child !== undefined) {
          child.expectedExit = true;
          child.proc.kill('SIGKILL');
          exited.push(child);
          children.delete(e.device);
        }
        live.delete(e.device);
      });
    } else if (e.kind === 'restart') {
      bus.schedule(e.at, () => {
        // Time waits while the device starts again from its NVM and registers.
        const release = bus.holdTime();
        const attached = new Promise<void>((resolve) =>
          bus.onTrace((ev) => {
            if (ev.type === 'attach' && ev.radio === e.eui64) resolve();
          }),
        );
        startDevice(specById.get(e.device)!)
          .then(() => attached)
          .then(release, (err: unknown) => {
            release();
            failRun(err instanceof Error ? err : new Error(String(err)));
          });
      });
    }
  });

  try {
    if (processes) server = await startBusServer(bus, { port: 0 });
    if (separate) mkdirSync(stateDir, { recursive: true });
    for (const spec of specs) await startDevice(spec);
    await Promise.race([bus.runUntil(durationUs).then(stopRecording), failed]);
    stopRecording();
  } finally {
    stopRecording();
    if (progress !== null) clearInterval(progress);
    for (const d of live.values()) await d.close();
    bus.close();
    await server?.close();
    for (const c of [...children.values(), ...exited]) {
      // The bus closed their sockets, so they leave by themselves; make sure of it (a wall-clock
      // grace period for tearing processes down, outside the run's virtual time).
      c.expectedExit = true;
      const timer = setTimeout(() => c.proc.kill('SIGKILL'), 5000);
      if (c.proc.exitCode === null && (c.proc.signalCode ?? null) === null) c.proc.kill('SIGTERM');
      await c.exit;
      clearTimeout(timer);
    }
    await threads?.close();
    pcap?.close();
    pcapFcs?.close();
    trace.close();
  }
  const wallMs = Math.round(performance.now() - wallStart);
  options.onProgress?.(durationUs, durationUs);

  const outputs: ScenarioResult['outputs'] = { summary: files.summary, ...manufacturer?.files };
  if (scenario.outputs.trace) outputs.trace = files.trace;
  if (pcap) outputs.pcap = files.pcap;
  if (pcapFcs) outputs.pcapFcs = files.pcapFcs;
  const keyLines = trace.keys.lines;
  if (scenario.outputs.keys) {
    writeFileSync(files.keys, keyLines.map((l) => `${l}\n`).join(''));
    outputs.keys = files.keys;
  }

  const expectations = trace.watch.results();
  const held = expectations.filter((x) => x.held).length;
  const counts = trace.counts;
  const drops = { ...trace.drops };
  const radios = [...trace.radios.values()].map((r) => {
    const n = nonDeliveries.get(r.eui64) ?? { outOfRange: 0, otherChannel: 0, filtered: 0, offFiltered: 0 };
    return {
      ...r,
      outOfRange: n.outOfRange,
      otherChannel: n.otherChannel,
      filtered: n.filtered,
      offFiltered: n.offFiltered,
    };
  });
  if (scenario.trace === 'compact') {
    // Not in the trace: add what the bus counted, so the drops read the same either way.
    let outOfRange = 0;
    let otherChannel = 0;
    let filtered = 0;
    let offFiltered = 0;
    for (const n of nonDeliveries.values()) {
      outOfRange += n.outOfRange;
      otherChannel += n.otherChannel;
      filtered += n.filtered;
      offFiltered += n.offFiltered;
    }
    if (outOfRange > 0) drops['out-of-range'] = (drops['out-of-range'] ?? 0) + outOfRange;
    if (otherChannel > 0) drops['wrong-channel'] = (drops['wrong-channel'] ?? 0) + otherChannel;
    if (filtered > 0) drops['address-filtered'] = (drops['address-filtered'] ?? 0) + filtered;
    if (offFiltered > 0) drops['receiver-off'] = (drops['receiver-off'] ?? 0) + offFiltered;
  }
  const result: ScenarioResult = {
    name: scenario.name,
    file: scenario.file,
    seed,
    mode: threads !== null ? 'threads' : workers ? 'workers' : processes ? 'processes' : 'in-process',
    durationUs,
    wallMs,
    expectations,
    risks: measureRisks(scenario.risks, trace.riskEvents),
    held,
    total: expectations.length,
    passed: held === expectations.length,
    outDir,
    outputs,
    events: counts,
    drops,
    trace: scenario.trace,
    radios,
    keys: keyLines.length,
  };
  if (trace.supply.size > 0)
    result.supplyOff = [...trace.supply].map(([eui64, m]) => ({
      id: trace.radios.get(eui64)?.id ?? eui64,
      eui64,
      offUs: m.offUs + (m.offSince === null ? 0 : durationUs - m.offSince),
      interruptions: m.interruptions,
    }));
  if (trace.report !== null) {
    outputs.report = files.report;
    await writeReport(files.report, reportRun(scenario, result), trace.report);
  }
  writeFileSync(files.summary, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** The summary as report.html reads it, with the floor plan the summary does not carry. */
function reportRun(scenario: Scenario, r: ScenarioResult): ReportRun {
  return {
    ...r,
    ...(scenario.description === undefined ? {} : { description: scenario.description }),
    walls: scenario.medium.walls ?? [],
    ...(scenario.medium.bands ? { bands: scenario.medium.bands } : {}),
    capture: r.outputs.pcap === undefined ? null : 'capture.pcap',
  };
}
