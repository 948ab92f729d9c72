/**
 * The PPMID as a device for in-process runs: an end-device `ZigbeeNode` on a bus radio with
 * the PPMID application on top, powered on at construction, driven by scenario commands
 * through `radio.onControl` (the actions of `ppmidKind`, kind.ts).
 */
import type { CryptoSuite, TimingMode } from '@gbhan/cbke';
import type { BusRadio, LinkMessage } from '@gbhan/radio-bus';
import { type CbkeConfig, InterPanPairing, JoinerRuntime, runCbkeConfig } from '@gbhan/runtime';
import {
  type ChannelSpec,
  dispatchControl,
  type IncomingZcl,
  type KeyExportHook,
  type NvStore,
  type ZigbeeNode,
} from '@gbhan/stack';
import { header, traceRefusal } from './alt-channel.js';
import { ALT_ENVELOPE, encodeAltEnvelope, refusalEnvelope } from './alt-channel-port.js';
import { Compromise, type CompromiseConfig } from './compromise.js';
import { PPMID_ACTIONS } from './kind.js';
import { PpmidApplication, type PpmidConfig } from './ppmid-app.js';
import { tracePpmid } from './trace-events.js';

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
  /** SECMP0038 attacks: the PPMID is compromised (compromise.ts). */
  compromised?: CompromiseConfig;
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
  /** SECMP0038: where the CH's messages go - the link member that sent the last command. */
  private channelPeer: { link: string; to: string } | null = null;
  /** SECMP0038: the local endpoint's client (process mode), when the last command came from it. */
  private endpointSink: ((message: Uint8Array) => void) | null = null;
  private lastFromEndpoint = false;
  private readonly radio: BusRadio;
  /** SECMP0038 attacks: the attacker's hand on what the PPMID passes on (config `compromised`). */
  readonly compromise: Compromise | null;

  constructor(o: PpmidOptions) {
    const c = o.config;
    this.radio = o.radio;
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
          onToChannel: (m) => this.toChannel(m),
          ...(c.alertConfirmTimeoutUs !== undefined
            ? { alertConfirmTimeoutUs: c.alertConfirmTimeoutUs }
            : {}),
        }),
    );
    // Alerts (a failed join among them) wait in NVM until the CHF holds a tunnel to send
    // them through.
    this.node.setAlertSender((alert) => this.runtime.app?.sendAlert(alert) ?? false);
    this.compromise =
      c.compromised === undefined
        ? null
        : new Compromise({
            clock: o.radio.clock,
            trace: (e) => tracePpmid(this.node, e),
            seed: o.seed,
            meterEui64: c.esmeEui64,
            config: c.compromised,
            pass: (bytes) => void this.runtime.app?.altChannel.submit(bytes),
            post: (link, to, bytes) =>
              void this.radio.linkSend(link, to, encodeAltEnvelope(ALT_ENVELOPE.command, bytes)),
          });
    o.radio.onControl((cmd) => this.control(cmd));
    o.radio.onLink((m) => {
      this.fromLink(m);
    });
  }

  /**
   * SECMP0038: a message over a wired/IP link (the alternative channel, `alt-channel-port.ts`
   * for the envelope): a command is passed on to the CH, a refusal goes back to the sender.
   */
  private fromLink(m: LinkMessage): null {
    const body = m.data.subarray(1);
    const back = (reason: Parameters<typeof refusalEnvelope>[0], counter: string | null): null => {
      void this.radio.linkSend(m.link, m.from, refusalEnvelope(reason, counter));
      return null;
    };
    if (m.data[0] !== ALT_ENVELOPE.command || body.length === 0) {
      traceRefusal(this.node, m.data, 'bad-envelope', { useCase: null, counter: null, target: null });
      // A refusal or a message is never answered (two PPMIDs on one link would answer each
      // other's refusals for ever).
      if (m.data[0] === ALT_ENVELOPE.refusal || m.data[0] === ALT_ENVELOPE.message) return null;
      return back('bad-envelope', null);
    }
    const app = this.runtime.app;
    if (app === null) {
      traceRefusal(this.node, body, 'powered-off');
      return back('powered-off', header(body).counter);
    }
    this.channelPeer = { link: m.link, to: m.from };
    this.lastFromEndpoint = false;
    if (this.compromise) {
      // ASSUMPTION: what the attacker does to a command is silent: the sender gets no refusal.
      this.compromise.intercept(body);
      return null;
    }
    const s = app.altChannel.submit(body);
    if ('refusal' in s) return back(s.refusal, s.header.counter);
    void s.sent.then((refusal) => {
      if (refusal !== null) back(refusal, s.header.counter);
    });
    return null;
  }

  /** SECMP0038: what the CH sent back, to whoever sent the last command. */
  private toChannel(message: Uint8Array): void {
    if (this.lastFromEndpoint && this.endpointSink) this.endpointSink(message);
    else if (this.channelPeer)
      void this.radio.linkSend(
        this.channelPeer.link,
        this.channelPeer.to,
        encodeAltEnvelope(ALT_ENVELOPE.message, message),
      );
  }

  /** The local endpoint (`--alt-channel-port`): its commands, and where the CH's answers go. */
  attachEndpoint(sink: (message: Uint8Array) => void) {
    this.endpointSink = sink;
    return {
      target: () => {
        const app = this.runtime.app;
        if (app === null) return null;
        return {
          submit: (bytes: Uint8Array) => {
            this.lastFromEndpoint = true;
            return app.altChannel.submit(bytes);
          },
        };
      },
    };
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
        'attack-replay': () => this.attacker().replay(),
        'attack-tamper': (c) => this.attacker().tamper(c.bit),
        'attack-forge': (c) => this.attacker().forge(c.signer, c.useCase),
        'attack-flood': (c) => this.attacker().flood(c.count, c.intervalMs * 1000),
        'attack-relay': (c) => this.attacker().relay(c.link, c.peer),
      },
    });
  }

  /** The attacker's hand; a PPMID that is not compromised refuses its actions (`control-refused`). */
  private attacker(): Compromise {
    if (this.compromise === null) throw new Error('not compromised (config `compromised`)');
    return this.compromise;
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
