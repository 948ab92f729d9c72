/**
 * `gbhan device <type> ...`: one device in this process, on a bus server (`--processes` runs).
 * The arguments are checked here, before the device type's process entry runs, so a missing
 * option or an incomplete `--spec` is a one-line CliError (exit 2), not a TypeError deep in a
 * device. `gbhan device --help` lists the types and their arguments.
 */
import { HelloSchema } from '@gbhan/radio-bus';
import { z } from 'zod';
import { CliError } from './bus-command.js';
import { type DeviceTypeDefinition, deviceType, deviceTypes, SPEC_ON_STDIN } from './registry.js';
import './builtin.js';

const COMMON_OPTIONS: Record<string, string> = {
  '--bus <url>': 'the bus server, ws://host:port (as `gbhan bus` prints it)',
  '--state <file>': "the device's non-volatile store (JSON; created if missing)",
  '--spec <json>':
    'the device (`-`: read from stdin, as `gbhan run --processes` passes it): {"eui64", "registration": {eui64, band, page, channel, position: {x, y}}, "seed", "config" (resolved: EUI64s, <name>Us), "id", "type", "peers", "manufacturer"}; every field: packages/scenario/README.md, "gbhan device: the spec format"',
};

/** The parts of a DeviceSpec every device process reads; other fields pass through unchecked. */
const SpecSchema = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  eui64: z.string().regex(/^[0-9a-f]{16}$/, 'EUI64 as 16 lowercase hex digits'),
  registration: HelloSchema.omit({ type: true, version: true }),
  config: z.record(z.string(), z.unknown()).default({}),
  seed: z.union([z.string(), z.number()]).transform(String),
});

function usage(type: string): string {
  return `(usage: gbhan device ${type} --bus <url> --state <file> --spec <json>; see gbhan device --help)`;
}

/** Help text: every type (or one), with its arguments. */
export function deviceHelp(only?: string): string {
  const types = only === undefined ? deviceTypes() : [only];
  const lines = [
    'Usage: gbhan device <type> --bus <url> --state <file> --spec <json> [type options]',
    '',
    'Runs one device of a scenario in this process, on a bus server (`gbhan run --processes`',
    'starts one per device). Exit 0 when the bus closes, 2 for bad arguments.',
    '',
    'Arguments of every type:',
    ...Object.entries(COMMON_OPTIONS).map(([flag, what]) => `  ${flag.padEnd(16)} ${what}`),
    '',
    only === undefined ? 'Device types:' : 'Device type:',
  ];
  for (const t of types) {
    const def = deviceType(t)!;
    lines.push(`  ${t.padEnd(10)} ${def.description}`);
    for (const [flag, what] of Object.entries(def.processOptions ?? {}))
      lines.push(`  ${''.padEnd(10)} ${flag}: ${what}`);
  }
  return lines.join('\n');
}

const isHelp = (a: string) => a === '--help' || a === '-h';

/** The value after `name` in argv (undefined when absent; CliError when the value is missing). */
function option(argv: string[], name: string, type: string): string | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new CliError(`${name} needs a value ${usage(type)}`);
  return v;
}

/**
 * The default arguments (`--bus`, `--state`, `--spec`) checked; returns argv with `--spec`
 * completed (defaults of the type's spec config schema filled in).
 */
export function checkDeviceArgs(
  type: string,
  def: DeviceTypeDefinition,
  argv: string[],
  /** In a worker thread the bus is the MessagePort it was given: no `--bus`. */
  inWorker = false,
): string[] {
  const bus = inWorker ? undefined : option(argv, '--bus', type);
  const state = option(argv, '--state', type);
  const specText = option(argv, '--spec', type);
  const missing = [...(inWorker ? [] : [['--bus', bus]]), ['--state', state], ['--spec', specText]].filter(
    ([, v]) => v === undefined,
  );
  if (missing.length > 0) throw new CliError(`missing ${missing.map(([n]) => n).join(', ')} ${usage(type)}`);
  if (!inWorker && !/^wss?:\/\/\S+$/.test(bus!)) throw new CliError(`--bus must be a ws:// URL, got ${bus}`);
  let json: unknown;
  try {
    json = JSON.parse(specText!);
  } catch (e) {
    throw new CliError(`--spec is not JSON: ${(e as Error).message}`);
  }
  const fail = (r: z.ZodSafeParseError<unknown>, prefix: string): never => {
    const issue = r.error.issues[0]!;
    const at = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    const what =
      issue.code === 'invalid_type' && issue.message.endsWith('received undefined')
        ? 'required'
        : issue.message;
    throw new CliError(`--spec: ${at === '' ? '' : `${at}: `}${what}`);
  };
  const r = SpecSchema.safeParse(json);
  if (!r.success) fail(r, '');
  const spec = r.data!;
  if (spec.type !== undefined && spec.type !== type)
    throw new CliError(`--spec: type: ${JSON.stringify(spec.type)} is not ${type}`);
  if (spec.registration.eui64 !== spec.eui64)
    throw new CliError(`--spec: registration.eui64: ${spec.registration.eui64} is not eui64 ${spec.eui64}`);
  if (def.specConfigSchema !== undefined) {
    const c = def.specConfigSchema.safeParse(spec.config);
    if (!c.success) fail(c, 'config');
    spec.config = c.data as Record<string, unknown>;
  }
  const out = [...argv];
  out[out.indexOf('--spec') + 1] = JSON.stringify(spec);
  return out;
}

/** The most a spec on stdin may have (a device's spec is a few hundred bytes). */
const MAX_STDIN_SPEC = 16 * 1024 * 1024;

/** `--spec -`: the spec read from stdin (as `gbhan run --processes` passes it), put in its place. */
async function specFromStdin(argv: string[], type: string): Promise<string[]> {
  const i = argv.indexOf('--spec');
  if (i < 0 || argv[i + 1] !== SPEC_ON_STDIN) return argv;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_STDIN_SPEC) throw new CliError(`--spec -: more than ${MAX_STDIN_SPEC} bytes on stdin`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new CliError(`--spec -: nothing on stdin ${usage(type)}`);
  const out = [...argv];
  out[i + 1] = text;
  return out;
}

/** Resolves true when a device ran (and left the bus), false when only help was printed. */
export async function runDeviceCommand(
  type: string,
  argv: string[],
  log: (text: string) => void = console.log,
): Promise<boolean> {
  if (isHelp(type) || type === 'help') {
    log(deviceHelp());
    return false;
  }
  const def = deviceType(type);
  if (def === undefined)
    throw new CliError(`unknown device type ${type} (known: ${deviceTypes().join(', ')})`);
  if (argv.some(isHelp)) {
    log(deviceHelp(type));
    return false;
  }
  argv = await specFromStdin(argv, type);
  // A type with its own process arguments checks them itself.
  await def.runProcess(def.processArgs === undefined ? checkDeviceArgs(type, def, argv) : argv);
  return true;
}
