/**
 * A HAN for a device maker's own tests: the scenario's devices in this process on a bus that
 * also listens on a WebSocket, so a device under test (yours, in any language, or gbhan's own
 * run as an outside process) attaches as one of the scenario's devices. Virtual time moves
 * only when the test says so (`run`, `waitFor`), so every timeout is in virtual time and a
 * slow machine changes nothing but wall time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration } from '@gbhan/clock';
import { type BusTraceEvent, InProcessTransport, RadioBus, startBusServer } from '@gbhan/radio-bus';
import {
  type DeviceSpec,
  deviceSpecs,
  deviceType,
  type ExpectationResult,
  evaluate,
  formatTime,
  GBHAN_BIN,
  loadScenario,
  matches,
  type Scenario,
  type ScenarioDevice,
  SPEC_ON_STDIN,
  scheduleTimeline,
  summarizeEvent,
} from '@gbhan/scenario';
import { MemoryNvStore } from '@gbhan/stack';
import { buildCommand, type DeviceRef, resolveMatch } from './commands.js';
import { TestkitError } from './errors.js';

/** A duration: text like `90s`, `5m`, `1h30m`, or a number of seconds. */
export type Duration = string | number;
/** A partial trace event; `radio`, `from` and device fields may name devices by id. */
export type EventMatch = Record<string, unknown>;

export interface HanOptions {
  /** A scenario file, or a scenario loaded or parsed in code (`parseScenario`). */
  scenario: string | Scenario;
  /**
   * Ids of the scenario's devices that the test attaches itself over the WebSocket bus (not
   * started in this process). Time does not start until all of them have registered.
   */
  outside?: string[];
  /** Schedule the scenario's `timeline:` (default false: the test drives the actions). */
  timeline?: boolean;
  /** Override the scenario's seed. */
  seed?: string;
  /** Wall time a bus client may take to answer before it is dropped (default 30 s). */
  idleTimeoutMs?: number;
}

export interface WaitOptions {
  /** Virtual time to wait at most (default 1m). */
  within?: Duration;
  /**
   * Consider events from this virtual time (us) on; default: the time of the call. 0 also
   * finds an event that already happened.
   */
  since?: number;
  /** Virtual-time step between checks (default 1s); the event's own `t` is exact. */
  step?: Duration;
}

/** A process the testkit started (an outside device); ended by `Han.close()`. */
export interface OutsideProcess {
  readonly proc: ChildProcess;
  /** Everything it wrote so far. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exit: Promise<number | null>;
  kill(): void;
}

const us = (d: Duration) => parseDuration(d);

export class Han {
  /** Every trace event so far, in bus order. */
  readonly events: BusTraceEvent[] = [];
  private readonly listeners = new Set<(e: BusTraceEvent) => void>();
  private readonly live: ScenarioDevice[] = [];
  private readonly processes: OutsideProcess[] = [];
  private closed = false;

  private constructor(
    readonly scenario: Scenario,
    readonly bus: RadioBus,
    private readonly server: Awaited<ReturnType<typeof startBusServer>>,
    private readonly specs: Map<string, DeviceSpec>,
    /** Where outside processes keep their state files (and the manufacturer key file). */
    readonly dir: string,
  ) {
    bus.onTrace((e) => {
      this.events.push(e);
      for (const l of [...this.listeners]) l(e);
    });
  }

