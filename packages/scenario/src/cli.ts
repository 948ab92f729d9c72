/**
 * The gbhan command line. Each subcommand is a thin shell over a library call, so
 * everything it does can also be done (and tested) in-process.
 */
import { Command } from 'commander';
import { runBusCommand } from './bus-command.js';
import { runDemo } from './demo.js';

const program = new Command();
program.name('gbhan').description('GB smart-metering HAN emulator').showHelpAfterError();

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
  .option('--medium <file>', 'medium configuration (YAML or JSON: walls, band models, loss, jammers)')
  .action(async (opts) => {
    await runBusCommand(opts);
  });

program
  .command('start')
  .description('the main job: run the default demonstration and write its outputs')
  .option('--out <dir>', 'output directory', 'out/demo')
  .option('--seed <seed>', 'seed', '1')
  .action(async (opts: { out: string; seed: string }) => {
    const code = await runDemo({ outDir: opts.out, seed: opts.seed });
    process.exitCode = code;
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as Error;
  console.error(
    `gbhan: ${err.name === 'CliError' || err.name === 'DurationError' ? err.message : (err.stack ?? String(e))}`,
  );
  process.exit(2);
});
