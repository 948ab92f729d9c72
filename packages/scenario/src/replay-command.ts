/**
 * `gbhan replay <capture.pcap>`: the frames of a real capture (link types 195, 283, or ZEP v1/v2
 * in UDP over Ethernet/IPv4) on the emulated air, from replay radios at a position, at their
 * original relative times or paced. With `--bus` on a running bus server (your run); without,
 * on a bus of its own whose air is written to `--pcap`/`--pcap-fcs`/`--trace`.
 * `gbhan zep-in --bus <url>`: a ZEP listener that injects a live sniffer's or radio bridge's
 * frames into a run in real-time mode.
 */
import { readFileSync } from 'node:fs';
import { parseDuration } from '@gbhan/clock';
import {
  attachOutputs,
  BusRadio,
  DEFAULT_EPOCH_US,
  InProcessTransport,
  isValidChannel,
  listenZep,
  planReplay,
  RadioBus,
  type ReplayOptions,
  type ReplayStats,
  readPcap,
  replayFrames,
  WebSocketTransport,
} from '@gbhan/radio-bus';
import type { Command } from 'commander';
import { CliError } from './bus-command.js';

export interface ReplayCommandOptions {
  bus?: string;
  eui64: string;
  position: string;
  band?: string;
  page?: string;
  channel?: string;
  at: string;
  paced?: string;
  txPower?: string;
  seed: string;
  pcap?: string;
  pcapFcs?: string;
  trace?: string;
}

/** The most a capture file may be (read whole; a HAN capture of a day is a few MB). */
const MAX_CAPTURE_BYTES = 256 * 1024 * 1024;

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || v.trim() === '') throw new CliError(`--${name} must be a number, got ${v}`);
  return n;
}

function position(v: string): { x: number; y: number; z?: number } {
  const parts = v.split(',').map((p) => Number(p));
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !Number.isFinite(p)))
    throw new CliError(`--position must be x,y or x,y,z in metres, got ${v}`);
  return { x: parts[0]!, y: parts[1]!, ...(parts.length === 3 ? { z: parts[2]! } : {}) };
}

function replayOptions(o: ReplayCommandOptions): ReplayOptions {
  if (!/^[0-9a-f]{16}$/.test(o.eui64))
    throw new CliError(`--eui64 must be 16 lowercase hex digits, got ${o.eui64}`);
  if (o.band !== undefined && o.band !== '2.4GHz' && o.band !== 'GB868')
    throw new CliError(`--band must be 2.4GHz or GB868, got ${o.band}`);
  const page = num('page', o.page);
  const channel = num('channel', o.channel);
  const band = (o.band as ReplayOptions['band']) ?? (page !== undefined && page >= 28 ? 'GB868' : '2.4GHz');
  if (channel !== undefined && !isValidChannel(band, page ?? (band === 'GB868' ? 28 : 0), channel))
    throw new CliError(`--channel ${channel} is not on ${band} page ${page ?? (band === 'GB868' ? 28 : 0)}`);
  const txPowerDbm = num('tx-power', o.txPower);
  return {
    eui64: o.eui64,
    position: position(o.position),
    band,
    ...(page === undefined ? {} : { page }),
    ...(channel === undefined ? {} : { channel }),
    ...(txPowerDbm === undefined ? {} : { txPowerDbm }),
    at: o.at === 'original' ? 'original' : parseDuration(o.at),
    epochUs: DEFAULT_EPOCH_US,
    ...(o.paced === undefined ? {} : { pacedUs: parseDuration(o.paced) }),
  };
}

export function describeReplay(file: string, s: ReplayStats): string {
  const radios = s.radios.map((r) => `${r.band} page ${r.page} ch ${r.channel} (${r.frames})`).join(', ');
  return `replayed ${file}: ${s.frames} frames, ${s.sent} sent, ${s.refused} refused, ${s.skipped} skipped, ${s.delayed} delayed; radios: ${radios || 'none'}; last frame ended at virtual ${(s.endUs / 1e6).toFixed(6)} s`;
}

