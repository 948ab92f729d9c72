/**
 * The PPMID application (Prepayment Meter Interface Device, the in-home display with a
 * keypad) over an `ApplicationHost`. After joining it runs CBKE with the CH (the trust
 * centre), is GB-HGRP tunnel server for the CHF (GBCS 10.2.2), then runs CBKE with the ESME
 * and reads the ESME's Metering 0x0702 and Prepayment 0x0705 clusters with APS security
 * (SE 1.4 07-5356 D.3, D.7), and the gas mirror on the CH's GPF. What it would show on its
 * screen is traced as `ppmid-display` events. A consumer top-up is a Consumer Top Up sent to
 * the ESME; the response is shown.
 *
 * ASSUMPTION: the PPMID reads the ESME directly (as a ZSE IHD does); the public specs leave
 * the data path open. Its key with the ESME: first a partner link key from the Trust Centre
 * (APS Request Key), then device-to-device CBKE (it initiates, the ESME responds), whose key
 * replaces the partner key. protocol-notes §2 records the partner key as the prerequisite of
 * device-to-device CBKE, not a replacement for it, so CBKE is not skipped. A refused or lost
 * Request Key is traced and CBKE runs anyway (it needs only NWK security).
 *
 * Its alerts (a failed join, ...) go to the CH through the same tunnel, as the ESME's do
 * (`TunnelAlertSender`): sent only while the CHF holds a tunnel, kept queued until the CH
 * confirms them.
 */
import type { Timer } from '@gbhan/clock';
import { isGbcsTunnelData } from '@gbhan/gbcs';
import {
  type AlertPathConfig,
  acceptsSmartEnergyFrame,
  alertPathOptions,
  type CbkeConfig,
  CbkeService,
  ClusterServer,
  decodeTunnelledZcl,
  describeDecodeError,
  encodeTunnelledZcl,
  sendTraced,
  TunnelAlertSender,
  TunnelServer,
  traceDrop,
  ZclStatus,
  zclUtcNow,
} from '@gbhan/runtime';
import type { Alert, ApplicationHost, IncomingZcl } from '@gbhan/stack';
import {
  type DecodedZclFrame,
  decodeZclFrame,
  encodeReadAttributes,
  encodeZclCommand,
  type ReadAttributeRecord,
} from '@gbhan/zigbee';
import { AltChannelRelay } from './alt-channel.js';
import { tracePpmid } from './trace-events.js';

const METERING = 0x0702;
const PREPAYMENT = 0x0705;
/** D.7.2.3.1 OriginatingDevice: 2 = in-home display device. */
const ORIGIN_IHD = 2;

/** `flushAlerts` runs when the CH opens its tunnel and on a retry. */
export interface PpmidConfig extends AlertPathConfig {
  chEui64: string;
  /** The ESME this PPMID serves (GB: configured by the DCC; here by the scenario). */
  esmeEui64: string;
  cbke: CbkeConfig;
  // ASSUMPTION: the display refreshes every 30 s of virtual time (GB IHDs show
  // electricity within 10 s; 30 s keeps the emulated air quieter). Configurable.
  readPeriodUs?: number;
  /** Read the gas mirror on the CH too (default true). */
  readGas?: boolean;
  /** SECMP0038 "enhanced PPMID": passes GBCS commands from the alternative channel to the CH. */
  enhanced?: boolean;
  /** Out to the alternative channel: GBCS responses and alerts the CH sent back. */
  onToChannel?: (message: Uint8Array) => void;
}

export interface PpmidDisplay {
  /** Credit remaining, pence. */
  credit: number | null;
  emergencyCredit: number | null;
  creditStatus: number | null;
  /** Electricity register, Wh. */
  electricityWh: number | null;
  demandW: number | null;
  /** Gas register from the GPF mirror, litres. */
  gasLitres: number | null;
  /** Last top-up outcome shown to the consumer. */
  lastTopUp: { code: string; resultType: number; value: number } | null;
  /** Virtual time of the last update. */
  updatedAtUs: number | null;
}

const NV_CBKE_DONE = 'app.cbkeDone';

