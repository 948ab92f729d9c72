/**
 * The PPMID as a device for in-process runs: an end-device `ZigbeeNode` on a bus radio with
 * the PPMID application on top, powered on at construction, driven by scenario commands
 * through `radio.onControl` (the actions of `ppmidKind`, kind.ts).
 */
import type { CryptoSuite, TimingMode } from '@gbhan/cbke';
import type { BusRadio } from '@gbhan/radio-bus';
import { type CbkeConfig, InterPanPairing, JoinerRuntime, runCbkeConfig } from '@gbhan/runtime';
import {
  type ChannelSpec,
  dispatchControl,
  type IncomingZcl,
  type KeyExportHook,
  type NvStore,
  type ZigbeeNode,
} from '@gbhan/stack';
import { PPMID_ACTIONS } from './kind.js';
import { PpmidApplication, type PpmidConfig } from './ppmid-app.js';

export type PpmidDeviceConfig = Omit<PpmidConfig, 'cbke' | 'flushAlerts'> & {
  installCode: string;
  cbke?: CbkeConfig;
  cbkeTiming?: TimingMode;
  /** Crypto suite of the run test CA's certificate: 2 (sect283k1, GB; default) or 1 (sect163k1). */
  cbkeSuite?: CryptoSuite;
  channels?: ChannelSpec[];
  joinRetryUs?: number;
  /**
   * SECMP0037: a replacement PPMID that is not in the CHF Device Log pairs itself over
   * Inter-PAN like an HHT (scan, CBKE with the CH, install-code hand-over) before it joins;
   * each failed attempt waits the join retry time.
   */
  pairOverInterPan?: boolean;
};

export interface PpmidOptions {
  radio: BusRadio;
  nvm: NvStore;
  seed: string | number;
  config: PpmidDeviceConfig;
  onKeyExport?: KeyExportHook;
  autoPowerOn?: boolean;
}

export class Ppmid {
  readonly runtime: JoinerRuntime<PpmidApplication>;
  /** The Inter-PAN pairing under way (SECMP0037), if any. */
  private pairing: InterPanPairing | null = null;

  constructor(o: PpmidOptions) {
    const c = o.config;
    const cbke = c.cbke ?? runCbkeConfig(o.seed, o.radio.eui64, c.cbkeTiming, c.cbkeSuite);
    this.runtime = new JoinerRuntime(
      {
        radio: o.radio,
        nvm: o.nvm,
        seed: o.seed,
        // ASSUMPTION: a mains-powered PPMID joins as a (non-sleepy) end device.
        role: 'end-device',
        installCode: c.installCode,
        chEui64: c.chEui64,
        ...(c.channels ? { channels: c.channels } : {}),
        ...(c.joinRetryUs !== undefined ? { joinRetryUs: c.joinRetryUs } : {}),
        ...(o.onKeyExport ? { onKeyExport: o.onKeyExport } : {}),
        ...(o.autoPowerOn !== undefined ? { autoPowerOn: o.autoPowerOn } : {}),
        ...(c.pairOverInterPan
          ? {
              pairFirst: (node: ZigbeeNode) => this.pairOverInterPan(node, cbke, c),
              onInterPan: (m: IncomingZcl) => this.pairing?.handle(m) ?? false,
            }
          : {}),
      },
      (host) =>
        new PpmidApplication(host, {
          chEui64: c.chEui64,
          esmeEui64: c.esmeEui64,
          cbke,
          ...(c.readPeriodUs !== undefined ? { readPeriodUs: c.readPeriodUs } : {}),
          ...(c.readGas !== undefined ? { readGas: c.readGas } : {}),
          ...(c.enhanced !== undefined ? { enhanced: c.enhanced } : {}),
          flushAlerts: () => void this.node.securityLog.flush(),
          ...(c.alertConfirmTimeoutUs !== undefined
            ? { alertConfirmTimeoutUs: c.alertConfirmTimeoutUs }
            : {}),
        }),
    );
    // Alerts (a failed join among them) wait in NVM until the CHF holds a tunnel to send
    // them through.
    this.node.setAlertSender((alert) => this.runtime.app?.sendAlert(alert) ?? false);
    o.radio.onControl((cmd) => this.control(cmd));
  }

  /** A scenario command, through `PPMID_ACTIONS`. Never throws: refusals are traced. */
  control(cmd: Record<string, unknown>): void {
    const app = this.runtime.app;
    dispatchControl(cmd, {
      actions: PPMID_ACTIONS,
      host: this.node,
      powered: app !== null,
      handlers: {
        'power-on': () => this.runtime.start(),
        'power-off': () => this.runtime.powerOff(),
        'top-up': (c) => app!.topUp(c.code),
        'read-meter': () => app!.readNow(),
        'emergency-credit': () => app!.selectEmergencyCredit(),
        'supply-enable': () => app!.requestSupplyEnable(),
        'alt-channel-command': (c) => void app!.altChannel.fromChannel(Buffer.from(c.hex, 'hex')),
      },
    });
  }

  /** Scan, Inter-PAN CBKE with the CH, install-code hand-over as device type PPMID. */
  private async pairOverInterPan(node: ZigbeeNode, cbke: CbkeConfig, c: PpmidDeviceConfig): Promise<boolean> {
    this.pairing?.stop();
    const pairing = new InterPanPairing({
      node,
      cbke,
      deviceType: 'PPMID',
      installCode: c.installCode,
      scanChannels: c.channels ?? [
        { page: node.radio.registration.page, channel: node.radio.registration.channel },
      ],
      chEui64: c.chEui64,
    });
    this.pairing = pairing;
    const r = await pairing.pair();
    pairing.stop();
    if (this.pairing === pairing) this.pairing = null;
    return r.ok;
  }

  get node(): ZigbeeNode {
    return this.runtime.node;
  }

  get app(): PpmidApplication | null {
    return this.runtime.app;
  }

  close(): void {
    this.runtime.close();
  }

  /** The bus went away (process mode). */
  busClosed(): void {
    this.runtime.busClosed();
  }
}
