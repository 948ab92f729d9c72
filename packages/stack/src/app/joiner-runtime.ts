/**
 * A joining device on the real stack: a `ZigbeeNode` on a bus radio, the application of the
 * current power cycle on top of it, power on/off, and the join (or secured rejoin) with
 * retries (05-3474 §3.6.1.4). Scenario commands arrive through `radio.onControl`.
 *
 * Handlers never return the promises of work that takes virtual time (a returned promise
 * holds the bus until it settles, and a join needs the bus to run).
 *
 * The runtime of every joining GB device (ESME, GSME, PPMID); the CH, which forms the
 * network, has its own.
 */
import type { BusRadio } from '@gbhan/radio-bus';
import { Prng } from '@gbhan/radio-bus';
import type { ApplicationHost, IncomingZcl } from '../host.js';
import type { KeyExportHook } from '../key-export.js';
import { type ChannelSpec, type NodeRole, ZigbeeNode } from '../node.js';
import type { NvStore } from '../nvm.js';

export interface JoinerApp {
  onJoined(): void;
  handle(msg: IncomingZcl): void;
  stop(): void;
}

export interface JoinerOptions {
  radio: BusRadio;
  nvm: NvStore;
  /** The run seed. */
  seed: string | number;
  role: NodeRole;
  /** Install code with CRC (hex), as logged in the CHF Device Log. */
  installCode: string;
  /** The CH's EUI64 (GB: the extended PAN id). */
  chEui64: string;
  channels?: ChannelSpec[];
  pollPeriodUs?: number;
  onKeyExport?: KeyExportHook;
  // ASSUMPTION: a failed join is tried again after 30 s plus up to 5 s of seeded jitter.
  joinRetryUs?: number;
  /** Power on at construction (default true). */
  autoPowerOn?: boolean;
}

export type ControlCommand = Record<string, unknown> & { action?: unknown };

export class JoinerRuntime<A extends JoinerApp> {
  readonly node: ZigbeeNode;
  app: A | null = null;
  private generation = 0;
  private readonly prng: Prng;

  constructor(
    readonly opts: JoinerOptions,
    private readonly makeApp: (host: ApplicationHost) => A,
    /** Device-specific commands; return false for an unknown action. */
    private readonly command: (cmd: ControlCommand, app: A) => boolean,
  ) {
    this.prng = new Prng(`${opts.seed}/join/${opts.radio.eui64}`);
    this.node = new ZigbeeNode(opts.radio, opts.nvm, {
      role: opts.role,
      seed: opts.seed,
      installCode: opts.installCode,
      extendedPanId: opts.chEui64,
      ...(opts.channels ? { channels: opts.channels } : {}),
      ...(opts.pollPeriodUs !== undefined ? { pollPeriodUs: opts.pollPeriodUs } : {}),
      ...(opts.onKeyExport ? { onKeyExport: opts.onKeyExport } : {}),
    });
    this.node.onZcl((m) => this.app?.handle(m));
    opts.radio.onControl((cmd) => {
      this.control(cmd as ControlCommand);
    });
    if (opts.autoPowerOn ?? true) this.start();
  }

  /** Power on without waiting for the join (it needs the bus to run). */
  start(): void {
    void this.powerOn();
  }

  async powerOn(): Promise<void> {
    if (this.app) return;
    const gen = ++this.generation;
    this.app = this.makeApp(this.node);
    const r = await this.node.powerOn();
    if (gen !== this.generation) return;
    if (r === 'joined') this.app.onJoined();
    else await this.joinLoop(gen);
  }

  powerOff(): void {
    if (!this.app) return;
    this.generation++;
    this.app.stop();
    this.app = null;
    this.node.powerOff();
  }

  /**
   * The bus went away (process mode): the application saves what a power failure saves; the
   * node is left alone because its radio can no longer be switched off.
   */
  busClosed(): void {
    if (!this.app) return;
    this.generation++;
    this.app.stop();
    this.app = null;
  }

  close(): void {
    this.powerOff();
    this.opts.radio.close();
  }

  /** A scenario command (see the package README for the vocabulary). Never throws. */
  control(cmd: ControlCommand): void {
    try {
      switch (cmd.action) {
        case 'power-off':
          this.powerOff();
          return;
        case 'power-on':
          this.start();
          return;
        default:
          if (this.app && this.command(cmd, this.app)) return;
          this.node.trace({
            type: 'control-refused',
            action: String(cmd.action),
            reason: this.app ? 'unknown-action' : 'powered-off',
          });
      }
    } catch (e) {
      this.node.trace({ type: 'control-refused', action: String(cmd.action), reason: (e as Error).message });
    }
  }

  private async joinLoop(gen: number): Promise<void> {
    for (;;) {
      const r = this.node.network ? await this.node.rejoin() : await this.node.join();
      if (gen !== this.generation) return;
      if (r === 'joined') {
        this.app?.onJoined();
        return;
      }
      // A refused rejoin means the old association is gone: start again from scratch.
      if (r === 'refused' && this.node.network) this.node.resetNetworkState();
      this.node.trace({ type: 'join-retry', result: r });
      const delay = (this.opts.joinRetryUs ?? 30_000_000) + Math.floor(this.prng.next() * 5_000_000);
      await new Promise<void>((resolve) => this.node.clock.setTimer(delay, resolve));
      if (gen !== this.generation) return;
    }
  }
}