export class PpmidApplication {
  readonly cbke: CbkeService;
  readonly tunnel: TunnelServer;
  /** The alert path through the tunnel to the CH. */
  readonly alerts: TunnelAlertSender;
  /** SECMP0038: GBCS commands from the alternative channel to the CH and back. */
  readonly altChannel: AltChannelRelay;
  readonly display: PpmidDisplay = {
    credit: null,
    emergencyCredit: null,
    creditStatus: null,
    electricityWh: null,
    demandW: null,
    gasLitres: null,
    lastTopUp: null,
    updatedAtUs: null,
  };
  private readonly pendingTopUps = new Map<number, string>();
  private readTimer: Timer | undefined;
  private tsn = 0;
  /** The Select Available Emergency Credit awaiting its Default Response. */
  private emergencyCreditTsn: number | null = null;
  /** The Local Change Supply (PECS03) awaiting its Default Response. */
  private supplyEnableTsn: number | null = null;
  private stopped = false;

  constructor(
    readonly host: ApplicationHost,
    readonly config: PpmidConfig,
  ) {
    this.cbke = new CbkeService({
      host,
      config: config.cbke,
      onEstablished: (peer, role) => {
        if (role !== 'initiator') return;
        this.markDone(peer);
        if (peer === config.chEui64) this.afterTrustCentre();
        else if (peer === config.esmeEui64) this.startReading();
      },
    });
    const noClusters = new ClusterServer();
    this.tunnel = new TunnelServer({
      host,
      acceptClient: (c) => c === config.chEui64,
      // ASSUMPTION: nothing the DCC sends to a PPMID is modelled yet; requests get a Default Response.
      onData: (client, data) => {
        if (isGbcsTunnelData(data)) {
          this.altChannel.fromCh(client, data);
          return null;
        }
        let req: ReturnType<typeof decodeTunnelledZcl>;
        try {
          req = decodeTunnelledZcl(data);
        } catch (e) {
          tracePpmid(host, {
            type: 'app-drop',
            from: client,
            reason: 'bad-tunnel-envelope',
            detail: (e as Error).message,
          });
          return null;
        }
        if (this.alerts.tunnelled(client, req)) return null;
        const r = noClusters.serve(req.clusterId, req.zcl, client);
        if (r.refused)
          tracePpmid(host, {
            type: 'app-drop',
            from: client,
            clusterId: req.clusterId,
            reason: r.refused,
            via: 'tunnel',
          });
        return r.reply ? encodeTunnelledZcl({ clusterId: req.clusterId, zcl: r.reply }) : null;
      },
      ...TunnelAlertSender.serverHooks(() => this.alerts),
    });
    this.alerts = new TunnelAlertSender({
      host,
      tunnel: this.tunnel,
      ch: () => config.chEui64,
      ...alertPathOptions(config),
    });
    this.altChannel = new AltChannelRelay({
      host,
      tunnel: this.tunnel,
      ch: () => config.chEui64,
      enhanced: config.enhanced === true,
      ...(config.onToChannel ? { onToChannel: config.onToChannel } : {}),
    });
  }

  private done(): string[] {
    return this.host.nvm.read<string[]>(NV_CBKE_DONE) ?? [];
  }

  private markDone(peer: string): void {
    const d = this.done();
    if (!d.includes(peer)) this.host.nvm.commit({ [NV_CBKE_DONE]: [...d, peer] });
  }

  onJoined(): void {
    if (this.stopped) return;
    tracePpmid(this.host, { type: 'app-joined', device: 'PPMID' });
    if (!this.done().includes(this.config.chEui64)) this.cbke.start(this.config.chEui64);
    else this.afterTrustCentre();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.readTimer?.cancel();
    this.cbke.stop();
    this.tunnel.stop();
    this.alerts.stop();
  }

  /**
   * The PPMID's alert sender (`ZigbeeNode.setAlertSender`): a Publish Event through the
   * GB-HGRP tunnel to the CH, true only once the CH confirmed it (tunnel-alert-sender.ts).
   */
  sendAlert(alert: Alert): Promise<boolean> {
    return this.alerts.send(alert);
  }

  /** Consumer enters a top-up code on the keypad. */
  topUp(code: string): void {
    if (this.stopped) return;
    const tsn = this.nextTsn();
    const bytes = new TextEncoder().encode(code);
    if (bytes.length > 26) {
      tracePpmid(this.host, { type: 'ppmid-top-up-refused', code, reason: 'code longer than 26 octets' });
      return;
    }
    this.pendingTopUps.set(tsn, code);
    tracePpmid(this.host, { type: 'ppmid-top-up', code, esme: this.config.esmeEui64 });
    const zcl = encodeZclCommand({
      cluster: PREPAYMENT,
      command: 'consumerTopUp',
      direction: 'clientToServer',
      payload: { originatingDevice: ORIGIN_IHD, topUpCode: bytes },
      tsn,
    });
    void sendTraced(
      this.host,
      { eui64: this.config.esmeEui64 },
      { clusterId: PREPAYMENT, zcl, security: 'aps-link' },
      'consumer-top-up',
    );
  }

