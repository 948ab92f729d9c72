/**
 * `gbhan optical --port N <command>`: the manufacturer's triage tool against a running meter
 * process started with `--optical-port N` (see @gbhan/meter `startOpticalEndpoint`).
 * `unlock` without `--signature` asks the meter for a challenge, signs it with the
 * manufacturer key (`--manufacturer-key <hex secret>`, or the run's key from `--seed`) and
 * sends the unlock. Prints each response as one JSON line; exit 0 when the last one is ok,
 * 1 when the meter refused, 2 for bad options or no meter at the port.
 */
import { CliError } from './bus-command.js';

export interface OpticalCommandOptions {
  port: string;
  host?: string;
  signature?: string;
  seed?: string;
  manufacturerKey?: string;
}

async function post(url: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  } catch (e) {
    throw new CliError(`no meter optical endpoint at ${url}: ${(e as Error).message}`);
  }
  return (await res.json()) as Record<string, unknown>;
}

export async function runOpticalCommand(
  command: string,
  opts: OpticalCommandOptions,
  print: (line: string) => void = (l) => console.log(l),
): Promise<{ code: number }> {
  const { OPTICAL_COMMANDS, ManufacturerTool, manufacturerKeyPair } = await import('@gbhan/meter');
  if (!(OPTICAL_COMMANDS as readonly string[]).includes(command))
    throw new CliError(`unknown optical command '${command}' (${OPTICAL_COMMANDS.join(', ')})`);
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CliError(`--port must be 1..65535, got ${opts.port}`);
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}/optical`;
  let last: Record<string, unknown>;
  if (command === 'unlock' && opts.signature === undefined) {
    if (opts.seed === undefined && opts.manufacturerKey === undefined)
      throw new CliError('unlock needs --signature, --manufacturer-key or the run --seed');
    const { fromHex } = await import('@gbhan/zigbee');
    const tool = new ManufacturerTool(
      opts.manufacturerKey !== undefined
        ? fromHex(opts.manufacturerKey)
        : manufacturerKeyPair(opts.seed ?? '').secretKey,
    );
    const c = await post(url, { command: 'challenge' });
    print(JSON.stringify(c));
    if (c.ok !== true) return { code: 1 };
    last = await post(url, {
      command: 'unlock',
      signature: tool.unlockResponse(String(c.eui64), String(c.challenge)),
    });
  } else {
    last = await post(url, {
      command,
      ...(opts.signature !== undefined ? { signature: opts.signature } : {}),
    });
  }
  print(JSON.stringify(last));
  return { code: last.ok === true ? 0 : 1 };
}
