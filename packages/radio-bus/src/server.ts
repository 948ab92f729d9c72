/**
 * The bus behind a WebSocket server (ws), bound to 127.0.0.1 unless told otherwise. Each
 * connection is one radio; a bad message ends that connection only.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { RadioBus } from './bus.js';
import { BusProtocolError, decodeClientFrame, MAX_MESSAGE_BYTES } from './protocol.js';

/** ws error codes for a frame or message past the size limits. */
const OVERSIZE_WS_ERRORS = new Set([
  'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
]);

export interface BusServerOptions {
  host?: string;
  /** 0 = any free port. */
  port?: number;
}

export interface BusServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export function startBusServer(bus: RadioBus, options: BusServerOptions = {}): Promise<BusServer> {
  const host = options.host ?? '127.0.0.1';
  // ws itself cuts frames far over our limit (close 1009); ours get a proper BUS_OVERSIZE error.
  const wss = new WebSocketServer({
    host,
    port: options.port ?? 0,
    perMessageDeflate: false,
    maxPayload: 16 * MAX_MESSAGE_BYTES,
  });
  wss.on('connection', (ws) => {
    const port = bus.attach({
      send: (msg) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
      },
      close: () => ws.close(1000),
      backlogBytes: () => ws.bufferedAmount,
      abort: () => ws.terminate(),
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        port.fail(new BusProtocolError('BUS_MALFORMED', 'binary frames are not part of the bus protocol'));
        return;
      }
      const text = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      let msg: unknown;
      try {
        msg = decodeClientFrame(text);
      } catch (e) {
        port.fail(e);
        return;
      }
      port.receive(msg);
    });
    // ws reports what it refuses in a frame (then closes with 1002/1008/1009): too big is
    // BUS_OVERSIZE, anything else (unmasked, bad opcode, bad UTF-8 ...) BUS_WS_PROTOCOL.
    ws.on('error', (err) => {
      const code = OVERSIZE_WS_ERRORS.has((err as { code?: string }).code ?? '')
        ? 'BUS_OVERSIZE'
        : 'BUS_WS_PROTOCOL';
      port.fail(new BusProtocolError(code, `socket error: ${err.message}`));
    });
    ws.on('close', () => port.detached('socket closed'));
  });
  return new Promise((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => {
      const addr = wss.address() as AddressInfo;
      resolve({
        url: `ws://${host}:${addr.port}`,
        port: addr.port,
        close: () =>
          new Promise<void>((done) => {
            for (const c of wss.clients) c.terminate();
            wss.close(() => done());
          }),
      });
    });
  });
}
