/**
 * The Communications Hub as a device for in-process runs: a coordinator `ZigbeeNode` (trust
 * centre) on a bus radio with the CHF + GPF applications on top. The band is the radio's:
 * 2.4 GHz, or GB868 when the radio registers on a GB868 page (one radio per CH here; a
 * dual-band hub is two CH devices' worth of radio and is not modelled). Scenario commands
 * arrive through `radio.onControl` (the actions of `commsHubKind`, kind.ts).
 */
import type { CryptoSuite, TimingMode } from '@gbhan/cbke';
import { Dcc, type DevicePublicKeys, deviceGbcsKeys, remoteParties } from '@gbhan/gbcs';
import { type BusRadio, Prng } from '@gbhan/radio-bus';
import { alertCodeHex, type CbkeConfig, runCbkeConfig } from '@gbhan/runtime';
import {
  type ChannelSpec,
  type CoordinatorApplication,
  type DropReasonOf,
  dispatchControl,
  type KeyExportHook,
  type NvStore,
  ZigbeeNode,
} from '@gbhan/stack';
import { type CommsHubAppConfig, CommsHubApplication } from './comms-hub-app.js';
import { handleDccLinkRequest } from './dcc-link.js';
import { DEFAULT_INTERPAN_WINDOW_US } from './interpan-window.js';
import { COMMS_HUB_ACTIONS } from './kind.js';
import { traceHub } from './trace-events.js';
import type { DccCommand } from './wan.js';

export interface CommsHubConfig {
  /** Default: a certificate from the run's test CA (see `runCbkeConfig`). */
  cbke?: CbkeConfig;
  cbkeTiming?: TimingMode;
  /** Crypto suite of the run test CA's certificate: 2 (sect283k1, GB; default) or 1 (sect163k1). */
  cbkeSuite?: CryptoSuite;
  /** PAN id to form with (default drawn from the seeded PRNG). */
  panId?: number;
  channels?: ChannelSpec[];
  /** Device Log entries present at first power-on (a hub installed with its meters pre-logged). */
  deviceLog?: { eui64: string; deviceType: string; installCode: string }[];
  // ASSUMPTION: the CH permits joining whenever it is on (255 = until closed); only Device Log
  // entries are admitted anyway. Set a number of seconds, or 0 to keep joining closed.
  permitJoinSeconds?: number;
  tunnel?: CommsHubAppConfig['tunnel'];
  /**
   * Inter-PAN window from each power-on, in µs (default 60 minutes, GBCS / CPA DEV.1.1.M949);
   * 'unlimited' models SECMP0037 (always open).
   */
  interPanWindowUs?: number | 'unlimited';
  /** SECMP0038: route GBCS commands an enhanced PPMID passes onto the HAN (default false: today's rule, refused). */
  secmp0038?: boolean;
}

export interface CommsHubOptions {
  radio: BusRadio;
  nvm: NvStore;
  seed: string | number;
  config?: CommsHubConfig;
  onKeyExport?: KeyExportHook;
  /** Power on at construction (default true). */
  autoPowerOn?: boolean;
}

/** The run's DCC: remote parties and device keys derived from the run seed. */
export function runDcc(seed: string | number): Dcc {
  const keys = new Map<string, DevicePublicKeys>();
  return new Dcc({
    parties: remoteParties(String(seed)),
    deviceKeys: (eui64) => {
      let k = keys.get(eui64);
      if (!k) {
        const d = deviceGbcsKeys(String(seed), eui64);
        k = { dsPublic: d.ds.publicKey, kaPublic: d.ka.publicKey };
        keys.set(eui64, k);
      }
      return k;
    },
  });
}

export class CommsHub implements CoordinatorApplication {
  readonly node: ZigbeeNode;
  app: CommsHubApplication | null = null;
  private readonly cbke: CbkeConfig;
  private readonly config: CommsHubConfig;
  /** Inter-PAN frames that reached the CH, by MAC source: let in (window open) or dropped. */
  readonly interPanFrames = new Map<string, { processed: number; dropped: number }>();
  /** Time the window was open in earlier power cycles. */
  private interPanOpenUsBefore = 0;
  /**
   * The DCC behind the WAN: the run's remote parties (from the seed) and every device's
   * public GBCS keys. ASSUMPTION: it lives with the hub object, so its counters outlast a
   * CH power cycle (they follow virtual time anyway).
   */
  readonly remoteParties: Dcc;

  constructor(private readonly o: CommsHubOptions) {
    this.config = o.config ?? {};
    const eui64 = o.radio.eui64;
    this.cbke =
      this.config.cbke ?? runCbkeConfig(o.seed, eui64, this.config.cbkeTiming, this.config.cbkeSuite);
    this.remoteParties = runDcc(o.seed);
    const panId = this.config.panId ?? 1 + (new Prng(`${o.seed}/pan/${eui64}`).nextUint32() % 0xfffe);
    this.node = new ZigbeeNode(o.radio, o.nvm, {
      role: 'coordinator',
      seed: o.seed,
      panId,
      ...(this.config.channels ? { channels: this.config.channels } : {}),
      ...(o.onKeyExport ? { onKeyExport: o.onKeyExport } : {}),
    });
    this.node.onZcl((m) => this.app?.handle(m));
    this.node.setCoordinatorApplication(this);
    o.radio.onControl((cmd) => {
      this.control(cmd);
    });
    // The DCC User interface over a wired/IP link (a head-end on the bus): JSON requests, answered to the sender.
    o.radio.onLink((m) => {
      const reply = handleDccLinkRequest(this.node, this.app?.wan ?? null, m.from, m.data);
      void o.radio.linkSend(m.link, m.from, reply);
    });
    if (o.autoPowerOn ?? true) void this.powerOn();
  }

