/**
 * Transports between a device's BusRadio and the bus. Both carry the same protocol-v1
 * message objects: the WebSocket one as JSON text frames, the in-process one as objects
 * handed over on the microtask queue (validated by the bus exactly as a socket's are).
 */
import WebSocket from 'ws';
import type { BusLink, Port, RadioBus } from './bus.js';
import { jsonCopy } from './json-copy.js';
import type { BusMessage, ClientMessage } from './protocol.js';

export interface ClientTransport {
  send(msg: ClientMessage): void;
  /** Register the handler for bus messages and for the transport closing. */
  open(onMessage: (msg: BusMessage) => void, onClose: (reason: string) => void): void;
  close(): void;
}

/** Same process as the bus: no socket, same messages. */
export class InProcessTransport implements ClientTransport {
  private port: Port | null = null;
  private onMessage: ((msg: BusMessage) => void) | null = null;
  private onClose: ((reason: string) => void) | null = null;
  private closed = false;

  constructor(private readonly bus: RadioBus) {}

  open(onMessage: (msg: BusMessage) => void, onClose: (reason: string) => void): void {
    this.onMessage = onMessage;
    this.onClose = onClose;
    const link: BusLink = {
      send: (msg) => {
        queueMicrotask(() => {
          if (!this.closed) this.onMessage?.(msg);
        });
      },
      close: () => {
        queueMicrotask(() => this.finish('closed by bus'));
      },
    };
    this.port = this.bus.attach(link);
  }

  send(msg: ClientMessage): void {
    if (this.closed) return;
    const port = this.port;
    // A device event may hold live objects the device changes later: carry what a socket
    // would, a JSON copy taken now, so the trace is the same in-process and over sockets.
    const m = msg.type === 'trace' ? jsonCopy(msg) : msg;
    queueMicrotask(() => port?.receive(m));
  }

  close(): void {
    if (this.closed) return;
    const port = this.port;
    this.finish('closed by client');
    port?.detached('closed');
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.(reason);
  }
}

/** A device in its own process: JSON text frames over ws://. */
export class WebSocketTransport implements ClientTransport {
  private ws: WebSocket | null = null;
  private queue: string[] = [];
  private opened = false;

  constructor(private readonly url: string) {}

  open(onMessage: (msg: BusMessage) => void, onClose: (reason: string) => void): void {
    const ws = new WebSocket(this.url, { perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      this.opened = true;
      for (const m of this.queue) ws.send(m);
      this.queue = [];
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return onClose('bus sent a binary frame');
      let msg: BusMessage;
      try {
        msg = JSON.parse(data.toString()) as BusMessage;
      } catch {
        return onClose('bus sent invalid JSON');
      }
      onMessage(msg);
    });
    ws.on('close', (code, reason) => onClose(`socket closed (${code}${reason.length ? `: ${reason}` : ''})`));
    ws.on('error', (err) => onClose(`socket error: ${err.message}`));
  }

  send(msg: ClientMessage): void {
    const text = JSON.stringify(msg);
    if (this.opened && this.ws?.readyState === WebSocket.OPEN) this.ws.send(text);
    else if (!this.opened) this.queue.push(text);
  }

  close(): void {
    this.ws?.close();
  }
}