  /** Start the HAN: bus, WebSocket server, the in-process devices (not yet any virtual time). */
  static async start(o: HanOptions): Promise<Han> {
    const scenario = typeof o.scenario === 'string' ? loadScenario(o.scenario) : o.scenario;
    const seed = o.seed ?? scenario.seed;
    const byId = new Map(scenario.devices.map((d) => [d.id, d]));
    const outside = new Set(o.outside ?? []);
    for (const id of outside)
      if (!byId.has(id))
        throw new TestkitError('TESTKIT_UNKNOWN_DEVICE', `outside device ${id} is not in ${scenario.name}`);
    const bus = new RadioBus({
      ...scenario.medium,
      ...(Object.keys(scenario.links).length === 0 ? {} : { links: scenario.links }),
      seed: /^-?\d+$/.test(seed) ? Number(seed) : seed,
      trace: scenario.trace,
      expectRadios: scenario.devices.length,
      idleTimeoutMs: o.idleTimeoutMs ?? 30_000,
    });
    const server = await startBusServer(bus, { port: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-testkit-'));
    const manufacturer = await manufacturerKey(scenario, dir);
    const inProcess = deviceSpecs(scenario, seed, manufacturer?.inProcess);
    // Outside processes read the secret from a file, never from their spec or command line.
    const forProcesses = deviceSpecs(scenario, seed, manufacturer?.process);
    const han = new Han(scenario, bus, server, new Map(forProcesses.map((s) => [s.id, s])), dir);
    try {
      if (o.timeline) han.scheduleTimeline();
      for (const spec of inProcess) {
        if (outside.has(spec.id)) continue;
        han.live.push(
          await deviceType(spec.type)!.create({
            ...spec,
            transport: new InProcessTransport(bus),
            statePath: null,
            nvm: new MemoryNvStore(),
          }),
        );
      }
    } catch (e) {
      await han.close();
      throw e;
    }
    return han;
  }

  /** The bus's WebSocket URL, for a device under test (`ws://127.0.0.1:PORT`). */
  get url(): string {
    return this.server.url;
  }

  /** Current virtual time, us. */
  get now(): number {
    return this.bus.time;
  }

  /** A scenario device's EUI64 (by id or EUI64). */
  eui64(device: DeviceRef): string {
    const d = this.scenario.devices.find((x) => x.id === device || x.eui64 === device);
    if (d === undefined) throw new TestkitError('TESTKIT_UNKNOWN_DEVICE', `no device ${device} in this HAN`);
    return d.eui64;
  }

  /**
   * The spec `gbhan device <type> --spec -` takes for scenario device `id` (its registration,
   * resolved config, peers, seed): what an outside emulated device is started with.
   */
  spec(id: string): DeviceSpec {
    const s = this.specs.get(id);
    if (s === undefined) throw new TestkitError('TESTKIT_UNKNOWN_DEVICE', `no device ${id} in this HAN`);
    return s;
  }

  /** Resolves once `device` has registered on the bus; wall-time limit (no virtual time passes). */
  async waitForAttach(device: DeviceRef, o: { timeoutMs?: number } = {}): Promise<BusTraceEvent> {
    const eui = this.eui64(device);
    const match = (e: BusTraceEvent) => e.type === 'attach' && e.radio === eui;
    const done = this.events.find(match);
    if (done !== undefined) return done;
    const timeoutMs = o.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      // Wall clock: attaching is a process starting and connecting, before virtual time runs.
      const timer = setTimeout(() => {
        this.listeners.delete(l);
        reject(new TestkitError('TESTKIT_ATTACH_TIMEOUT', `${device} did not attach within ${timeoutMs} ms`));
      }, timeoutMs);
      const l = (e: BusTraceEvent) => {
        if (!match(e)) return;
        clearTimeout(timer);
        this.listeners.delete(l);
        resolve(e);
      };
      this.listeners.add(l);
    });
  }

  /** Let virtual time run for `d`. */
  async run(d: Duration): Promise<void> {
    await this.bus.runUntil(this.now + us(d));
  }

  /** Let virtual time run to `atUs` (absolute). */
  async runTo(atUs: number): Promise<void> {
    if (atUs > this.now) await this.bus.runUntil(atUs);
  }

  /**
   * Send a timeline action to a device now (virtual time): the scenario's action names and
   * `args` as in YAML (devices by id, durations as text); checked by the device type's schema.
   */
  act(device: DeviceRef, action: string, args: Record<string, unknown> = {}): void {
    const { eui64, command } = buildCommand(this.scenario, device, action, args);
    this.bus.scheduleControl(eui64, this.now, command);
  }

  /** The CH's Device Log gets `device` (its install code from the scenario). */
  deviceLogAdd(ch: DeviceRef, device: DeviceRef): void {
    this.act(ch, 'update-device-log', { op: 'add', device });
  }

  power(device: DeviceRef, on: boolean): void {
    this.act(device, on ? 'power-on' : 'power-off');
  }

  /** The CH's WAN (the DCC side) goes down, or comes back. */
  wan(ch: DeviceRef, up: boolean): void {
    this.act(ch, up ? 'wan-up' : 'wan-down');
  }

  /**
   * Device triage through the meter's own optical port: unlock with the run's manufacturer
   * key, Reset HAN, relock on leaving the facility (a second apart, as an operator would).
   * Resolves with the meter's `reset-han` event (its NVM state diff); rejects with
   * TESTKIT_TIMEOUT if the reset was refused.
   */
  async resetHan(meter: DeviceRef, o: { within?: Duration } = {}): Promise<BusTraceEvent> {
    const t = this.now;
    const eui64 = this.eui64(meter);
    for (const [i, command] of ['unlock', 'reset-han', 'leave-facility'].entries()) {
      const c = buildCommand(this.scenario, meter, 'optical', { command });
      this.bus.scheduleControl(eui64, t + i * 1_000_000, c.command);
    }
    const reset = await this.waitFor(
      { type: 'device', radio: meter, event: { type: 'reset-han' } },
      { within: o.within ?? '10s', since: t },
    );
    await this.runTo(t + 3_000_000);
    return reset;
  }

  /** Trace events matching `m` (all, or from virtual time `since` on). */
  find(m: EventMatch, since = 0): BusTraceEvent[] {
    const pattern = resolveMatch(this.scenario, m);
    return this.events.filter((e) => e.t >= since && matches(pattern, e));
  }

