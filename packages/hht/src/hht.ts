/**
 * The installer's Hand Held Terminal (GB HHT flow, protocol-notes §4): active scan (every
 * channel in `scanChannels`, 2.4 GHz and/or GB868 pages), the CHs listed by EPID, Inter-PAN
 * Key Establishment with the chosen CH (the CH responds), the install-code + entity
 * identifier hand-over secured with the CBKE key (`InterPanPairing` in @gbhan/stack), then a
 * normal join of the SMHAN and an installer action: CBKE with the ESME and a Metering read.
 *
 * Scenario commands through `radio.onControl`: the actions of `hhtKind` (kind.ts).
 */
import type { CryptoSuite, TimingMode } from '@gbhan/cbke';
import type { BusRadio } from '@gbhan/radio-bus';
import {
  type CbkeConfig,
  CbkeService,
  InterPanPairing,
  type PairingResult,
  runCbkeConfig,
  sendTraced,
  traceDrop,
} from '@gbhan/runtime';
import {
  type ChannelSpec,
  dispatchControl,
  type IncomingZcl,
  type KeyExportHook,
  type NvStore,
  ZigbeeNode,
} from '@gbhan/stack';
import { decodeZclFrame, encodeReadAttributes } from '@gbhan/zigbee';
import { HHT_ACTIONS } from './kind.js';
import { traceHht } from './trace-events.js';

const METERING = 0x0702;

export interface HhtConfig {
  /** The HHT's install code with CRC (hex): handed over to the CH, then used to join. */
  installCode: string;
  /** The CH to commission (its EUI64 = EPID); default the best hub heard. */
  chEui64?: string;
  /** The ESME of the installer action (`read-meter` without a target). */
  esmeEui64?: string;
  /** Channels the active scan covers (default the radio's). */
  scanChannels?: ChannelSpec[];
  cbke?: CbkeConfig;
  cbkeTiming?: TimingMode;
  cbkeSuite?: CryptoSuite;
  /** Pair as soon as powered on (default false: wait for the `pair` command). */
  autoPair?: boolean;
}

export interface HhtOptions {
  radio: BusRadio;
  nvm: NvStore;
  seed: string | number;
  config: HhtConfig;
  onKeyExport?: KeyExportHook;
  autoPowerOn?: boolean;
}

export type CommissionResult = 'joined' | Extract<PairingResult, { ok: false }>['reason'] | 'join-failed';

export class Hht {
  readonly node: ZigbeeNode;
  private readonly cbkeConfig: CbkeConfig;
  private readonly scanChannels: ChannelSpec[];
  /** RAM of the current power cycle. */
  private pairing: InterPanPairing | null = null;
  private cbke: CbkeService | null = null;
  private readonly pendingRead = new Set<string>();
  /** Meters this HHT ran CBKE with in this power cycle. */
  private readonly keyed = new Set<string>();
  private tsn = 0;

  constructor(private readonly o: HhtOptions) {
    const c = o.config;
    this.cbkeConfig = c.cbke ?? runCbkeConfig(o.seed, o.radio.eui64, c.cbkeTiming, c.cbkeSuite);
    const reg = o.radio.registration;
    this.scanChannels = c.scanChannels ?? [{ page: reg.page, channel: reg.channel }];
    this.node = new ZigbeeNode(o.radio, o.nvm, {
      // ASSUMPTION: the HHT joins the SMHAN as a (non-sleepy) end device.
      role: 'end-device',
      seed: o.seed,
      installCode: c.installCode,
      channels: this.scanChannels,
      ...(c.chEui64 !== undefined ? { extendedPanId: c.chEui64 } : {}),
      ...(o.onKeyExport ? { onKeyExport: o.onKeyExport } : {}),
    });
    this.node.onZcl((m) => this.handle(m));
    o.radio.onControl((cmd) => this.control(cmd));
    if (o.autoPowerOn ?? true) void this.powerOn();
  }

