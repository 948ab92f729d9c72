/**
 * The ESME application (GB electricity meter) over an `ApplicationHost`: after joining it
 * runs CBKE with the CH (initiator), then serves the Metering 0x0702 and Prepayment 0x0705
 * clusters (SE 1.4 07-5356 D.3, D.7) to APS-secured peers - the PPMID directly, the CHF
 * through the GB-HGRP tunnel it is server of (GBCS 10.2.2). It also answers CBKE from a
 * PPMID (device-to-device key for the PPMID's reads and top-ups).
 *
 * One instance is the RAM of one power cycle: `stop()` at power-off saves the registers
 * (power-fail save) and drops everything else; a new instance at power-on reads NVM.
 */

import { decodeTunnelCommand, encodeTunnelCommand, isGbcsTunnelData, type TunnelCommand } from '@gbhan/gbcs';
import {
  type AlertConfirmations,
  type AlertPathConfig,
  acceptsSmartEnergyFrame,
  alertPathOptions,
  type CbkeConfig,
  CbkeService,
  ClusterServer,
  decodeTunnelledZcl,
  encodeTunnelledZcl,
  TunnelAlertSender,
  TunnelServer,
  UNIX_EPOCH_AT_VIRTUAL_ZERO,
  ZclStatus,
  zclUtcNow,
} from '@gbhan/runtime';
import type { Alert, ApplicationHost, IncomingZcl } from '@gbhan/stack';
import {
  type DecodedZclFrame,
  encodeDebtCreditStatus,
  encodeTopUpLog,
  encodeZclCommand,
} from '@gbhan/zigbee';
import { executeEsmeCommand } from './esme-gbcs.js';
import { type GbcsDeviceConfig, GbcsEndpoint, type GbcsSecurityLog } from './gbcs-endpoint.js';
import { METERING_CLUSTER, MeteringRegister } from './metering.js';

import { PREPAYMENT_CLUSTER, Prepayment, type PrepaymentConfig } from './prepayment.js';
import { traceMeter } from './trace-events.js';

/** `flushAlerts` runs when the CH opens its tunnel and on a retry. */
export interface EsmeConfig extends AlertPathConfig {
  /** EUI64 of the Communications Hub (trust centre, CHF, tunnel client). */
  chEui64: string;
  cbke: CbkeConfig;
  /** Load in W at first power-on (default 500). */
  loadW?: number;
  /** Register at first power-on, Wh (default 0). */
  initialWh?: number;
  /** Prepayment mode; omit for a credit meter (no Prepayment cluster). */
  prepayment?: PrepaymentConfig;
  /** GBCS keys and trust anchors (`runGbcsDeviceConfig`); without them every GBCS command is refused. */
  gbcs?: GbcsDeviceConfig;
  /** The Security Log GBCS refusals go to (the stack's). */
  securityLog?: GbcsSecurityLog;
}

const NV_CBKE_DONE = 'app.cbkeDone';
const NV_LOAD_SWITCH_OPEN = 'esme.loadSwitchOpen';
const NV_CLOCK_OFFSET_S = 'esme.clockOffsetS';

export class EsmeApplication {
  readonly cbke: CbkeService;
  readonly register: MeteringRegister;
  readonly prepayment: Prepayment | null;
  readonly tunnel: TunnelServer;
  readonly clusters = new ClusterServer();
  /** The alert path through the tunnel to the CH. */
  readonly alerts: TunnelAlertSender;
  /** GBCS: every Remote Party command is verified here before it runs. */
  readonly gbcs: GbcsEndpoint | null;
  /** The load asked for; the register runs at 0 while the supply is interrupted. */
  private requestedLoadW: number;
  private stopped = false;

