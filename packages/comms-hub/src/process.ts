/**
 * Process entry of the Communications Hub: `gbhan device comms-hub --bus ws://127.0.0.1:PORT
 * --state FILE [--wan-port N] ...` runs the CH in its own process, connected to the bus over
 * WebSocket, its NVM in FILE (atomic JSON), until the bus closes the connection.
 *
 * With `--wan-port N` a small local JSON endpoint plays the DCC (process mode's WAN side):
 *   POST /dcc    body: a command of the control vocabulary, e.g.
 *                {"action":"update-device-log","op":"add","eui64":"...","deviceType":"ESME","installCode":"..."}
 *                -> 200 {"requestId":"dcc-3"} | 409 {"error":{"code":"WAN_DOWN","message":"..."}}
 *   POST /control body: any control command (power-off, wan-down, ...) -> 200 {"ok":true}
 *   GET  /status -> Device Log, tunnel states, WAN state
 * Bound to 127.0.0.1 only. Requests arrive in wall-clock time, so a run driven through it is
 * not reproducible; scenarios drive the CH through the bus's control messages instead.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BusRadio, WebSocketTransport } from '@gbhan/radio-bus';
import { parseDeviceArgs } from '@gbhan/runtime';
import { FileNvStore } from '@gbhan/stack';
import { CommsHub, type CommsHubConfig } from './comms-hub.js';

import { type DccCommand, WanError } from './wan.js';

const MAX_BODY = 16 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

/** The WAN endpoint; every command runs at the bus's current instant, holding the bus (lock-step kept). */
export function startWanEndpoint(hub: CommsHub, radio: BusRadio, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (req.method === 'GET' && req.url === '/status') {
          const app = hub.app;
          return reply(res, 200, {
            powered: app !== null,
            wanUp: app?.wan.up ?? false,
            deviceLog: app?.deviceLog.entries() ?? [],
            tunnels: Object.fromEntries(
              (app?.deviceLog.entries() ?? []).map((e) => [e.eui64, app!.tunnels.state(e.eui64)]),
            ),
          });
        }
        if (req.method !== 'POST' || (req.url !== '/dcc' && req.url !== '/control'))
          return reply(res, 404, { error: { code: 'NOT_FOUND', message: `${req.method} ${req.url}` } });
        let cmd: Record<string, unknown>;
        try {
          const parsed: unknown = JSON.parse(await readBody(req));
          if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
            throw new Error('not an object');
          cmd = parsed as Record<string, unknown>;
        } catch (e) {
          return reply(res, 400, { error: { code: 'BAD_REQUEST', message: (e as Error).message } });
        }
        // Bring the CH's clock to the bus's instant (on a real-time bus, the wall clock's) first.
        let release: () => void;
        try {
          release = await radio.wake();
        } catch (e) {
          return reply(res, 503, { error: { code: 'BUS_CLOSED', message: (e as Error).message } });
        }
        try {
          if (req.url === '/control') {
            hub.control(cmd);
            return reply(res, 200, { ok: true });
          }
          const kind = cmd.kind ?? cmd.action;
          const requestId = hub.dcc({ ...cmd, kind } as DccCommand);
          return reply(res, 200, { requestId });
        } catch (e) {
          const code = e instanceof WanError ? e.code : 'FAILED';
          return reply(res, 409, { error: { code, message: (e as Error).message } });
        } finally {
          release();
        }
      } catch (e) {
        reply(res, 500, { error: { code: 'INTERNAL', message: (e as Error).message } });
      }
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

export async function runDeviceProcess(argv: string[]): Promise<void> {
  const args = parseDeviceArgs(argv);
  const { wanPort, ...config } = args.config;
  const nvm = new FileNvStore(args.state);
  const radio = await BusRadio.connect(new WebSocketTransport(args.bus), args.registration);
  const closed = new Promise<void>((resolve) => radio.onClose(() => resolve()));
  const hub = new CommsHub({ radio, nvm, seed: args.seed, config: config as CommsHubConfig });
  const server =
    typeof wanPort === 'number' && wanPort > 0 ? await startWanEndpoint(hub, radio, wanPort) : null;
  await closed;
  hub.busClosed();
  server?.close();
}