  /**
   * Run virtual time until an event matching `m` happens (or has happened since `since`), at
   * most `within` of virtual time; rejects with TESTKIT_TIMEOUT naming the time waited.
   */
  async waitFor(m: EventMatch, o: WaitOptions = {}): Promise<BusTraceEvent> {
    const pattern = resolveMatch(this.scenario, m);
    const since = o.since ?? this.now;
    const deadline = this.now + us(o.within ?? '1m');
    const step = Math.max(1, us(o.step ?? '1s'));
    const hit = () => this.events.find((e) => e.t >= since && matches(pattern, e));
    for (;;) {
      const found = hit();
      if (found !== undefined) return found;
      if (this.now >= deadline || this.closed)
        throw new TestkitError(
          'TESTKIT_TIMEOUT',
          `no event ${JSON.stringify(m)} from ${formatTime(since)} to ${formatTime(deadline)} (virtual time)`,
        );
      await this.bus.runUntil(Math.min(deadline, this.now + step));
    }
  }

  /** Throws TESTKIT_UNEXPECTED_EVENT if an event matching `m` happened (from `since`). */
  assertNever(m: EventMatch, since = 0): void {
    const [bad] = this.find(m, since);
    if (bad !== undefined) {
      const names = new Map(this.scenario.devices.map((d) => [d.eui64, d.id]));
      throw new TestkitError(
        'TESTKIT_UNEXPECTED_EVENT',
        `at ${formatTime(bad.t)}: ${summarizeEvent(bad, names)} matches ${JSON.stringify(m)}`,
      );
    }
  }

  /** The scenario's `expect:` judged over the trace so far (meaningful with `timeline: true`). */
  expectations(): ExpectationResult[] {
    const names = new Map(this.scenario.devices.map((d) => [d.eui64, d.id]));
    return evaluate(this.scenario.expect, this.events, names);
  }

  /**
   * Start scenario device `id` as its own `gbhan device <type>` process on this bus (the spec on
   * stdin): gbhan's emulated device as an outside device under test. `args`: type options.
   */
  spawnDevice(id: string, args: string[] = []): OutsideProcess {
    const spec = this.spec(id);
    const argv = [
      GBHAN_BIN,
      'device',
      spec.type,
      '--bus',
      this.url,
      '--state',
      join(this.dir, `${id}.json`),
      '--spec',
      SPEC_ON_STDIN,
      ...args,
    ];
    const p = this.spawn(process.execPath, argv);
    p.proc.stdin?.on('error', () => {}); // a process that dies at once: its exit says why
    p.proc.stdin?.end(JSON.stringify(spec));
    return p;
  }

  /** Start any program (your device, a bridge) and end it with the HAN. */
  spawn(command: string, args: string[], o: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): OutsideProcess {
    const proc = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(o.env ? { env: o.env } : {}),
      ...(o.cwd ? { cwd: o.cwd } : {}),
    });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d) => {
      out += d;
    });
    proc.stderr!.on('data', (d) => {
      err += d;
    });
    const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const p: OutsideProcess = {
      proc,
      stdout: () => out,
      stderr: () => err,
      exit,
      kill: () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      },
    };
    this.processes.push(p);
    return p;
  }

  /** Stop: the bus closes every connection, started processes are ended, temporary files go. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.live) await d.close();
    this.bus.close();
    await this.server.close();
    for (const p of this.processes) {
      // Wall-clock grace for a process to leave after its socket closed.
      const timer = setTimeout(() => p.proc.kill('SIGKILL'), 5000);
      p.kill();
      await p.exit;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private scheduleTimeline(): void {
    scheduleTimeline(this.bus, this.scenario.timeline, (e) => {
      throw new TestkitError(
        'TESTKIT_UNSUPPORTED',
        `line ${e.line}: ${e.kind} is the runner's (gbhan run); the testkit does not replay it`,
      );
    });
  }
}

/** Start a HAN (see `HanOptions`). */
export function startHan(o: HanOptions): Promise<Han> {
  return Han.start(o);
}

/**
 * A fresh manufacturer key when the scenario has meters: the secret in memory for in-process
 * meters, in a 0600 file for outside ones (as `gbhan run --processes` does).
 */
async function manufacturerKey(
  scenario: Scenario,
  dir: string,
): Promise<{ inProcess: DeviceSpec['manufacturer']; process: DeviceSpec['manufacturer'] } | null> {
  if (!scenario.devices.some((d) => deviceType(d.type)?.usesManufacturerKey)) return null;
  const meter = await import('@gbhan/meter');
  const pair = meter.generateManufacturerKeyPair();
  const files = meter.writeManufacturerKeyFiles(dir, pair, true);
  const publicKey = Buffer.from(pair.publicKey).toString('hex');
  return {
    inProcess: { publicKey, secretKey: Buffer.from(pair.secretKey).toString('hex') },
    process: { publicKey, secretKeyFile: files.secretKey! },
  };
}
