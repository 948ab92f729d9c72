/**
 * The live view's server on 127.0.0.1: plain node:http serves the page (map rendered here,
 * like the report's), `ws` carries the run to it. Events are queued as they happen and sent in
 * batches a few times a second with the clock; a page that does not keep up, or a run going
 * faster than a page can draw, loses events beyond a bounded queue (counted, and the page
 * says so) rather than growing the server's memory.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BusTraceEvent, Wall } from '@gbhan/radio-bus';
import { WebSocket, WebSocketServer } from 'ws';
import type { ReportDevice } from './collect.js';
import type { LiveControl } from './live-control.js';
import { livePage } from './live-page.js';
import { ClientCommand, type LiveEvent, liveEvent, type ServerMessage } from './live-protocol.js';
import type { MapInput } from './map.js';

export interface LiveRun {
  name: string;
  description?: string;
  mode: 'live' | 'replay';
  durationUs: number;
  devices: readonly ReportDevice[];
  walls: readonly Wall[];
  bands?: MapInput['bands'];
}

export interface LiveServerOptions {
  /** 0 (default): any free port. */
  port?: number;
  host?: string;
}

const SEND_EVERY_MS = 100;
/** Events waiting for the next batch at most; more are skipped (counted). */
const MAX_QUEUE = 5000;
/** A page whose socket has this much unsent is skipped for a batch. */
const MAX_BUFFERED = 4 * 1024 * 1024;
/** Recent events kept for a page that connects late (it gets these, then what follows). */
const HISTORY = 20_000;

export class LiveServer {
  private readonly queue: LiveEvent[] = [];
  private history: LiveEvent[] = [];
  private skipped = 0;
  private readonly names: Map<string, string>;
  private timer: NodeJS.Timeout | null = null;
  private control: LiveControl | null = null;
  private replay: (() => LiveControl) | null = null;

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private run: LiveRun,
    readonly url: string,
  ) {
    this.names = new Map(run.devices.map((d) => [d.eui64, d.id]));
    wss.on('connection', (ws) => this.connected(ws));
    // Batches and the clock go out on the wall clock: this is a viewer, not the run.
    this.timer = setInterval(() => this.flush(), SEND_EVERY_MS);
  }

  static async start(run: LiveRun, o: LiveServerOptions = {}): Promise<LiveServer> {
    let server: LiveServer | null = null;
    const http = createServer((req, res) => {
      if (req.url === '/favicon.ico') {
        res.writeHead(204);
        res.end();
        return;
      }
      if (req.method === 'GET' && (req.url === '/' || req.url?.startsWith('/?'))) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(livePage(server!.run));
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    });
    const wss = new WebSocketServer({ server: http, path: '/ws', maxPayload: 4096 });
    const host = o.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(o.port ?? 0, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const port = (http.address() as AddressInfo).port;
    server = new LiveServer(http, wss, run, `http://${host}:${port}/`);
    return server;
  }

  /** The clock the controls act on (the running bus, or a replay). */
  attach(control: LiveControl): void {
    this.control = control;
  }

  /**
   * Let pages ask for a replay once the control is done: `start` makes a new clock (from the
   * trace), whose events this server's `push` should get.
   */
  enableReplay(start: () => LiveControl): void {
    this.replay = start;
  }

  /** Another run on the same page (a replay after the live run). */
  reset(run: LiveRun): void {
    this.run = run;
    this.names.clear();
    for (const d of run.devices) this.names.set(d.eui64, d.id);
    this.queue.length = 0;
    this.history = [];
    for (const ws of this.wss.clients) this.send(ws, this.hello());
  }

  push(e: BusTraceEvent): void {
    const ev = liveEvent(e, (eui) => this.names.get(eui) ?? eui);
    if (ev === null) return;
    if (this.queue.length >= MAX_QUEUE) {
      this.skipped++;
      return;
    }
    this.queue.push(ev);
  }

  private hello(): ServerMessage {
    const r = this.run;
    return {
      type: 'hello',
      name: r.name,
      mode: r.mode,
      durationUs: r.durationUs,
      devices: r.devices.map((d) => ({ id: d.id, type: d.type, band: d.band, channel: d.channel })),
    };
  }

  private connected(ws: WebSocket): void {
    this.send(ws, this.hello());
    if (this.history.length > 0) this.send(ws, { type: 'events', events: this.history });
    ws.on('message', (data) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(data));
      } catch {
        this.send(ws, { type: 'error', message: 'not JSON' });
        return;
      }
      const cmd = ClientCommand.safeParse(parsed);
      if (!cmd.success) {
        this.send(ws, {
          type: 'error',
          message: `bad command: ${cmd.error.issues[0]?.message ?? 'invalid'}`,
        });
        return;
      }
      this.command(cmd.data);
      this.flush();
    });
    ws.on('error', () => ws.terminate());
  }

  private command(c: ClientCommand): void {
    const control = this.control;
    if (control === null) return;
    if (c.cmd === 'pause') control.pause();
    else if (c.cmd === 'resume') control.resume();
    else if (c.cmd === 'step') control.step(c.us ?? 1_000_000);
    else if (c.cmd === 'speed') control.setSpeed(c.speed);
    else if (this.replay !== null && control.done) {
      control.stop?.();
      this.reset({ ...this.run, mode: 'replay' });
      this.skipped = 0;
      this.control = this.replay();
    }
  }

  private send(ws: WebSocket, m: ServerMessage): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  }

  private flush(): void {
    const events = this.queue.splice(0, this.queue.length);
    if (events.length > 0) {
      this.history.push(...events);
      if (this.history.length > HISTORY) this.history = this.history.slice(-HISTORY);
    }
    const c = this.control;
    const clock: ServerMessage = {
      type: 'clock',
      t: c?.now() ?? 0,
      paused: c?.paused ?? true,
      speed: c?.speed ?? null,
      done: c?.done ?? false,
      skipped: this.skipped,
      canReplay: this.replay !== null && (c?.done ?? false),
    };
    const batch =
      events.length > 0 ? JSON.stringify({ type: 'events', events } satisfies ServerMessage) : null;
    const tick = JSON.stringify(clock);
    for (const ws of this.wss.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (batch !== null) {
        if (ws.bufferedAmount > MAX_BUFFERED) this.skipped += events.length;
        else ws.send(batch);
      }
      ws.send(tick);
    }
  }

  async close(): Promise<void> {
    this.control?.stop?.();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
