/**
 * The PPMID as a device for in-process runs: an end-device `ZigbeeNode` on a bus radio with
 * the PPMID application on top, powered on at construction, driven by scenario commands
 * through `radio.onControl` (vocabulary in the package README).
 */
import type { CryptoSuite, TimingMode } from '@gbhan/cbke';
import type { BusRadio } from '@gbhan/radio-bus';
import {
  type CbkeConfig,
  type ChannelSpec,
  JoinerRuntime,
  type KeyExportHook,
  type NvStore,
  runCbkeConfig,
  type ZigbeeNode,
} from '@gbhan/stack';
import { PpmidApplication, type PpmidConfig } from './ppmid-app.js';

export type PpmidDeviceConfig = Omit<PpmidConfig, 'cbke'> & {
  installCode: string;
  cbke?: CbkeConfig;
  cbkeTiming?: TimingMode;
  /** Crypto suite of the run test CA's certificate: 2 (sect283k1, GB; default) or 1 (sect163k1). */
  cbkeSuite?: CryptoSuite;
  channels?: ChannelSpec[];
  joinRetryUs?: number;
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
      },
      (host) =>
        new PpmidApplication(host, {
          chEui64: c.chEui64,
          esmeEui64: c.esmeEui64,
          cbke,
          ...(c.readPeriodUs !== undefined ? { readPeriodUs: c.readPeriodUs } : {}),
          ...(c.readGas !== undefined ? { readGas: c.readGas } : {}),
        }),
      (cmd, app) => {
        switch (cmd.action) {
          case 'top-up':
            if (typeof cmd.code !== 'string') throw new Error("top-up: 'code' must be a string");
            app.topUp(cmd.code);
            return true;
          case 'read-meter':
            app.readNow();
            return true;
          case 'emergency-credit':
            app.selectEmergencyCredit();
            return true;
          default:
            return false;
        }
      },
    );
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
}
