/**
 * A joining device on the real stack: a `ZigbeeNode` on a bus radio, the application of the
 * current power cycle on top of it, power on/off, and the join (or secured rejoin) with
 * retries (05-3474 §3.6.1.4). Scenario commands are the device's (its kind's `dispatchControl`).
 *
 * Handlers never return the promises of work that takes virtual time (a returned promise
 * holds the bus until it settles, and a join needs the bus to run).
 *
 * The runtime of every joining GB device (ESME, GSME, PPMID); the CH, which forms the
 * network, has its own.
 */
import type { BusRadio } from '@gbhan/radio-bus';
import { Prng } from '@gbhan/radio-bus';
import type { ApplicationHost, IncomingZcl, KeyExportHook, NvStore } from '@gbhan/stack';
import { type ChannelSpec, type JoinResult, type NodeRole, ZigbeeNode } from '@gbhan/stack';
import { traceApp } from './trace-events.js';

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
  /** The CH's EUI64 (GB: the extended PAN id); null: join any network that takes the device. */
  chEui64: string | null;
  channels?: ChannelSpec[];
  pollPeriodUs?: number;
  onKeyExport?: KeyExportHook;
  // ASSUMPTION: a failed join is tried again after 30 s plus up to 5 s of seeded jitter.
  joinRetryUs?: number;
  /** Power on at construction (default true). */
  autoPowerOn?: boolean;
  /** Called when the node joined, before the application hears `onJoined`. */
  onNetworkJoined?: () => void;
  /** Called at every power on / power off (also a crashed process's bus going away). */
  onPower?: (on: boolean) => void;
  /**
   * Before a join from scratch (no network in NVM): get into the CH's Device Log first, e.g.
   * a PPMID pairing itself over Inter-PAN (SECMP0037). False = try again after the retry time.
   */
  pairFirst?: (node: ZigbeeNode) => Promise<boolean>;
  /** Inter-PAN frames go here first (true = consumed, not given to the application). */
  onInterPan?: (msg: IncomingZcl) => boolean;
}

export class JoinerRuntime<A extends JoinerApp> {
  readonly node: ZigbeeNode;
  app: A | null = null;
  private generation = 0;
  private readonly prng: Prng;

  constructor(
    readonly opts: JoinerOptions,
    private readonly makeApp: (host: ApplicationHost) => A,
  ) {
    this.prng = new Prng(`${opts.seed}/join/${opts.radio.eui64}`);
    this.node = new ZigbeeNode(opts.radio, opts.nvm, {
      role: opts.role,
      seed: opts.seed,
      installCode: opts.installCode,
      ...(opts.chEui64 !== null ? { extendedPanId: opts.chEui64 } : {}),
      ...(opts.channels ? { channels: opts.channels } : {}),
      ...(opts.pollPeriodUs !== undefined ? { pollPeriodUs: opts.pollPeriodUs } : {}),
      ...(opts.onKeyExport ? { onKeyExport: opts.onKeyExport } : {}),
    });
    this.node.onZcl((m) => {
      if (m.interPan && this.opts.onInterPan?.(m)) return;
      this.app?.handle(m);
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
    this.opts.onPower?.(true);
    this.app = this.makeApp(this.node);
    const r = await this.node.powerOn();
    if (gen !== this.generation) return;
    if (r === 'joined') this.joined();
    else await this.joinLoop(gen);
  }

  /**
   * Restart the application without a power cycle (e.g. after a meter's Reset HAN): the
   * application of this cycle stops (its RAM: tunnels, CBKE exchanges), a fresh one starts on
   * the node as it is now, and joins (or rejoins) if the node is not joined.
   */
  restartApplication(): void {
    if (!this.app) return;
    const gen = ++this.generation;
    this.app.stop();
    this.app = this.makeApp(this.node);
    if (this.node.joined) this.joined();
    else void this.joinLoop(gen);
  }

  private joined(): void {
    this.opts.onNetworkJoined?.();
    this.app?.onJoined();
  }

  powerOff(): void {
    if (!this.app) return;
    this.generation++;
    this.app.stop();
    this.app = null;
    this.node.powerOff();
    this.opts.onPower?.(false);
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
    this.opts.onPower?.(false);
  }

  close(): void {
    this.powerOff();
    this.opts.radio.close();
  }

  private async joinLoop(gen: number): Promise<void> {
    for (;;) {
      let r: JoinResult | 'not-paired';
      if (this.node.network) r = await this.node.rejoin();
      else if (this.opts.pairFirst && !(await this.opts.pairFirst(this.node))) r = 'not-paired';
      else r = gen === this.generation ? await this.node.join() : 'powered-off';
      if (gen !== this.generation) return;
      if (r === 'joined') {
        this.joined();
        return;
      }
      // A refused rejoin means the old association is gone: start again from scratch.
      if (r === 'refused' && this.node.network) this.node.resetNetworkState();
      traceApp(this.node, { type: 'join-retry', result: r });
      const delay = (this.opts.joinRetryUs ?? 30_000_000) + Math.floor(this.prng.next() * 5_000_000);
      await new Promise<void>((resolve) => this.node.clock.setTimer(delay, resolve));
      if (gen !== this.generation) return;
    }
  }
}