  // ---------------------------------------------------------------- CoordinatorApplication
  // The node asks the CH, which asks the application of this power cycle (none: powered off).

  admit(eui64: string): { linkKey: Uint8Array } | null {
    return this.app ? this.app.admission(eui64) : null;
  }

  childRejoined(eui64: string): void {
    this.app?.deviceRejoined(eui64);
  }

  /** The application's Inter-PAN window, with the frames let in / dropped counted per source. */
  interPanGate(source: string | number): DropReasonOf<'INTERPAN'> | null {
    const refusal = this.app ? this.app.interPanGate() : 'interpan-window-closed';
    const key = typeof source === 'string' ? source : `short:${source.toString(16)}`;
    const n = this.interPanFrames.get(key) ?? { processed: 0, dropped: 0 };
    if (refusal === null) n.processed++;
    else n.dropped++;
    this.interPanFrames.set(key, n);
    return refusal;
  }

  async powerOn(): Promise<void> {
    if (this.app) return;
    const app = new CommsHubApplication(
      this.node,
      {
        cbke: this.cbke,
        dcc: this.remoteParties,
        ...(this.config.tunnel ? { tunnel: this.config.tunnel } : {}),
        ...(this.config.secmp0038 !== undefined ? { secmp0038: this.config.secmp0038 } : {}),
        ...(this.config.interPanWindowUs !== undefined
          ? { interPanWindowUs: this.config.interPanWindowUs }
          : {}),
      },
      // A meter's alert waits in the node's queue with the CH's own for the WAN.
      { alertLog: this.node.securityLog, coordinator: this.node },
    );
    this.app = app;
    await this.node.powerOn();
    if (this.app !== app) return;
    if (this.config.deviceLog && !this.node.nvm.read('chf.deviceLogProvisioned')) {
      for (const e of this.config.deviceLog) app.deviceLog.add(e);
      this.node.nvm.commit({ 'chf.deviceLogProvisioned': true });
    }
    // Alerts (the CH's own and those relayed for its devices) go to the DCC while the WAN is
    // up; otherwise they wait in NVM.
    this.node.setAlertSender((alert) => {
      if (!this.app?.wan.up) return false;
      const from = alert.detail?.from;
      traceHub(this.node, {
        type: 'wan-alert',
        code: alert.code,
        codeHex: alertCodeHex(alert.code),
        ...(typeof from === 'string' ? { from } : {}),
        ...(alert.detail ? { detail: alert.detail } : {}),
      });
      return true;
    });
    const permit = this.config.permitJoinSeconds ?? 255;
    if (permit > 0) this.node.permitJoin(permit);
    app.start();
  }

  /** Total time Inter-PAN was open so far (every power cycle of this run). */
  interPanOpenUs(): number {
    return this.interPanOpenUsBefore + (this.app?.interPanWindow.openUs() ?? 0);
  }

  powerOff(): void {
    if (!this.app) return;
    this.interPanOpenUsBefore += this.app.interPanWindow.openUs();
    this.app.stop();
    this.app = null;
    this.node.setAlertSender(null);
    this.node.powerOff();
  }

  /** The bus went away (process mode): stop the applications; the radio cannot be switched off any more. */
  busClosed(): void {
    this.app?.stop();
    this.app = null;
  }

  close(): void {
    this.powerOff();
    this.o.radio.close();
  }

  /** A DCC command (throws WanError, traced, when it cannot be carried out). */
  dcc(cmd: DccCommand): string {
    if (!this.app) throw new Error('the CH is powered off');
    return this.app.dcc(cmd);
  }

  /**
   * A scenario command, through the kind's action union (`COMMS_HUB_ACTIONS`). Never throws:
   * refusals are traced. DCC commands go to the WAN side as received (traced so).
   */
  control(cmd: Record<string, unknown>): void {
    const dcc = (_: unknown, received: Record<string, unknown>) =>
      this.app!.dcc({ ...received, kind: received.action } as DccCommand);
    dispatchControl(cmd, {
      actions: COMMS_HUB_ACTIONS,
      host: this.node,
      powered: this.app !== null,
      whenOff: ['interpan-report'],
      // DCC failures are already traced as wan-command-failed.
      traced: (e) => e.name === 'WanError',
      handlers: {
        'power-on': () => void this.powerOn(),
        'power-off': () => this.powerOff(),
        // The run's Inter-PAN exposure: total time open and the frames processed / dropped per source.
        'interpan-report': () =>
          traceHub(this.node, {
            type: 'interpan-report',
            windowUs: this.config.interPanWindowUs ?? DEFAULT_INTERPAN_WINDOW_US,
            totalOpenUs: this.interPanOpenUs(),
            frames: Object.fromEntries(this.interPanFrames),
          }),
        'update-device-log': dcc,
        'read-meter': dcc,
        'read-credit': dcc,
        'top-up': dcc,
        'set-clock': dcc,
        supply: dcc,
        'emergency-credit': dcc,
        gbcs: dcc,
        'gbcs-replay': dcc,
        'wan-down': () => this.app!.wan.setUp(false),
        'wan-up': () => {
          this.app!.wan.setUp(true);
          void this.node.securityLog.flush();
        },
        'permit-join': (c) => this.node.permitJoin(c.seconds ?? 255),
      },
    });
  }
}
