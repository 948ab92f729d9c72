/**
 * The meters as devices for in-process runs: a `ZigbeeNode` on a bus radio with the ESME or
 * GSME application on top, powered on at construction, driven by scenario commands through
 * `radio.onControl` (the actions of `esmeKind` / `gsmeKind`, kind.ts).
 */
import type { CryptoSuite, TimingMode } from '@gbhan/cbke';
import type { BusRadio } from '@gbhan/radio-bus';
import { type CbkeConfig, JoinerRuntime, runCbkeConfig } from '@gbhan/runtime';
import {
  type ChannelSpec,
  dispatchControl,
  type KeyExportHook,
  type NvStore,
  type ZigbeeNode,
} from '@gbhan/stack';
import { EsmeApplication, type EsmeConfig } from './esme.js';
import { runGbcsDeviceConfig } from './gbcs-endpoint.js';
import { GsmeApplication, type GsmeConfig } from './gsme.js';
import { ESME_ACTIONS, GSME_ACTIONS } from './kind.js';
import type { ManufacturerTool } from './manufacturer.js';
import { OriginatingDevice } from './prepayment.js';
import { MeterTriage, type TriageConfig } from './triage.js';

interface CommonDeviceConfig extends TriageConfig {
  /** The CH's EUI64 (seeds the meter's Device Log at first power on; a Reset HAN removes it). */
  chEui64: string;
  /** Install code with CRC (hex), as in the CHF Device Log. */
  installCode: string;
  /** Default: a certificate from the run's test CA (see `runCbkeConfig`). */
  cbke?: CbkeConfig;
  /** CBKE timing: 'advertised' (default, 10 s / 15 s as SE devices advertise) or 'as-fast-as-computed'. */
  cbkeTiming?: TimingMode;
  /** Crypto suite of the run test CA's certificate: 2 (sect283k1, GB; default) or 1 (sect163k1). */
  cbkeSuite?: CryptoSuite;
  channels?: ChannelSpec[];
  joinRetryUs?: number;
}

export interface DeviceOptions<C> {
  radio: BusRadio;
  nvm: NvStore;
  seed: string | number;
  config: C;
  onKeyExport?: KeyExportHook;
  /** Power on at construction (default true). */
  autoPowerOn?: boolean;
  /**
   * The manufacturer's tool (the run's secret key) that the scenario action `optical unlock`
   * without a signature plays; the meter itself holds only `config.manufacturerPublicKey`.
   */
  manufacturerTool?: ManufacturerTool;
}

export type EsmeDeviceConfig = CommonDeviceConfig &
  Omit<EsmeConfig, 'cbke' | 'chEui64' | 'flushAlerts' | 'gbcs' | 'securityLog'> & {
    /** The Supplier whose keys the meter trusts from manufacture (default `supplier`). */
    supplier?: 'supplier' | 'supplier2';
  };
export type GsmeDeviceConfig = CommonDeviceConfig &
  Omit<GsmeConfig, 'cbke' | 'chEui64' | 'flushAlerts' | 'gbcs' | 'securityLog'> & {
    pollPeriodUs?: number;
    /** The Supplier whose keys the meter trusts from manufacture (default `supplier`). */
    supplier?: 'supplier' | 'supplier2';
  };

export class Esme {
  readonly runtime: JoinerRuntime<EsmeApplication>;
  /** Optical port, Device Log and Reset HAN (device triage). */
  readonly triage: MeterTriage;

  constructor(o: DeviceOptions<EsmeDeviceConfig>) {
    const eui64 = o.radio.eui64;
    const c = o.config;
    const triage = new MeterTriage(o.nvm, o.seed, c.chEui64, c, o.manufacturerTool ?? null);
    this.triage = triage;
    const cbke = c.cbke ?? runCbkeConfig(o.seed, eui64, c.cbkeTiming, c.cbkeSuite);
    this.runtime = new JoinerRuntime(
      {
        radio: o.radio,
        nvm: o.nvm,
        seed: o.seed,
        role: 'router',
        installCode: c.installCode,
        chEui64: triage.deviceLog.ch,
        onPower: () => triage.onPower(),
        onNetworkJoined: () => triage.onNetworkJoined(),
        ...(c.channels ? { channels: c.channels } : {}),
        ...(c.joinRetryUs !== undefined ? { joinRetryUs: c.joinRetryUs } : {}),
        ...(o.onKeyExport ? { onKeyExport: o.onKeyExport } : {}),
        ...(o.autoPowerOn !== undefined ? { autoPowerOn: o.autoPowerOn } : {}),
      },
      (host) =>
        new EsmeApplication(host, {
          // The CH of the meter's Device Log, read at each use: a Reset HAN empties it and the
          // next join fills it with the new CH.
          get chEui64() {
            return triage.ch;
          },
          cbke,
          flushAlerts: () => void this.node.securityLog.flush(),
          ...(c.alertConfirmTimeoutUs !== undefined
            ? { alertConfirmTimeoutUs: c.alertConfirmTimeoutUs }
            : {}),
          ...(c.loadW !== undefined ? { loadW: c.loadW } : {}),
          ...(c.initialWh !== undefined ? { initialWh: c.initialWh } : {}),
          ...(c.prepayment ? { prepayment: c.prepayment } : {}),
          gbcs: runGbcsDeviceConfig(o.seed, eui64, c.supplier),
          // Late-bound: the application is built at power-on, inside the runtime's constructor.
          securityLog: { record: (...a) => this.node.securityLog.record(...a) },
        }),
    );
    triage.attach(this.runtime);
    o.radio.onControl((cmd) => this.control(cmd));
    // Alerts (the tamper alert of every Reset HAN attempt among them) wait in NVM until the
    // application has a tunnel to the CH to send them through.
    this.node.setAlertSender((alert) => this.runtime.app?.sendAlert(alert) ?? false);
  }

