/**
 * The GSME application (GB gas meter, battery powered, sleepy end device) over an
 * `ApplicationHost`. After joining it runs CBKE with the CH, then wakes every report period
 * and pushes its register to the GPF on the CH, which keeps the mirror that WAN and HAN
 * readers use (GBCS: the GSME talks only to the GPF). While awake it answers what the GPF had
 * queued for it (Metering reads).
 *
 * ASSUMPTION: the GSME's check-in is a ZCL Report Attributes (ZCL r8 §2.5.11) of
 * CurrentSummationDelivered sent to the CH with APS security; GBCS's GET / GET_RESPONSE /
 * PUT tunnel headers between GSME and GPF are not modelled. The GPF hands over its queue
 * when it sees the check-in; MAC polling of the sleepy device is the stack's business.
 * ASSUMPTION: the GPF's EUI64 is the CH's (one radio, one node).
 */
import type { Timer } from '@gbhan/clock';
import {
  AlertConfirmations,
  type AlertPathConfig,
  alertPathOptions,
  type CbkeConfig,
  CbkeService,
  ClusterServer,
  EVENTS_CLUSTER,
  encodeAlertPublishEvent,
  isDefaultResponse,
  sendTraced,
  traceDrop,
} from '@gbhan/runtime';
import type { Alert, ApplicationHost, IncomingZcl } from '@gbhan/stack';
import { encodeZclGlobalCommand } from '@gbhan/zigbee';
import { METERING_CLUSTER, MeteringAttr, MeteringRegister } from './metering.js';
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
}

const NV_CBKE_DONE = 'app.cbkeDone';
const DEFAULT_REPORT_PERIOD_US = 30 * 60_000_000;

export class GsmeApplication {
  readonly cbke: CbkeService;
  readonly register: MeteringRegister;
  readonly clusters = new ClusterServer();
  /** Alerts sent and waiting for the CH's Default Response. */
  readonly alertConfirmations: AlertConfirmations;
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
        this.wake();
      },
    });
    this.register = new MeteringRegister(host.clock, host.nvm, 'gas', {
      kind: 'gas',
      rate: config.flowLitresPerHour ?? 200,
      initialSummation: config.initialLitres ?? 0,
    });
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
    if (this.commissioned) this.wake();
    else this.cbke.start(this.config.chEui64);
  }

  setFlow(litresPerHour: number): void {
    this.register.setRate(litresPerHour);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.register.checkpoint();
    this.wakeTimer?.cancel();
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
    // Awake and heard by the GPF: the queued alerts go now.
    this.config.flushAlerts?.();
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
    if (msg.interPan) {
      traceDrop(this.host, msg, 'inter-pan-not-accepted');
      return;
    }
    if (msg.security !== 'aps-link') {
      traceDrop(this.host, msg, 'not-aps-secured');
      return;
    }
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
    this.clusters.answer(this.host, msg);
  }
}