  async powerOn(): Promise<void> {
    if (this.pairing) return;
    this.pairing = new InterPanPairing({
      node: this.node,
      cbke: this.cbkeConfig,
      deviceType: 'HHT',
      installCode: this.o.config.installCode,
      scanChannels: this.scanChannels,
      ...(this.o.config.chEui64 !== undefined ? { chEui64: this.o.config.chEui64 } : {}),
    });
    this.cbke = new CbkeService({
      host: this.node,
      config: this.cbkeConfig,
      onEstablished: (peer, role) => {
        if (role !== 'initiator') return;
        this.keyed.add(peer);
        if (this.pendingRead.delete(peer)) this.sendRead(peer);
      },
    });
    const r = await this.node.powerOn();
    if (r !== 'joined' && this.o.config.autoPair) void this.commission();
  }

  powerOff(): void {
    if (!this.pairing) return;
    this.pairing.stop();
    this.cbke?.stop();
    this.pairing = null;
    this.cbke = null;
    this.pendingRead.clear();
    this.keyed.clear();
    this.node.powerOff();
  }

  close(): void {
    this.powerOff();
    this.o.radio.close();
  }

  /** The bus went away (process mode). */
  busClosed(): void {
    this.pairing?.stop();
    this.cbke?.stop();
    this.pairing = null;
    this.cbke = null;
  }

  /** Scan, pair over Inter-PAN with the CH, then join its network. */
  async commission(): Promise<CommissionResult> {
    const pairing = this.pairing;
    if (!pairing) return 'powered-off';
    if (this.node.joined) return 'joined';
    const r = await pairing.pair();
    if (!r.ok) return r.reason;
    this.node.setExtendedPanIdFilter(r.ch);
    const j = await this.node.join();
    traceHht(this.node, { type: 'hht-commissioned', ch: r.ch, join: j });
    return j === 'joined' ? 'joined' : 'join-failed';
  }

  /** Installer action: CBKE with the meter (once per power cycle), then read its Metering. */
  readMeter(target = this.o.config.esmeEui64): void {
    const cbke = this.cbke;
    if (!cbke || target === undefined || !this.node.joined) {
      traceHht(this.node, {
        type: 'control-refused',
        action: 'read-meter',
        reason: 'not-joined-or-no-target',
      });
      return;
    }
    if (this.keyed.has(target)) {
      this.sendRead(target);
      return;
    }
    this.pendingRead.add(target);
    cbke.start(target);
  }

  private sendRead(target: string): void {
    this.tsn = (this.tsn + 1) & 0xff;
    void sendTraced(
      this.node,
      { eui64: target },
      {
        clusterId: METERING,
        zcl: encodeReadAttributes({ attributeIds: [0x0000], tsn: this.tsn }),
        security: 'aps-link',
      },
      'hht-read-metering',
    );
  }

  private handle(msg: IncomingZcl): void {
    if (!this.pairing || !this.cbke) return;
    if (msg.interPan) {
      if (!this.pairing.handle(msg)) traceDrop(this.node, msg, 'interpan-not-expected');
      return;
    }
    if (this.cbke.handle(msg)) return;
    if (msg.clusterId !== METERING || msg.security !== 'aps-link') {
      traceDrop(this.node, msg, 'not-expected');
      return;
    }
    try {
      const f = decodeZclFrame(msg.zcl, { cluster: METERING });
      if (f.commandName !== 'readRsp') {
        traceDrop(this.node, msg, 'not-expected', f.commandName);
        return;
      }
      const records = f.payload as { attrId: number; status: number; attrData?: unknown }[];
      traceHht(this.node, {
        type: 'hht-meter-read',
        from: msg.from.eui64,
        values: records.map((x) => ({
          attrId: x.attrId,
          status: x.status,
          value: typeof x.attrData === 'bigint' ? Number(x.attrData) : (x.attrData ?? null),
        })),
      });
    } catch (e) {
      traceDrop(this.node, msg, 'malformed-zcl', (e as Error).message);
    }
  }

  /** A scenario command, through `HHT_ACTIONS`. Never throws: refusals are traced. */
  control(cmd: Record<string, unknown>): void {
    dispatchControl(cmd, {
      actions: HHT_ACTIONS,
      host: this.node,
      powered: this.pairing !== null,
      handlers: {
        'power-on': () => void this.powerOn(),
        'power-off': () => this.powerOff(),
        pair: () => void this.commission(),
        scan: () => void this.pairing?.scan(),
        'read-meter': (c) => this.readMeter(c.peer),
      },
    });
  }
}