  constructor(
    readonly host: ApplicationHost,
    readonly config: EsmeConfig,
  ) {
    this.cbke = new CbkeService({
      host,
      config: config.cbke,
      // ASSUMPTION: the ESME runs CBKE as responder with any device whose certificate chains
      // to a trusted CA (the PPMID); GB would also check the meter's own Device Log.
      acceptInitiator: (peer) => (peer === config.chEui64 ? 'trust-centre-is-not-initiator' : null),
      onEstablished: (peer, role) => {
        if (role === 'initiator' && peer === config.chEui64) this.markCbkeDone(peer);
      },
    });
    this.register = new MeteringRegister(host.clock, host.nvm, 'electricity', {
      kind: 'electricity',
      rate: config.loadW ?? 500,
      initialSummation: config.initialWh ?? 0,
    });
    this.requestedLoadW = this.register.rate;
    this.prepayment = config.prepayment
      ? new Prepayment(host.clock, host.nvm, this.register, config.prepayment, {
          trace: (e) => host.trace(e),
          onSupply: (on) => this.supply(on),
        })
      : null;
    if ((this.prepayment && !this.prepayment.supplyOn) || this.loadSwitchOpen) this.register.setRate(0);
    this.gbcs = config.gbcs
      ? new GbcsEndpoint(host, config.gbcs, config.securityLog ?? { record: () => {} }, (cmd, from, seal) =>
          executeEsmeCommand(
            {
              prepayment: this.prepayment,
              setLoadSwitch: (closed, by) => this.setLoadSwitch(closed, by),
              setClock: (s, by) => this.setClock(s, by),
            },
            cmd,
            from,
            seal,
          ),
        )
      : null;
    this.tunnel = new TunnelServer({
      host,
      acceptClient: (c) => c === config.chEui64,
      onData: (client, data) => this.tunnelData(client, data),
      ...TunnelAlertSender.serverHooks(() => this.alerts),
    });
    this.alerts = new TunnelAlertSender({
      host,
      tunnel: this.tunnel,
      ch: () => config.chEui64,
      ...alertPathOptions(config),
    });
    this.clusters.register(METERING_CLUSTER, {
      readAttributes: (ids) => this.register.readAttributes(ids),
      command: (f, origin) => this.meteringCommand(f, origin),
    });
    if (this.prepayment) {
      const pp = this.prepayment;
      this.clusters.register(PREPAYMENT_CLUSTER, {
        readAttributes: (ids) => pp.readAttributes(ids),
        command: (f, origin) => this.prepaymentCommand(pp, f, origin),
      });
    }
  }

  /** CBKE with the CH is done (persisted: the link key is in the stack's NVM). */
  get commissioned(): boolean {
    return (this.host.nvm.read<string[]>(NV_CBKE_DONE) ?? []).includes(this.config.chEui64);
  }

  /** The stack reports the node joined (or rejoined): start CBKE with the CH unless done. */
  onJoined(): void {
    if (this.stopped) return;
    traceMeter(this.host, { type: 'app-joined', device: 'ESME' });
    if (!this.commissioned) this.cbke.start(this.config.chEui64);
  }

  /** Alerts sent and waiting for the CH's Default Response. */
  get alertConfirmations(): AlertConfirmations {
    return this.alerts.confirmations;
  }

  /**
   * The meter's alert sender (`ZigbeeNode.setAlertSender`): a Publish Event through the
   * GB-HGRP tunnel to the CH, true only once the CH confirmed it (tunnel-alert-sender.ts).
   */
  sendAlert(alert: Alert): Promise<boolean> {
    return this.alerts.send(alert);
  }

  /** Change the load (W). */
  setLoad(watts: number): void {
    this.requestedLoadW = watts;
    if ((this.prepayment && !this.prepayment.supplyOn) || this.loadSwitchOpen) return;
    this.prepayment?.settle();
    this.register.setRate(watts);
    traceMeter(this.host, { type: 'esme-load', watts });
    this.prepayment?.scheduleExhaustion();
  }

  /** Power off: save registers (power-fail save) and drop RAM state. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.prepayment?.settle();
    this.register.checkpoint();
    this.prepayment?.save();
    this.prepayment?.stop();
    this.cbke.stop();
    this.tunnel.stop();
    this.alerts.stop();
  }

  /** Everything from `host.onZcl` while this power cycle lasts. */
  handle(msg: IncomingZcl): void {
    if (this.stopped) return;
    if (this.cbke.handle(msg)) return;
    if (this.tunnel.handle(msg)) return;
    // GBCS: Smart Energy clusters other than Key Establishment are APS-secured with a link key.
    if (!acceptsSmartEnergyFrame(this.host, msg)) return;
    this.clusters.answer(this.host, msg);
  }

