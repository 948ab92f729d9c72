/**
 * The bus over a worker_threads MessagePort: for devices written in Node that run in worker
 * threads of the bus's process (`gbhan run --workers`). A round trip over a MessagePort costs a
 * fraction of a WebSocket's (no socket, no JSON text, no process wake-up: bench/bus-throughput.ts),
 * and the messages are the same protocol-v1 objects, validated by the bus exactly as a socket's
 * are. WebSocket stays the transport for devices outside Node or on other machines.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Port, RadioBus } from './bus.js';
import { jsonCopy } from './json-copy.js';
import { type BusMessage, BusProtocolError, type ClientMessage } from './protocol.js';
import type { ClientTransport } from './transport.js';

/** The bus side of a MessagePort: one radio, as `startBusServer` does for one socket. */
export function attachMessagePort(bus: RadioBus, mp: MessagePort): Port {
  let open = true;
  const port = bus.attach({
    send: (msg) => {
      if (open) mp.postMessage(msg);
    },
    close: () => {
      if (!open) return;
      open = false;
      mp.close();
    },
  });
  mp.on('message', (msg: unknown) => port.receive(msg));
  // A message the structured clone cannot rebuild (a class instance from another realm).
  mp.on('messageerror', (err) =>
    port.fail(new BusProtocolError('BUS_MALFORMED', `message not deserialisable: ${err.message}`)),
  );
  mp.on('close', () => {
    open = false;
    port.detached('port closed');
  });
  return port;
}

/** The device side: a worker thread's end of the channel its bus handed it. */
export class MessagePortTransport implements ClientTransport {
  private closed = false;

  constructor(private readonly mp: MessagePort) {}

  open(onMessage: (msg: BusMessage) => void, onClose: (reason: string) => void): void {
    this.mp.on('message', (msg: BusMessage) => {
      if (!this.closed) onMessage(msg);
    });
    this.mp.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      onClose('closed by bus');
    });
  }

  send(msg: ClientMessage): void {
    if (this.closed) return;
    // A device event is a JSON copy (json-copy.ts), as over a socket: the trace is the same in every mode
    // (a structured clone would keep `undefined` fields and typed arrays a socket turns to JSON).
    this.mp.postMessage(msg.type === 'trace' ? jsonCopy(msg) : msg);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.mp.close();
  }
}
