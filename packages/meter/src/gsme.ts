/**
 * The GSME application (GB gas meter, battery powered, sleepy end device) over an
 * `ApplicationHost`. After joining it runs CBKE with the CH, then wakes every report period
 * and pushes its register to the GPF on the CH, which keeps the mirror that WAN and HAN
 * readers use (GBCS: the GSME talks only to the GPF). While awake it answers what the GPF had
 * queued for it (Metering reads).
 *
 * GBCS Remote Party commands (CS01b top-up, GCS28 clock) wait at the GPF: the GSME is
 * GB-HGRP tunnel client of the GPF (gsme-tunnel.ts) and at each wake-up sends GET; the GPF
 * answers GET-RESPONSE with one GBCS message and the number still waiting, the GSME checks it
 * (`GbcsEndpoint`, the ESME's checks), runs it (gsme-gbcs.ts), answers with PUT and asks GET
 * again while messages remain.
 *
 * ASSUMPTION: the GSME's check-in is a ZCL Report Attributes (ZCL r8 §2.5.11) of
 * CurrentSummationDelivered sent to the CH with APS security; the GPF hands over its queue of
 * ZCL frames (the DCC's live reads) when it sees the check-in; MAC polling of the sleepy
 * device is the stack's business. ASSUMPTION: the GSME sends GET at every wake-up once its
 * tunnel is open (and when it opens); with nothing waiting the GPF does not answer (no empty
 * GET-RESPONSE). ASSUMPTION: the GPF's EUI64 is the CH's (one radio, one node).
 */
import type { Timer } from '@gbhan/clock';
import { decodeTunnelCommand, encodeTunnelCommand, type TunnelCommand } from '@gbhan/gbcs';
import {
  AlertConfirmations,
  type AlertPathConfig,
  acceptsSmartEnergyFrame,
  alertPathOptions,
  type CbkeConfig,
  CbkeService,
  ClusterServer,
  EVENTS_CLUSTER,
  encodeAlertPublishEvent,
  isDefaultResponse,
  sendTraced,
  traceDrop,
  UNIX_EPOCH_AT_VIRTUAL_ZERO,
} from '@gbhan/runtime';
import type { Alert, ApplicationHost, IncomingZcl } from '@gbhan/stack';
import { encodeZclGlobalCommand } from '@gbhan/zigbee';
import { type GbcsDeviceConfig, GbcsEndpoint, type GbcsSecurityLog } from './gbcs-endpoint.js';
import { executeGsmeCommand } from './gsme-gbcs.js';
import { GsmeTunnelClient } from './gsme-tunnel.js';
import { METERING_CLUSTER, MeteringAttr, MeteringRegister } from './metering.js';
import { Prepayment, type PrepaymentConfig } from './prepayment.js';
import { traceMeter } from './trace-events.js';

/** `flushAlerts` runs at each check-in and on a retry. */
export interface GsmeConfig extends AlertPathConfig {
  chEui64: string;
  cbke: CbkeConfig;
  /** Gas flow at first power-on, litres per hour (default 200). */
  flowLitresPerHour?: number;
  /** Register at first power-on, litres (default 0). */
  initialLitres?: number;
  /** Time between check-ins with the GPF, us (default 30 min, the GB half-hourly push). */
  reportPeriodUs?: number;
  /**
   * Prepayment (CS01b top-ups); omit for a credit meter. ASSUMPTION: the ESME's prepayment
   * state on the gas register: `pricePerKwh` is read as pence per m3 (1000 litres).
   */
  prepayment?: PrepaymentConfig;
  /** GBCS keys and trust anchors (`runGbcsDeviceConfig`); without them every GBCS command is refused. */
  gbcs?: GbcsDeviceConfig;
  /** The Security Log GBCS refusals go to (the stack's). */
  securityLog?: GbcsSecurityLog;
}

const NV_CBKE_DONE = 'app.cbkeDone';
const NV_CLOCK_OFFSET_S = 'gsme.clockOffsetS';
const DEFAULT_REPORT_PERIOD_US = 30 * 60_000_000;

export class GsmeApplication {
  readonly cbke: CbkeService;
  readonly register: MeteringRegister;
  readonly clusters = new ClusterServer();
  /** Alerts sent and waiting for the CH's Default Response. */
  readonly alertConfirmations: AlertConfirmations;
  readonly prepayment: Prepayment | null;
  /** The GB-HGRP tunnel to the GPF (client). */
  readonly tunnel: GsmeTunnelClient;
  /** GBCS: every Remote Party command is verified here before it runs. */
  readonly gbcs: GbcsEndpoint | null;
  private flowLitresPerHour: number;
  private wakeTimer: Timer | undefined;
  private tsn = 0;
  private stopped = false;
  /** Check-ins sent this power cycle. */
  checkIns = 0;

