/**
 * The gbhan command line. Each subcommand is a thin shell over a library call, so
 * everything it does can also be done (and tested) in-process. Exit codes: 0 success (every
 * expectation held), 1 an expectation failed, 2 bad options, a bad scenario file or a run
 * that could not complete.
 */
import { Command, CommanderError } from 'commander';
import { CliError, runBusCommand } from './bus-command.js';
import { type DccCommandOptions, runDccCommand } from './dcc-command.js';
import { runDeviceCommand } from './device-command.js';
import { type InstallCodeOptions, runInstallCodeCommand } from './install-code-command.js';
import { type OpticalCommandOptions, runOpticalCommand } from './optical-command.js';
import { registerReplayCommands } from './replay-command.js';
import { type RunCommandOptions, runRunCommand } from './run-command.js';

const program = new Command();
// exitOverride: commander's own errors (a missing required option, an unknown one) exit 2 below.
program.name('gbhan').description('GB smart-metering HAN emulator').showHelpAfterError().exitOverride();
// Studies: the launcher (bin/gbhan.js) hands these to @gbhan/sweep, which sits above this package.
program.addHelpText(
  'after',
  '\nStudies (@gbhan/sweep): gbhan sweep <study.yaml> [--quick] [--out DIR] [--workers N] [--queue redis://host:port]\n                        gbhan worker --queue redis://host:port [--concurrency N]',
);

program
  .command('bus')
  .description('run the radio bus as a WebSocket server for devices in their own processes')
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--port <port>', 'TCP port (0 = any free port)', '7454')
  .option('--seed <seed>', 'seed for loss and shadowing draws', '1')
  .option('--real-time', 'pace virtual time to the wall clock')
  .option('--speed <factor>', 'real-time speed factor (implies --real-time)')
  .option('--pcap <file>', 'write a pcap with the 802.15.4 TAP link type (283)')
  .option('--pcap-fcs <file>', 'write a pcap with 802.15.4 + FCS link type (195)')
  .option('--trace <file>', 'write the trace as JSON lines')
  .option('--zep [host:port]', 'send live ZEP v2 to Wireshark (default 127.0.0.1:17754)')
  .option('--expect <n>', 'do not start virtual time before n radios have registered')
  .option('--until <duration>', 'stop at this virtual time (e.g. 60m)')
  .option('--idle-timeout <duration>', 'drop a radio that does not report idle within this wall time', '10s')
  .option(
    '--max-actions-per-instant <n>',
    'drop a radio that sends more actions at one virtual instant (default 10000, 0 = no limit)',
  )
  .option(
    '--max-pending-actions <n>',
    'drop a radio with more actions sent since its last idle report (default 1000, 0 = no limit)',
  )
  .option(
    '--max-send-backlog <bytes>',
    'drop a client that leaves more bytes unread (default 16777216, 0 = no limit)',
  )
  .option(
    '--medium <file>',
    'medium configuration (YAML or JSON: propagation model, walls, band models, loss, jammers)',
  )
  .action(async (opts) => {
    await runBusCommand(opts);
  });

function runOptions(cmd: Command): Command {
  return cmd
    .option('--processes', 'run each device in its own process over the WebSocket bus')
    .option('--workers', 'run each device in a worker thread over a MessagePort (faster than --processes)')
    .option(
      '--threads <n>',
      'run the devices in n worker threads, several to a thread, each on its own MessagePort (implies --workers)',
    )
    .option('--out <dir>', 'outputs go to <dir>/<scenario name>/', 'out')
    .option('--duration <duration>', "override every scenario's duration (e.g. 5m)")
    .option('--seed <seed>', "override every scenario's seed")
    .option('--progress', 'show the progress line even when stderr is not a terminal')
    .option('--max-devices <n>', 'refuse a scenario with more devices (default 500)')
    .option('--max-duration <duration>', 'refuse a longer duration or --duration (default 7d)')
    .option('--max-file-size <size>', 'refuse a larger scenario file, e.g. 4M (default 1M)')
    .option(
      '--manufacturer-key-file <file>',
      "meters' manufacturer secret key (64 hex digits; default: a fresh one per run, in out/<scenario>/)",
    );
}

runOptions(
  program
    .command('run')
    .description('run scenario files (or every *.yaml in a directory); exit 0 only if every expectation held')
    .argument('<paths...>', 'scenario files or directories')
    .option(
      '--ui',
      'serve the live view on 127.0.0.1 while the run goes (one scenario; stays up until Ctrl-C)',
    )
    .option('--port <port>', '--ui: TCP port of the live view (0 = any free port)', '7460')
    .option(
      '--speed <factor>',
      '--ui: starting speed, 1 = real time (default) ... max = as fast as possible',
    ),
).action(async (paths: string[], opts: RunCommandOptions) => {
  if (opts.ui) {
    const { runLiveRunCommand } = await import('./live-command.js');
    process.exitCode = await runLiveRunCommand(paths, opts);
    return;
  }
  process.exitCode = (await runRunCommand(paths, opts)).code;
});