  private tunnelData(client: string, data: Uint8Array): Uint8Array | null {
    if (isGbcsTunnelData(data)) return this.gbcsTunnelData(client, data);
    let req: ReturnType<typeof decodeTunnelledZcl>;
    try {
      req = decodeTunnelledZcl(data);
    } catch (e) {
      traceMeter(this.host, {
        type: 'app-drop',
        from: client,
        reason: 'bad-tunnel-envelope',
        detail: (e as Error).message,
      });
      return null;
    }
    if (this.alerts.tunnelled(client, req)) return null;
    // GBCS: anything that changes the meter comes as a verified GBCS command; a bare ZCL
    // frame in the tunnel may only read (ASSUMPTION: the DCC's register reads stay ZCL).
    if (!isZclRead(req.zcl)) {
      this.refuseUnauthenticated(
        client,
        `ZCL frame for cluster 0x${req.clusterId.toString(16)} without GBCS`,
      );
      return null;
    }
    const r = this.clusters.serve(req.clusterId, req.zcl, client);
    if (r.refused)
      traceMeter(this.host, {
        type: 'app-drop',
        from: client,
        clusterId: req.clusterId,
        reason: r.refused,
        via: 'tunnel',
      });
    return r.reply ? encodeTunnelledZcl({ clusterId: req.clusterId, zcl: r.reply }) : null;
  }

  private gbcsTunnelData(client: string, data: Uint8Array): Uint8Array | null {
    let put: TunnelCommand;
    try {
      put = decodeTunnelCommand(data);
    } catch (e) {
      this.refuseUnauthenticated(client, (e as Error).message);
      return null;
    }
    if (put.command === 'GET') return null;
    if (!this.gbcs) {
      this.refuseUnauthenticated(client, 'no GBCS credentials');
      return null;
    }
    const response = this.gbcs.receive(client, put.message, 'tunnel');
    return response ? encodeTunnelCommand({ command: 'PUT', message: response }) : null;
  }

  private refuseUnauthenticated(client: string, detail: string): void {
    if (this.gbcs) this.gbcs.refuse(client, 'tunnel', 'not-gbcs', detail);
    else traceMeter(this.host, { type: 'app-drop', from: client, reason: 'not-gbcs', detail });
  }

  /** True while a remote ECS43 holds the load switch open. */
  get loadSwitchOpen(): boolean {
    return this.host.nvm.read<boolean>(NV_LOAD_SWITCH_OPEN) === true;
  }

  private setLoadSwitch(closed: boolean, by: string): void {
    const changed = this.loadSwitchOpen === closed;
    this.host.nvm.commit({ [NV_LOAD_SWITCH_OPEN]: !closed });
    traceMeter(this.host, { type: 'load-switch', state: closed ? 'closed' : 'open', by });
    if (changed && (this.prepayment?.supplyOn ?? true)) this.supply(closed);
  }

  /** Offset of the meter clock from virtual UTC, seconds (ECS70). */
  get clockOffsetS(): number {
    return this.host.nvm.read<number>(NV_CLOCK_OFFSET_S) ?? 0;
  }

  private setClock(epochSeconds: number, by: string): void {
    const offsetS = epochSeconds - unixNow(this.host.clock.now());
    this.host.nvm.commit({ [NV_CLOCK_OFFSET_S]: offsetS });
    traceMeter(this.host, { type: 'meter-clock-set', epochSeconds, offsetS, by });
  }