  constructor(
    readonly host: ApplicationHost,
    readonly config: GsmeConfig,
  ) {
    this.cbke = new CbkeService({
      host,
      config: config.cbke,
      onEstablished: (peer, role) => {
        if (role !== 'initiator' || peer !== config.chEui64) return;
        const done = host.nvm.read<string[]>(NV_CBKE_DONE) ?? [];
        if (!done.includes(peer)) host.nvm.commit({ [NV_CBKE_DONE]: [...done, peer] });
        this.tunnel.request('after-cbke');
        this.wake();
      },
    });
    this.register = new MeteringRegister(host.clock, host.nvm, 'gas', {
      kind: 'gas',
      rate: config.flowLitresPerHour ?? 200,
      initialSummation: config.initialLitres ?? 0,
    });
    this.flowLitresPerHour = this.register.rate;
    this.prepayment = config.prepayment
      ? new Prepayment(host.clock, host.nvm, this.register, config.prepayment, {
          trace: (e) => host.trace(e),
          onSupply: (on) => this.supply(on),
        })
      : null;
    if (this.prepayment && !this.prepayment.supplyOn) this.register.setRate(0);
    this.tunnel = new GsmeTunnelClient({
      host,
      server: () => config.chEui64,
      onOpen: () => this.get('tunnel-open'),
      onData: (data) => this.tunnelData(data),
    });
    this.gbcs = config.gbcs
      ? new GbcsEndpoint(host, config.gbcs, config.securityLog ?? { record: () => {} }, (cmd, from) =>
          executeGsmeCommand(
            { prepayment: this.prepayment, setClock: (s, by) => this.setClock(s, by) },
            cmd,
            from,
          ),
        )
      : null;
    this.clusters.register(METERING_CLUSTER, { readAttributes: (ids) => this.register.readAttributes(ids) });
    this.alertConfirmations = new AlertConfirmations({
      host,
      peer: () => config.chEui64,
      ...alertPathOptions(config),
    });
  }

  get commissioned(): boolean {
    return (this.host.nvm.read<string[]>(NV_CBKE_DONE) ?? []).includes(this.config.chEui64);
  }

  onJoined(): void {
    if (this.stopped) return;
    traceMeter(this.host, { type: 'app-joined', device: 'GSME' });
    if (this.commissioned) {
      // A new power cycle or a rejoin: the GPF's end of any old tunnel may be gone.
      this.tunnel.request('joined');
      this.wake();
    } else this.cbke.start(this.config.chEui64);
  }

  setFlow(litresPerHour: number): void {
    this.flowLitresPerHour = litresPerHour;
    if (this.prepayment && !this.prepayment.supplyOn) return;
    this.prepayment?.settle();
    this.register.setRate(litresPerHour);
    this.prepayment?.scheduleExhaustion();
  }

  /** Offset of the GSME clock from virtual UTC, seconds (GCS28). */
  get clockOffsetS(): number {
    return this.host.nvm.read<number>(NV_CLOCK_OFFSET_S) ?? 0;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.prepayment?.settle();
    this.register.checkpoint();
    this.prepayment?.save();
    this.prepayment?.stop();
    this.wakeTimer?.cancel();
    this.tunnel.stop();
    this.cbke.stop();
    this.alertConfirmations.stop();
  }

  /** Wake now: push the register to the GPF and plan the next wake. */
  wake(): void {
    if (this.stopped) return;
    this.wakeTimer?.cancel();
    this.wakeTimer = this.host.clock.setTimer(this.config.reportPeriodUs ?? DEFAULT_REPORT_PERIOD_US, () =>
      this.wake(),
    );
    const summation = this.register.summation();
    this.tsn = (this.tsn + 1) & 0xff;
    const zcl = encodeZclGlobalCommand({
      command: 'report',
      direction: 'serverToClient',
      payload: [{ attrId: MeteringAttr.CurrentSummationDelivered, dataType: 0x25, attrData: summation }],
      tsn: this.tsn,
      disableDefaultResponse: true,
    });
    this.checkIns++;
    traceMeter(this.host, { type: 'gsme-check-in', summation });
    void sendTraced(
      this.host,
      { eui64: this.config.chEui64 },
      { clusterId: METERING_CLUSTER, zcl, security: 'aps-link' },
      'gsme-report',
    );
    // Awake: fetch what the GPF holds (GBCS commands), or ask for the tunnel first.
    if (this.tunnel.state === 'open') this.get('wake');
    else if (this.tunnel.state === 'none' && this.commissioned) this.tunnel.request('wake');
    // Awake and heard by the GPF: the queued alerts go now.
    this.config.flushAlerts?.();
  }

