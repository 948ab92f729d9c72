/**
 * The ZDO the stack needs (05-3474 §2.4): Device_annce, NWK address discovery (NWK_addr_req /
 * _rsp) and Mgmt_Leave_req, a restricted command obeyed only from the Trust Centre.
 */
import {
  type ApsPlainFrame,
  decodeZdo,
  encodeZdo,
  NWK_BROADCAST_RX_ON_WHEN_IDLE,
  ZDO_ENDPOINT,
  ZDO_PROFILE_ID,
  type ZdoMessage,
} from '@gbhan/zigbee';
import type { MacTxStatus } from '../mac.js';
import { GbAlertCode } from '../security-log.js';
import { type ApsProtection, describeProtection } from './aps.js';
import type { NodeContext } from './context.js';

/** ZDO status NOT_AUTHORIZED (05-3474 Table 2.138). */
const ZDO_NOT_AUTHORIZED = 0x8d;
/** ZDO Device_annce cluster. */
const DEVICE_ANNCE_CLUSTER = 0x0013;

export class ZdoLayer {
  constructor(private readonly ctx: NodeContext) {}

  nextTsn(): number {
    return this.ctx.state.next('zdoTsn');
  }

  /** A ZDO message as an APS data frame to the ZDO endpoint. */
  private frame(
    zdo: { clusterId: number; payload: Uint8Array },
    deliveryMode: 'unicast' | 'broadcast',
  ): ApsPlainFrame {
    return {
      frameType: 'data',
      deliveryMode,
      ackRequest: false,
      counter: this.ctx.aps.nextCounter(),
      destinationEndpoint: ZDO_ENDPOINT,
      clusterId: zdo.clusterId,
      profileId: ZDO_PROFILE_ID,
      sourceEndpoint: ZDO_ENDPOINT,
      security: false,
      payload: zdo.payload,
    };
  }

  /** A unicast ZDO message; APS-secured with `linkKey` (data key) when given. */
  async send(dest: number, msg: ZdoMessage, linkKey?: Uint8Array): Promise<MacTxStatus> {
    const ctx = this.ctx;
    const aps = ctx.aps.encodeOrReport(this.frame(encodeZdo(msg), 'unicast'), linkKey ?? null, undefined);
    if (!aps) return 'radio-refused';
    return ctx.nwk.sendData(dest, ctx.nwk.euiOf(dest), aps, true);
  }

  async sendDeviceAnnce(): Promise<void> {
    const ctx = this.ctx;
    const net = ctx.state.net;
    if (!net) return;
    const zdo = encodeZdo({
      command: 'deviceAnnce',
      transactionSequenceNumber: this.nextTsn(),
      nwkAddress: net.short,
      ieeeAddress: ctx.eui64,
      capability: ctx.capability,
    });
    const aps = ctx.aps.encode(this.frame(zdo, 'broadcast'), null);
    await ctx.nwk.sendData(NWK_BROADCAST_RX_ON_WHEN_IDLE, undefined, aps, true);
  }

  /**
   * NWK address discovery (ZDO NWK_addr_req, §2.4.3.1.1). ASSUMPTION: sent unicast to the
   * coordinator, which is every device's parent in this star and answers for all of them.
   */
  async resolveAddress(eui64: string): Promise<number | undefined> {
    const ctx = this.ctx;
    const ram = ctx.state;
    if (!ctx.role.discoversAddresses || !ram.joined) return undefined;
    const asked = ram.addresses.has(eui64);
    const result = ram.addresses.wait(eui64);
    if (!asked) {
      ram.fastPoll = true;
      ctx.poller.soon(ram);
      const timeoutUs = Math.max(2_000_000, (ctx.config.pollPeriodUs ?? 0) + 1_000_000);
      ram.addresses.expireAfter(eui64, timeoutUs, undefined);
      await this.send(0x0000, {
        command: 'nwkAddrReq',
        transactionSequenceNumber: this.nextTsn(),
        ieeeAddress: eui64,
        requestType: 0,
        startIndex: 0,
      });
    }
    const short = await result;
    if (ctx.state !== ram) return undefined; // powered off meanwhile
    ctx.emit({ type: 'address-resolved', eui64, short: short ?? null });
    return short;
  }

  onFrame(clusterId: number, payload: Uint8Array, sourceShort: number, protection: ApsProtection): void {
    const ctx = this.ctx;
    let msg: ZdoMessage;
    try {
      msg = decodeZdo(clusterId, payload);
    } catch (e) {
      ctx.drop('ZDO', 'zdo-malformed', { detail: (e as Error).message });
      return;
    }
    if (msg.command === 'deviceAnnce') {
      ctx.state.addressMap.set(msg.ieeeAddress, msg.nwkAddress);
      ctx.emit({ type: 'device-announced', eui64: msg.ieeeAddress, short: msg.nwkAddress });
      if (ctx.role.child(msg.ieeeAddress) && clusterId === DEVICE_ANNCE_CLUSTER) {
        ctx.securityLog.record('device-joined', { eui64: msg.ieeeAddress }, GbAlertCode.deviceJoinedSmhan);
      }
      return;
    }
    if (msg.command === 'nwkAddrReq') {
      const short =
        msg.ieeeAddress === ctx.eui64 ? ctx.mac.shortAddress : ctx.nwk.lookupShort(msg.ieeeAddress);
      void this.send(sourceShort, {
        command: 'nwkAddrRsp',
        transactionSequenceNumber: msg.transactionSequenceNumber,
        ...(short === undefined
          ? { status: 0x81 }
          : { status: 0, ieeeAddress: msg.ieeeAddress, nwkAddress: short }),
      });
      return;
    }
    if (msg.command === 'nwkAddrRsp') {
      if (msg.status === 0 && msg.ieeeAddress !== undefined)
        ctx.state.addresses.settle(msg.ieeeAddress, msg.nwkAddress);
      return;
    }
    if (msg.command === 'mgmtLeaveReq') this.onMgmtLeaveRequest(msg, sourceShort, protection);
  }

  /**
   * Mgmt_Leave_req is a restricted ZDO command (05-3474 R22 §2.4.3.3.5, apsZdoRestrictedMode
   * TRUE, as SE devices run): acted on only when the Trust Centre sent it APS-secured with our
   * link key. Anything else is refused (NOT_AUTHORIZED to a unicast) and logged.
   */
  private onMgmtLeaveRequest(
    msg: Extract<ZdoMessage, { command: 'mgmtLeaveReq' }>,
    sourceShort: number,
    protection: ApsProtection,
  ): void {
    const ctx = this.ctx;
    const tc = ctx.state.net?.tcEui64;
    const fromTc =
      protection.by === 'link' && protection.keyId === 'data' && tc !== undefined && protection.peer === tc;
    if (!fromTc) {
      ctx.refuse('ZDO', 'mgmt-leave-not-authorised', {
        source: sourceShort,
        security: describeProtection(protection, 'nwk'),
      });
      void this.send(sourceShort, {
        command: 'mgmtLeaveRsp',
        transactionSequenceNumber: msg.transactionSequenceNumber,
        status: ZDO_NOT_AUTHORIZED,
      });
      return;
    }
    if (msg.deviceAddress !== this.ctx.eui64) return;
    ctx.emit({ type: 'leave-requested', by: tc });
    void ctx.leave();
  }
}
