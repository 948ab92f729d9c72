/**
 * `gbhan bus`: the radio bus as a server for devices running in their own processes.
 * SIGINT/SIGTERM close every connection and flush the captures and the trace.
 */
import { readFileSync } from 'node:fs';
import { parseDuration } from '@gbhan/clock';
import {
  attachOutputs,
  type BusOutputOptions,
  parseMediumConfig,
  RadioBus,
  type RadioBusConfig,
  startBusServer,
  ZEP_UDP_PORT,
} from '@gbhan/radio-bus';
import { parse as parseYaml } from 'yaml';

export interface BusCommandOptions {
  host: string;
  port: string;
  seed: string;
  realTime?: boolean;
  speed?: string;
  pcap?: string;
  pcapFcs?: string;
  trace?: string;
  zep?: string | boolean;
  expect?: string;
  until?: string;
  idleTimeout?: string;
  maxActionsPerInstant?: string;
  maxPendingActions?: string;
  maxSendBacklog?: string;
  medium?: string;
}

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

function int(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CliError(`--${name} must be an integer ${min}..${max}, got ${value}`);
  return n;
}

export function busConfigFromOptions(o: BusCommandOptions): {
  config: RadioBusConfig;
  outputs: BusOutputOptions;
} {
  let config: RadioBusConfig = {};
  if (o.medium) {
    let text: string;
    try {
      text = readFileSync(o.medium, 'utf8');
    } catch (e) {
      throw new CliError(`cannot read --medium ${o.medium}: ${(e as Error).message}`);
    }
    try {
      config = parseMediumConfig(parseYaml(text));
    } catch (e) {
      throw new CliError(`${o.medium}: ${(e as Error).message}`);
    }
  }
  const seed = /^-?\d+$/.test(o.seed) ? Number(o.seed) : o.seed;
  config = { ...config, seed };
  if (o.expect !== undefined) config.expectRadios = int('expect', o.expect, 0, 10_000);
  if (o.idleTimeout !== undefined) config.idleTimeoutMs = parseDuration(o.idleTimeout) / 1000;
  if (o.maxActionsPerInstant !== undefined)
    config.maxActionsPerInstant = int('max-actions-per-instant', o.maxActionsPerInstant, 0, 1e9);
  if (o.maxPendingActions !== undefined)
    config.maxPendingActions = int('max-pending-actions', o.maxPendingActions, 0, 1e9);
  if (o.maxSendBacklog !== undefined)
    config.maxSendBacklogBytes = int('max-send-backlog', o.maxSendBacklog, 0, 2 ** 40);
  if (o.realTime || o.speed !== undefined) {
    const speed = o.speed === undefined ? 1 : Number(o.speed);
    if (!(speed > 0) || !Number.isFinite(speed))
      throw new CliError(`--speed must be a positive number, got ${o.speed}`);
    config.realTime = { speed };
  }
  const outputs: BusOutputOptions = {};
  if (o.pcap) outputs.pcapTap = o.pcap;
  if (o.pcapFcs) outputs.pcapFcs = o.pcapFcs;
  if (o.trace) outputs.trace = o.trace;
  if (o.zep !== undefined && o.zep !== false) {
    if (!config.realTime) throw new CliError('--zep sends live frames: use it with --real-time');
    const [host, port] = typeof o.zep === 'string' ? o.zep.split(':') : [];
    outputs.zep = { host: host || '127.0.0.1', port: port ? int('zep port', port, 1, 65535) : ZEP_UDP_PORT };
  }
  return { config, outputs };
}

export async function runBusCommand(
  o: BusCommandOptions,
  log: (line: string) => void = console.log,
): Promise<void> {
  const { config, outputs } = busConfigFromOptions(o);
  const port = int('port', o.port, 0, 65535);
  const until = o.until === undefined ? Number.POSITIVE_INFINITY : parseDuration(o.until);
  const bus = new RadioBus(config);
  const out = attachOutputs(bus, outputs);
  const counts = { tx: 0, rx: 0, drop: 0, error: 0 };
  bus.onTrace((e) => {
    if (e.type === 'tx' || e.type === 'rx' || e.type === 'drop' || e.type === 'error') counts[e.type]++;
    if (e.type === 'attach')
      log(`attach ${e.radio}${e.name ? ` (${e.name})` : ''} ${e.band} page ${e.page} ch ${e.channel}`);
    if (e.type === 'detach') log(`detach ${e.radio}: ${e.reason}`);
    if (e.type === 'error') log(`error ${e.radio ?? '-'} ${e.code}: ${e.message}`);
  });
  const server = await startBusServer(bus, { host: o.host, port });
  log(
    `gbhan bus listening on ${server.url} (protocol v1, seed ${String(config.seed)}${config.realTime ? `, real time x${config.realTime.speed}` : ''})`,
  );
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    bus.close();
    await server.close();
    out.close();
    log(
      `bus stopped (${why}) at virtual ${(bus.time / 1e6).toFixed(6)} s: ${counts.tx} tx, ${counts.rx} rx, ${counts.drop} drops, ${counts.error} errors`,
    );
  };
  const onSignal = (sig: NodeJS.Signals) => {
    void stop(sig).then(() => process.exit(0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await bus.runUntil(until);
  await stop(`reached ${o.until}`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