  /** Consumer asks for emergency credit. */
  selectEmergencyCredit(): void {
    if (this.stopped) return;
    const tsn = this.nextTsn();
    // Its answer is a Default Response for command 0x00 - as is a refused Read Attributes
    // (global 0x00) on the same cluster, so only this transaction's answer counts.
    this.emergencyCreditTsn = tsn;
    const zcl = encodeZclCommand({
      cluster: PREPAYMENT,
      command: 'selectAvailableEmergencyCredit',
      direction: 'clientToServer',
      payload: { commandIssueDateTime: zclUtcNow(this.host.clock.now()), originatingDevice: ORIGIN_IHD },
      tsn,
    });
    tracePpmid(this.host, { type: 'ppmid-emergency-credit-request' });
    void sendTraced(
      this.host,
      { eui64: this.config.esmeEui64 },
      { clusterId: PREPAYMENT, zcl, security: 'aps-link' },
      'select-emergency-credit',
    );
  }

  /**
   * PECS03: the consumer asks the ESME to enable the supply (Metering Local Change Supply,
   * proposed status 2 = on); the ESME's Default Response is traced `ppmid-supply-enable`.
   */
  requestSupplyEnable(): void {
    if (this.stopped) return;
    const tsn = this.nextTsn();
    this.supplyEnableTsn = tsn;
    const zcl = encodeZclCommand({
      cluster: METERING,
      command: 'localChangeSupply',
      direction: 'clientToServer',
      payload: { proposedSupplyStatus: 2 },
      tsn,
    });
    tracePpmid(this.host, { type: 'ppmid-supply-enable-request' });
    void sendTraced(
      this.host,
      { eui64: this.config.esmeEui64 },
      { clusterId: METERING, zcl, security: 'aps-link' },
      'supply-enable',
    );
  }

  /** Read everything now (also on the read period). */
  readNow(): void {
    if (this.stopped) return;
    const esme = { eui64: this.config.esmeEui64 };
    void sendTraced(
      this.host,
      esme,
      {
        clusterId: METERING,
        zcl: encodeReadAttributes({ attributeIds: [0x0000, 0x0400], tsn: this.nextTsn() }),
        security: 'aps-link',
      },
      'read-metering',
    );
    void sendTraced(
      this.host,
      esme,
      {
        clusterId: PREPAYMENT,
        zcl: encodeReadAttributes({ attributeIds: [0x0001, 0x0002, 0x0003], tsn: this.nextTsn() }),
        security: 'aps-link',
      },
      'read-prepayment',
    );
    if (this.config.readGas ?? true) {
      void sendTraced(
        this.host,
        { eui64: this.config.chEui64 },
        {
          clusterId: METERING,
          zcl: encodeReadAttributes({ attributeIds: [0x0000], tsn: this.nextTsn() }),
          security: 'aps-link',
        },
        'read-gas-mirror',
      );
    }
  }

  handle(msg: IncomingZcl): void {
    if (this.stopped) return;
    if (this.cbke.handle(msg)) return;
    if (this.tunnel.handle(msg)) return;
    if (!acceptsSmartEnergyFrame(this.host, msg)) return;
    const from = msg.from.eui64;
    if (from !== this.config.esmeEui64 && from !== this.config.chEui64) {
      traceDrop(this.host, msg, 'unknown-peer');
      return;
    }
    let frame: DecodedZclFrame;
    try {
      frame = decodeZclFrame(msg.zcl, { cluster: msg.clusterId });
    } catch (e) {
      traceDrop(this.host, msg, 'malformed-zcl', describeDecodeError(e));
      return;
    }
    if (frame.header.direction !== 'serverToClient') {
      traceDrop(this.host, msg, 'ppmid-serves-no-cluster', frame.commandName);
      return;
    }
    switch (frame.commandName) {
      case 'readRsp':
        this.onRead(from, msg.clusterId, frame.payload as ReadAttributeRecord[]);
        return;
      case 'consumerTopUpResponse':
        this.onTopUpResponse(frame);
        return;
      case 'defaultRsp': {
        const p = frame.payload as { cmdId: number; statusCode: number };
        tracePpmid(this.host, {
          type: 'zcl-default-response',
          from,
          clusterId: msg.clusterId,
          cmdId: p.cmdId,
          status: p.statusCode,
        });
        if (
          msg.clusterId === PREPAYMENT &&
          p.cmdId === 0x00 &&
          frame.header.transactionSequenceNumber === this.emergencyCreditTsn
        ) {
          this.emergencyCreditTsn = null;
          tracePpmid(this.host, {
            type: 'ppmid-emergency-credit',
            accepted: p.statusCode === ZclStatus.SUCCESS,
          });
          this.readNow();
        }
        if (
          msg.clusterId === METERING &&
          p.cmdId === 0x0c &&
          frame.header.transactionSequenceNumber === this.supplyEnableTsn
        ) {
          this.supplyEnableTsn = null;
          tracePpmid(this.host, {
            type: 'ppmid-supply-enable',
            accepted: p.statusCode === ZclStatus.SUCCESS,
          });
        }
        return;
      }
      default:
        traceDrop(this.host, msg, 'unexpected-command', frame.commandName);
    }
  }

