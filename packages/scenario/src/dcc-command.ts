/**
 * `gbhan dcc send --port N (--hex <gbcs> | --json <command>)`: play the DCC against a hub
 * process started with `--wan-port N`. `--hex` sends raw GBCS bytes (a General Ciphering
 * message, e.g. one built with @gbhan/gbcs or taken from a capture) to the meter the message
 * names; `--json` sends any DCC command of the hub's vocabulary. Prints the endpoint's answer
 * as one JSON line; exit 0 when it took the command, 1 when it refused it (the error code
 * says why: WAN_NO_TUNNEL, WAN_UNKNOWN_DEVICE, WAN_BAD_COMMAND, ...), 2 for bad options or
 * no hub at the port.
 */
import { CliError } from './bus-command.js';

export interface DccCommandOptions {
  port: string;
  host?: string;
  hex?: string;
  json?: string;
}

export async function runDccCommand(
  opts: DccCommandOptions,
  print: (line: string) => void = (l) => console.log(l),
): Promise<{ code: number }> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CliError(`--port must be 1..65535, got ${opts.port}`);
  if ((opts.hex === undefined) === (opts.json === undefined))
    throw new CliError('give exactly one of --hex <gbcs bytes> and --json <command>');
  let body: Record<string, unknown>;
  if (opts.hex !== undefined) {
    const hex = opts.hex.replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new CliError('--hex: an even number of hex digits');
    body = { action: 'gbcs', hex };
  } else {
    try {
      const parsed: unknown = JSON.parse(opts.json ?? '');
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch (e) {
      throw new CliError(`--json: ${(e as Error).message}`);
    }
  }
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}/dcc`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  } catch (e) {
    throw new CliError(`no hub WAN endpoint at ${url}: ${(e as Error).message}`);
  }
  const answer = (await res.json()) as Record<string, unknown>;
  print(JSON.stringify(answer));
  return { code: res.ok ? 0 : 1 };
}