  get node(): ZigbeeNode {
    return this.runtime.node;
  }

  /** The application of the current power cycle (null while off). */
  get app(): EsmeApplication | null {
    return this.runtime.app;
  }

  close(): void {
    this.runtime.close();
  }

  /** The bus went away (process mode). */
  busClosed(): void {
    this.runtime.busClosed();
  }

  /** A scenario command, through `ESME_ACTIONS`. Never throws: refusals are traced. */
  control(cmd: Record<string, unknown>): void {
    const app = this.runtime.app;
    const prepayment = () => {
      if (!app?.prepayment) throw new Error('not a prepayment meter');
      return app.prepayment;
    };
    dispatchControl(cmd, {
      actions: ESME_ACTIONS,
      host: this.node,
      powered: app !== null,
      handlers: {
        'power-on': () => this.runtime.start(),
        'power-off': () => this.runtime.powerOff(),
        'set-load': (c) => app!.setLoad(c.watts),
        'emergency-credit': () => prepayment().selectEmergencyCredit(),
        'top-up': (c) =>
          prepayment().consumerTopUp(new TextEncoder().encode(c.code), OriginatingDevice.Meter),
        optical: (c) => this.triage.opticalAction(c),
      },
    });
  }
}

export class Gsme {
  readonly runtime: JoinerRuntime<GsmeApplication>;
  /** Optical port, Device Log and Reset HAN (device triage). */
  readonly triage: MeterTriage;

  constructor(o: DeviceOptions<GsmeDeviceConfig>) {
    const eui64 = o.radio.eui64;
    const c = o.config;
    const triage = new MeterTriage(o.nvm, o.seed, c.chEui64, c, o.manufacturerTool ?? null);
    this.triage = triage;
    const pollPeriodUs = c.pollPeriodUs ?? 7_500_000;
    // Default CBKE waiting times: while it awaits the CH's next message the stack polls fast
    // (OutgoingZcl.awaitReplyUs), so the GSME hears it without waiting a poll period.
    const cbke = c.cbke ?? runCbkeConfig(o.seed, eui64, c.cbkeTiming, c.cbkeSuite);
    this.runtime = new JoinerRuntime(
      {
        radio: o.radio,
        nvm: o.nvm,
        seed: o.seed,
        role: 'sleepy-end-device',
        installCode: c.installCode,
        chEui64: triage.deviceLog.ch,
        onPower: () => triage.onPower(),
        onNetworkJoined: () => triage.onNetworkJoined(),
        // ASSUMPTION: a GSME polls its parent every 7.5 s while awake for the HAN (battery budget).
        pollPeriodUs,
        ...(c.channels ? { channels: c.channels } : {}),
        ...(c.joinRetryUs !== undefined ? { joinRetryUs: c.joinRetryUs } : {}),
        ...(o.onKeyExport ? { onKeyExport: o.onKeyExport } : {}),
        ...(o.autoPowerOn !== undefined ? { autoPowerOn: o.autoPowerOn } : {}),
      },
      (host) =>
        new GsmeApplication(host, {
          get chEui64() {
            return triage.ch;
          },
          cbke,
          flushAlerts: () => void this.node.securityLog.flush(),
          ...(c.alertConfirmTimeoutUs !== undefined
            ? { alertConfirmTimeoutUs: c.alertConfirmTimeoutUs }
            : {}),
          ...(c.flowLitresPerHour !== undefined ? { flowLitresPerHour: c.flowLitresPerHour } : {}),
          ...(c.initialLitres !== undefined ? { initialLitres: c.initialLitres } : {}),
          ...(c.reportPeriodUs !== undefined ? { reportPeriodUs: c.reportPeriodUs } : {}),
          ...(c.prepayment ? { prepayment: c.prepayment } : {}),
          gbcs: runGbcsDeviceConfig(o.seed, eui64, c.supplier),
          // Late-bound: the application is built at power-on, inside the runtime's constructor.
          securityLog: { record: (...a) => this.node.securityLog.record(...a) },
        }),
    );
    triage.attach(this.runtime);
    o.radio.onControl((cmd) => this.control(cmd));
    // Alerts wait in NVM until the GSME, commissioned with its CH, sends them to the GPF.
    this.node.setAlertSender((alert) => this.runtime.app?.sendAlert(alert) ?? false);
  }

  get node(): ZigbeeNode {
    return this.runtime.node;
  }

  get app(): GsmeApplication | null {
    return this.runtime.app;
  }

  close(): void {
    this.runtime.close();
  }

  /** The bus went away (process mode). */
  busClosed(): void {
    this.runtime.busClosed();
  }

  /** A scenario command, through `GSME_ACTIONS`. Never throws: refusals are traced. */
  control(cmd: Record<string, unknown>): void {
    const app = this.runtime.app;
    dispatchControl(cmd, {
      actions: GSME_ACTIONS,
      host: this.node,
      powered: app !== null,
      handlers: {
        'power-on': () => this.runtime.start(),
        'power-off': () => this.runtime.powerOff(),
        'set-flow': (c) => app!.setFlow(c.litresPerHour),
        wake: () => app!.wake(),
        optical: (c) => this.triage.opticalAction(c),
      },
    });
  }
}