/** Replay a capture; resolves with what happened (library form of `gbhan replay`). */
export async function runReplayCommand(
  file: string,
  o: ReplayCommandOptions,
  log: (line: string) => void = console.log,
): Promise<ReplayStats> {
  const options = replayOptions(o);
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (data.length > MAX_CAPTURE_BYTES) throw new CliError(`${file}: over ${MAX_CAPTURE_BYTES} bytes`);
  const capture = readPcap(data);
  if (o.bus !== undefined) {
    if (o.pcap || o.pcapFcs || o.trace)
      throw new CliError('--pcap, --pcap-fcs and --trace are the bus server’s options with --bus');
    const url = o.bus;
    const stats = await replayFrames(capture.frames, options, () => new WebSocketTransport(url));
    log(describeReplay(file, stats));
    return stats;
  }
  const seed = /^-?\d+$/.test(o.seed) ? Number(o.seed) : o.seed;
  // Time starts once every replay radio (one per channel) has registered.
  const radios = planReplay(capture.frames, { ...options, at: 0 }, 0).groups.length;
  const bus = new RadioBus({ seed, expectRadios: radios });
  const out = attachOutputs(bus, {
    ...(o.pcap ? { pcapTap: o.pcap } : {}),
    ...(o.pcapFcs ? { pcapFcs: o.pcapFcs } : {}),
    ...(o.trace ? { trace: o.trace } : {}),
  });
  try {
    let done = false;
    const replay = replayFrames(capture.frames, options, () => new InProcessTransport(bus)).finally(() => {
      done = true;
    });
    // Time runs in steps until every frame has gone (its end is not known before).
    while (!done) await Promise.race([bus.runUntil(bus.time + 1_000_000), replay]);
    const stats = await replay;
    log(describeReplay(file, stats));
    return stats;
  } finally {
    bus.close();
    out.close();
  }
}

export interface ZepInOptions {
  bus: string;
  host: string;
  port: string;
  eui64: string;
  position: string;
  page: string;
  channel: string;
}

/** `gbhan zep-in`: until SIGINT/SIGTERM or the bus closes. */
export async function runZepInCommand(
  o: ZepInOptions,
  log: (line: string) => void = console.log,
): Promise<void> {
  if (!/^[0-9a-f]{16}$/.test(o.eui64))
    throw new CliError(`--eui64 must be 16 lowercase hex digits, got ${o.eui64}`);
  const page = num('page', o.page)!;
  const channel = num('channel', o.channel)!;
  const band = page >= 28 ? 'GB868' : '2.4GHz';
  if (!isValidChannel(band, page, channel)) throw new CliError(`--channel ${channel} is not on page ${page}`);
  const port = num('port', o.port)!;
  const radio = await BusRadio.connect(new WebSocketTransport(o.bus), {
    eui64: o.eui64,
    band,
    page,
    channel,
    position: position(o.position),
    name: 'zep-in',
  });
  const listener = await listenZep(radio, { host: o.host, port });
  log(`gbhan zep-in: ZEP on udp ${o.host}:${listener.port} -> ${o.bus} as ${o.eui64}`);
  await new Promise<void>((resolve) => {
    radio.onClose(() => resolve());
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await listener.close();
  radio.close();
  const s = listener.stats;
  log(
    `zep-in stopped: ${s.sent} sent, ${s.refused} refused, ${s.bad} bad${s.lastError ? ` (last: ${s.lastError})` : ''}`,
  );
}

/** The two commands on the gbhan program. */
export function registerReplayCommands(program: Command): void {
  program
    .command('replay')
    .description('put the frames of a capture (pcap: link type 195, 283, or ZEP in UDP) on the emulated air')
    .argument('<capture>', 'a pcap file')
    .option('--bus <url>', 'a running bus server (default: a bus of its own, see --pcap)')
    .option(
      '--eui64 <hex>',
      'EUI64 of the first replay radio (one per channel, counting up)',
      '00124b00fffe0000',
    )
    .option('--position <x,y[,z]>', 'where the replay radios are, metres', '0,0')
    .option('--band <band>', 'band of frames whose capture has no page (195, ZEP): 2.4GHz or GB868')
    .option('--page <page>', 'put every frame on this page')
    .option('--channel <n>', 'put every frame on this channel (default: the capture’s, else 11)')
    .option(
      '--at <duration|original>',
      'first frame this long after the replay radios registered; original: at the capture’s own virtual times',
      '0',
    )
    .option('--paced <duration>', 'one frame every <duration> instead of the original spacing')
    .option('--tx-power <dBm>', 'transmit power of the replay radios')
    .option('--seed <seed>', 'seed of its own bus', '1')
    .option('--pcap <file>', 'its own bus: write the air as pcap (TAP, 283)')
    .option('--pcap-fcs <file>', 'its own bus: write the air as pcap (195)')
    .option('--trace <file>', 'its own bus: write the trace')
    .action(async (file: string, opts: ReplayCommandOptions) => {
      await runReplayCommand(file, opts);
    });
  program
    .command('zep-in')
    .description('inject the frames of live ZEP datagrams (a sniffer or radio bridge) into a real-time run')
    .requiredOption('--bus <url>', 'the bus server (run it with --real-time)')
    .option('--host <host>', 'UDP address to listen on', '127.0.0.1')
    .option('--port <port>', 'UDP port to listen on (0 = any)', '17755')
    .option('--eui64 <hex>', 'EUI64 of the injecting radio', '00124b00fffd0000')
    .option('--position <x,y[,z]>', 'where it is, metres', '0,0')
    .option('--page <page>', 'its page', '0')
    .option('--channel <n>', 'its channel until a datagram names another', '11')
    .action(async (opts: ZepInOptions) => {
      await runZepInCommand(opts);
    });
}
