/**
 * `gbhan optical --port N <command>`: the manufacturer's triage tool against a running meter
 * process started with `--optical-port N` (see @gbhan/meter `startOpticalEndpoint`).
 * `unlock` without `--signature` asks the meter for a challenge, signs it with the
 * manufacturer key (`--key-file <file>`: a run's out/<scenario>/manufacturer-secret-key.hex or
 * the user's own; or `--manufacturer-key <hex secret>`) and sends the unlock. Prints each
 * response as one JSON line; exit 0 when the last one is ok, 1 when the meter refused, 2 for
 * bad options (no key, a key file that is not one) or no meter at the port.
 */
import { CliError } from './bus-command.js';

export interface OpticalCommandOptions {
  port: string;
  host?: string;
  signature?: string;
  /** A secret key file (64 hex digits), as a run writes it. */
  keyFile?: string;
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
  const {
    OPTICAL_COMMANDS,
    ManufacturerKeyError,
    ManufacturerTool,
    parseManufacturerSecretKey,
    readManufacturerSecretKeyFile,
  } = await import('@gbhan/meter');
  if (!(OPTICAL_COMMANDS as readonly string[]).includes(command))
    throw new CliError(`unknown optical command '${command}' (${OPTICAL_COMMANDS.join(', ')})`);
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CliError(`--port must be 1..65535, got ${opts.port}`);
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}/optical`;
  let last: Record<string, unknown>;
  if (command === 'unlock' && opts.signature === undefined) {
    if (opts.keyFile === undefined && opts.manufacturerKey === undefined)
      throw new CliError(
        'unlock needs --key-file (a run writes out/<scenario>/manufacturer-secret-key.hex), --manufacturer-key or --signature',
      );
    let secretKey: Uint8Array;
    try {
      secretKey = (
        opts.keyFile !== undefined
          ? readManufacturerSecretKeyFile(opts.keyFile)
          : parseManufacturerSecretKey(opts.manufacturerKey ?? '', '--manufacturer-key')
      ).secretKey;
    } catch (e) {
      if (e instanceof ManufacturerKeyError) throw new CliError(e.message);
      throw e;
    }
    const tool = new ManufacturerTool(secretKey);
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