  private afterTrustCentre(): void {
    const esme = this.config.esmeEui64;
    if (this.done().includes(esme)) {
      this.startReading();
      return;
    }
    if (!this.host.requestPartnerLinkKey) {
      this.cbke.start(esme);
      return;
    }
    void this.host.requestPartnerLinkKey(esme).then(
      (result) => {
        tracePpmid(this.host, { type: 'ppmid-partner-key', partner: esme, result });
        if (!this.stopped) this.cbke.start(esme);
      },
      (e: unknown) => {
        tracePpmid(this.host, {
          type: 'ppmid-partner-key',
          partner: esme,
          result: 'error',
          message: String(e),
        });
        if (!this.stopped) this.cbke.start(esme);
      },
    );
  }

  private startReading(): void {
    if (this.stopped) return;
    this.readTimer?.cancel();
    const period = this.config.readPeriodUs ?? 30_000_000;
    const tick = () => {
      this.readTimer = this.host.clock.setTimer(period, tick);
      this.readNow();
    };
    tick();
  }

  private onRead(from: string, clusterId: number, records: ReadAttributeRecord[]): void {
    const value = (id: number): number | null => {
      const r = records.find((x) => x.attrId === id && x.status === 0);
      return r && typeof r.attrData === 'number' ? r.attrData : null;
    };
    const d = this.display;
    if (clusterId === METERING && from === this.config.esmeEui64) {
      d.electricityWh = value(0x0000) ?? d.electricityWh;
      d.demandW = value(0x0400) ?? d.demandW;
    } else if (clusterId === METERING && from === this.config.chEui64) {
      d.gasLitres = value(0x0000) ?? d.gasLitres;
    } else if (clusterId === PREPAYMENT) {
      d.credit = value(0x0001) ?? d.credit;
      d.emergencyCredit = value(0x0002) ?? d.emergencyCredit;
      d.creditStatus = value(0x0003) ?? d.creditStatus;
    } else return;
    this.show();
  }

  private onTopUpResponse(frame: DecodedZclFrame): void {
    const p = frame.payload as { resultType: number; topUpValue: number; creditRemaining: number };
    const code = this.pendingTopUps.get(frame.header.transactionSequenceNumber) ?? '';
    this.pendingTopUps.delete(frame.header.transactionSequenceNumber);
    this.display.lastTopUp = { code, resultType: p.resultType, value: p.topUpValue };
    this.display.credit = p.creditRemaining;
    tracePpmid(this.host, {
      type: 'ppmid-top-up-result',
      code,
      resultType: p.resultType,
      value: p.topUpValue,
      credit: p.creditRemaining,
    });
    this.show();
  }

  private lastShown = '';

  /** Trace the screen when what it shows changed. */
  private show(): void {
    this.display.updatedAtUs = this.host.clock.now();
    const { updatedAtUs: _t, ...content } = this.display;
    const key = JSON.stringify(content);
    if (key === this.lastShown) return;
    this.lastShown = key;
    tracePpmid(this.host, {
      type: 'ppmid-display',
      ...this.display,
      lastTopUp: this.display.lastTopUp ? { ...this.display.lastTopUp } : null,
    });
  }

  private nextTsn(): number {
    this.tsn = (this.tsn + 1) & 0xff;
    return this.tsn;
  }
}