program
  .command('view')
  .description('replay a finished run (its out/<scenario>/ directory) in the live view on 127.0.0.1')
  .argument('<dir>', 'a run output directory with summary.json and trace.jsonl')
  .option('--port <port>', 'TCP port (0 = any free port)', '7460')
  .option('--speed <factor>', 'starting speed, 1 = real time (default) ... max = as fast as possible')
  .action(async (dir: string, opts: { port?: string; speed?: string }) => {
    const { runViewCommand } = await import('./live-command.js');
    process.exitCode = await runViewCommand(dir, opts);
  });

runOptions(program.command('start').description('the main job: gbhan run scenarios/')).action(
  async (opts: RunCommandOptions) => {
    process.exitCode = (await runRunCommand(['scenarios'], opts)).code;
  },
);

program
  .command('device')
  .description('run one device of a scenario in this process, on a bus server (used by run --processes)')
  .argument('<type>', 'device type (gbhan device --help lists them and their arguments)')
  .argument('[args...]', "the device type's arguments (--bus <url> --state <file> --spec <json>)")
  .allowUnknownOption()
  .helpOption(false)
  .action(async (type: string, args: string[]) => {
    // exit at once when the device has left the bus; after help, let stdout drain
    if (await runDeviceCommand(type, args)) process.exit(0);
  });

program
  .command('optical')
  .description(
    "the manufacturer's triage tool on a meter's optical port (a device run with --optical-port N)",
  )
  .argument('<command>', 'status | challenge | unlock | reset-han | read-diagnostics | leave-facility')
  .requiredOption('--port <port>', "the meter process's --optical-port")
  .option('--host <host>', 'address of the meter process', '127.0.0.1')
  .option('--signature <hex>', 'unlock: this value instead of signing a fresh challenge')
  .option('--key-file <file>', "unlock: sign with this secret key file (a run's manufacturer-secret-key.hex)")
  .option('--manufacturer-key <hex>', 'unlock: sign with this P-256 secret key')
  .action(async (command: string, opts: OpticalCommandOptions) => {
    process.exitCode = (await runOpticalCommand(command, opts)).code;
  });

program
  .command('dcc')
  .description('play the DCC against a hub process run with --wan-port N')
  .argument('<command>', 'send')
  .requiredOption('--port <port>', "the hub process's --wan-port")
  .option('--host <host>', 'address of the hub process', '127.0.0.1')
  .option('--hex <gbcs>', 'raw GBCS bytes (General Ciphering), sent to the meter the message names')
  .option('--json <command>', 'a DCC command, e.g. {"action":"top-up","target":"<eui64>","code":"<UTRN>"}')
  .action(async (command: string, opts: DccCommandOptions) => {
    if (command !== 'send') throw new CliError(`unknown dcc command '${command}' (send)`);
    process.exitCode = (await runDccCommand(opts)).code;
  });

program
  .command('install-code')
  .description('print a random ZigBee install code with its CRC-16/X-25, or check one (--check)')
  .option('--length <octets>', 'octets before the CRC: 6, 8, 12 or 16 (default 16)')
  .option('--seed <seed>', 'the same code for the same seed (and length)')
  .option('--check <hex>', 'validate this code (with its CRC): exit 0 valid, 1 not')
  .action((opts: InstallCodeOptions) => {
    process.exitCode = runInstallCodeCommand(opts).code;
  });

program
  .command('events')
  .description('list every trace event and its fields (the catalogue expectations are checked against)')
  .option('--markdown', 'print docs/trace-events.md')
  .action(async (opts: { markdown?: boolean }) => {
    const { runEventsCommand } = await import('./events-command.js');
    process.stdout.write(runEventsCommand(opts));
  });

// Real frames in (issue 18): gbhan replay, gbhan zep-in.
registerReplayCommands(program);

const USER_ERRORS = new Set([
  'CliError',
  'DurationError',
  'ScenarioError',
  'ScenarioRunError',
  'BusClientError',
  'DeviceArgsError',
  'CaptureReadError',
  'ReplayError',
]);

/** A Node system error (EADDRINUSE, ENOTDIR, EACCES ...): the user's environment, not a bug. */
function systemErrorLine(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
  if (typeof err?.code !== 'string' || typeof err.syscall !== 'string') return null;
  if (err.code === 'EADDRINUSE')
    return `cannot listen on ${err.address ?? ''}:${err.port ?? ''}: the port is in use (EADDRINUSE)`;
  return err.message;
}

program.parseAsync(process.argv).catch((e: unknown) => {
  // commander has printed its message (and the help) already
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  const err = e as Error;
  const line = USER_ERRORS.has(err?.name) ? err.message : systemErrorLine(e);
  console.error(`gbhan: ${line ?? err?.stack ?? String(e)}`);
  process.exit(2);
});