  /** GET (`01`) through the tunnel: the GPF answers with the next GBCS message, if any. */
  private get(why: 'wake' | 'tunnel-open' | 'remaining'): void {
    if (this.stopped) return;
    if (this.tunnel.send(encodeTunnelCommand({ command: 'GET' })))
      traceMeter(this.host, { type: 'gsme-get', why });
  }

  /** TransferData from the GPF: a GET-RESPONSE carries one GBCS command. */
  private tunnelData(data: Uint8Array): void {
    const ch = this.config.chEui64;
    let t: TunnelCommand;
    try {
      t = decodeTunnelCommand(data);
    } catch (e) {
      this.refuseUnauthenticated(ch, (e as Error).message);
      return;
    }
    if (t.command !== 'GET-RESPONSE') {
      // ASSUMPTION: the GSME takes commands only as the answer to its GET.
      this.refuseUnauthenticated(ch, `${t.command} from the GPF (a GSME takes commands by GET)`);
      return;
    }
    traceMeter(this.host, { type: 'gsme-get-response', remaining: t.remaining, octets: t.message.length });
    if (!this.gbcs) this.refuseUnauthenticated(ch, 'no GBCS credentials');
    else {
      const response = this.gbcs.receive(ch, t.message, 'tunnel');
      if (response) this.tunnel.send(encodeTunnelCommand({ command: 'PUT', message: response }));
    }
    if (t.remaining > 0) this.get('remaining');
  }

  private refuseUnauthenticated(from: string, detail: string): void {
    if (this.gbcs) this.gbcs.refuse(from, 'tunnel', 'not-gbcs', detail);
    else traceMeter(this.host, { type: 'app-drop', from, reason: 'not-gbcs', detail });
  }

  private setClock(epochSeconds: number, by: string): void {
    const offsetS =
      epochSeconds - (UNIX_EPOCH_AT_VIRTUAL_ZERO + Math.floor(this.host.clock.now() / 1_000_000));
    this.host.nvm.commit({ [NV_CLOCK_OFFSET_S]: offsetS });
    traceMeter(this.host, { type: 'meter-clock-set', epochSeconds, offsetS, by });
  }

  /** The gas valve: closed while credit (and emergency credit) is exhausted. */
  private supply(on: boolean): void {
    this.register.setRate(on ? this.flowLitresPerHour : 0);
    traceMeter(this.host, { type: on ? 'supply-restored' : 'supply-interrupted' });
  }

  /**
   * The meter's alert sender (`ZigbeeNode.setAlertSender`): a Publish Event (device-alert.ts)
   * to the GPF, APS-secured with the CBKE key. True only when the CH answered it with a
   * Default Response SUCCESS (it holds the alert in NVM then); before CBKE with its CH, or off
   * the network, it is not sent and stays queued, and an alert the CH did not confirm stays
   * queued with a retry planned (alert-confirmation.ts). Sent whenever the GSME is joined (an
   * alert wakes it) and tried again at each check-in. The CH's answer waits in its indirect
   * queue for the GSME's poll: `awaitReplyUs` makes the stack fast-poll (250 ms) until a frame
   * from the CH arrives or the confirmation timeout is over.
   */
  async sendAlert(alert: Alert): Promise<boolean> {
    const ch = this.config.chEui64;
    if (this.stopped || !this.host.joined || !ch || !this.commissioned) return false;
    this.tsn = (this.tsn + 1) & 0xff;
    const tsn = this.tsn;
    const zcl = encodeAlertPublishEvent(alert, tsn);
    const confirmations = this.alertConfirmations;
    return confirmations.deliver({ tsn, code: alert.code }, async () => {
      const status = await sendTraced(
        this.host,
        { eui64: ch },
        { clusterId: EVENTS_CLUSTER, zcl, security: 'aps-link', awaitReplyUs: confirmations.timeoutUs },
        'device-alert',
      );
      return status === 'sent';
    });
  }

  handle(msg: IncomingZcl): void {
    if (this.stopped) return;
    if (this.cbke.handle(msg)) return;
    if (!acceptsSmartEnergyFrame(this.host, msg)) return;
    // GBCS: the GSME talks to the GPF only.
    if (msg.from.eui64 !== this.config.chEui64) {
      traceDrop(this.host, msg, 'not-from-gpf');
      return;
    }
    // The CH's answer to an alert: it settles the alert waiting for it and is never answered.
    if (msg.clusterId === EVENTS_CLUSTER && isDefaultResponse(msg.zcl)) {
      this.alertConfirmations.response(msg.from.eui64, msg.zcl, 'direct');
      return;
    }
    if (this.tunnel.handle(msg)) return;
    this.clusters.answer(this.host, msg);
  }
}