  private prepaymentCommand(pp: Prepayment, f: DecodedZclFrame, origin: string): Uint8Array | number | null {
    const p = f.payload as Record<string, unknown>;
    const tsn = f.header.transactionSequenceNumber;
    switch (f.commandName) {
      case 'selectAvailableEmergencyCredit': {
        const status = pp.selectEmergencyCredit();
        this.localCommand(
          'PECS02',
          origin,
          status === ZclStatus.SUCCESS ? 'emergency-credit-activated' : 'refused',
        );
        return status;
      }
      case 'consumerTopUp': {
        const out = pp.consumerTopUp(p.topUpCode as Uint8Array, p.originatingDevice as number);
        traceMeter(this.host, {
          type: 'consumer-top-up',
          from: origin,
          resultType: out.resultType,
          value: out.topUpValue,
        });
        this.localCommand('PECS01', origin, out.resultType === 0 ? `accepted ${out.topUpValue}` : 'refused');
        return encodeZclCommand({
          cluster: PREPAYMENT_CLUSTER,
          command: 'consumerTopUpResponse',
          direction: 'serverToClient',
          tsn,
          payload: {
            resultType: out.resultType,
            topUpValue: out.topUpValue,
            // D.7.2.4.2 SourceOfTopUp: the originating device of the request.
            sourceOfTopUp: p.originatingDevice as number,
            creditRemaining: out.creditRemaining,
          },
        });
      }
      case 'getTopUpLog': {
        const records = pp.topUpRecords(p.latestEndTime as number, p.numberOfRecords as number);
        return encodeZclCommand({
          cluster: PREPAYMENT_CLUSTER,
          command: 'publishTopUpLog',
          direction: 'serverToClient',
          tsn,
          payload: { commandIndex: 0, totalNumberOfCommands: 1, topUpPayload: encodeTopUpLog(records) },
        });
      }
      case 'getPrepaySnapshot':
        // ASSUMPTION: no stored snapshots; the answer is the current Debt/Credit Status.
        return encodeZclCommand({
          cluster: PREPAYMENT_CLUSTER,
          command: 'publishPrepaySnapshot',
          direction: 'serverToClient',
          tsn,
          payload: {
            snapshotId: 1,
            snapshotTime: zclUtcNow(this.host.clock.now()),
            totalSnapshotsFound: 1,
            commandIndex: 0,
            totalNumberOfCommands: 1,
            snapshotCause: 0,
            snapshotPayloadType: 0,
            snapshotPayload: encodeDebtCreditStatus({
              accumulatedDebt: 0,
              type1DebtRemaining: 0,
              type2DebtRemaining: 0,
              type3DebtRemaining: 0,
              emergencyCreditRemaining: pp.emergencyCreditRemaining,
              creditRemaining: pp.credit,
            }),
          },
        });
      default:
        return ZclStatus.UNSUP_CLUSTER_COMMAND;
    }
  }

  /**
   * A PPMID's request on the HAN (GBCS PECS01-PECS03): ZCL from the PPMID, APS-secured with its
   * CBKE key - not a Remote Party command, so no GBCS checks apply; traced under its use case.
   * The CH's own requests (through the tunnel) are not local commands.
   */
  private localCommand(useCase: 'PECS01' | 'PECS02' | 'PECS03', from: string, result: string): void {
    if (from === this.config.chEui64) return;
    traceMeter(this.host, { type: 'gbcs-local-command', useCase, from, result });
  }

  /**
   * PECS03 "Request to Enable ESME Supply from PPMID" as the Metering cluster's Local Change
   * Supply (SE 1.4 D.3.2.3.1.12, proposed status 2 = on). ASSUMPTION: it cannot override the
   * Supplier - a load switch opened remotely (ECS43) stays open - nor enable a supply that
   * prepayment has cut for want of credit; otherwise the supply is already on.
   */
  private meteringCommand(f: DecodedZclFrame, origin: string): number {
    if (f.commandName !== 'localChangeSupply') return ZclStatus.UNSUP_CLUSTER_COMMAND;
    const proposed = (f.payload as { proposedSupplyStatus?: number }).proposedSupplyStatus;
    if (proposed !== 2) {
      this.localCommand('PECS03', origin, `refused: proposed status ${proposed}`);
      return ZclStatus.INVALID_VALUE;
    }
    const why = this.loadSwitchOpen
      ? 'refused: disabled by the supplier'
      : this.prepayment && !this.prepayment.supplyOn
        ? 'refused: no credit'
        : null;
    this.localCommand('PECS03', origin, why ?? 'supply-on');
    return why ? ZclStatus.FAILURE : ZclStatus.SUCCESS;
  }

  private supply(on: boolean): void {
    // The load switch, once opened remotely, keeps the supply off whatever the credit.
    if (on && this.loadSwitchOpen) return;
    this.register.setRate(on ? this.requestedLoadW : 0);
    traceMeter(this.host, { type: on ? 'supply-restored' : 'supply-interrupted' });
  }

  private markCbkeDone(peer: string): void {
    const done = this.host.nvm.read<string[]>(NV_CBKE_DONE) ?? [];
    if (!done.includes(peer)) this.host.nvm.commit({ [NV_CBKE_DONE]: [...done, peer] });
  }
}

/** Virtual time as Unix seconds. */
function unixNow(nowUs: number): number {
  return UNIX_EPOCH_AT_VIRTUAL_ZERO + Math.floor(nowUs / 1_000_000);
}

/** A profile-wide Read Attributes (ZCL 2.4.1): frame type 0, command 0x00. */
function isZclRead(zcl: Uint8Array): boolean {
  const fc = zcl[0] ?? 0xff;
  const commandAt = fc & 0x04 ? 4 : 2;
  return (fc & 0x03) === 0 && zcl[commandAt] === 0x00;
}
