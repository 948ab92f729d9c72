/**
 * The APS layer: ZCL data out (`sendZcl`, fragmented when too long), every APS frame secured
 * with a link key or plain through one `encode`, and frames in - APS security with the link key
 * table (05-3474 §4.4.1.2), the protection each frame keeps (`ApsProtection`), the rules on who
 * may send what under which key, APS commands, and delivery to ZDO or the application.
 */
import type { ReceivedFrame } from '@gbhan/radio-bus';
import {
  type ApsCommand,
  type ApsPlainFrame,
  decodeApsFrame,
  encodeApsFrame,
  type NwkPlainFrame,
  type SecurityKeyIdName,
  secureApsFrame,
  unsecureApsFrame,
  ZDO_ENDPOINT,
  ZDO_PROFILE_ID,
} from '@gbhan/zigbee';
import { needsFragmentation } from '../aps-fragmentation.js';
import type {
  FrameSecurity,
  IncomingZcl,
  OutgoingZcl,
  PeerAddress,
  SendResult,
  SendStatus,
} from '../host.js';
import { PROFILE_SMART_ENERGY, SE_ENDPOINT } from '../host.js';
import type { MacTxStatus } from '../mac.js';
import type { NodeContext } from './context.js';

/**
 * How a received APS frame was protected (05-3474 §4.4.1.2): by the link key shared with
 * `peer`, or by the preconfigured (install-code) key before the Trust Centre is known, under
 * which key identifier (data, key-transport or key-load key derived from it). APS security
 * under the network key is refused on arrival: every member holds that key, so it proves
 * nothing about the sender, and GB/SE use link keys at the APS layer.
 */
export type ApsProtection =
  | { by: 'none' }
  | { by: 'link'; peer: string; keyId: SecurityKeyIdName }
  | { by: 'preconfigured'; keyId: SecurityKeyIdName };

const NOT_PROTECTED: ApsProtection = { by: 'none' };

/** The header fields of a unicast data frame that every block of one ASDU shares. */
export type ApsDataHeader = Omit<
  Extract<ApsPlainFrame, { frameType: 'data' }>,
  'ackRequest' | 'counter' | 'payload'
>;

export function toSendStatus(s: MacTxStatus): SendStatus {
  switch (s) {
    case 'sent':
      return 'sent';
    case 'radio-refused':
      return 'radio-refused';
    default:
      return 'no-ack';
  }
}

/** How a protection reads in a trace or the security log. */
export function describeProtection(p: ApsProtection, none: string): string {
  return p.by === 'none' ? none : `${p.by}/${p.keyId}`;
}

export class ApsLayer {
  constructor(private readonly ctx: NodeContext) {}

  // ---------------------------------------------------------------- transmit

  nextCounter(): number {
    return this.ctx.state.next('apsCounter');
  }

  /**
   * The frame's bytes: secured with `key` under `keyId` (the data key of a link key unless
   * told; the frame counter persisted before use, so this throws when NVM fails), or plain
   * when there is no key.
   */
  encode(frame: ApsPlainFrame, key: Uint8Array | null, keyId: 'data' | 'keyTransport' = 'data'): Uint8Array {
    if (!key) return encodeApsFrame(frame);
    const ctx = this.ctx;
    return secureApsFrame(frame, {
      key,
      keyId,
      frameCounter: ctx.state.apsFc.take(),
      sourceEui64: ctx.eui64,
    });
  }

  /** `encode`, or null (traced `send-failed`) when the frame counter could not be persisted. */
  encodeOrReport(
    frame: ApsPlainFrame,
    key: Uint8Array | null,
    to: string | undefined,
    keyId: 'data' | 'keyTransport' = 'data',
  ): Uint8Array | null {
    try {
      return this.encode(frame, key, keyId);
    } catch (e) {
      this.ctx.emit({
        type: 'send-failed',
        reason: 'nvm',
        ...(to !== undefined ? { to } : {}),
        detail: (e as Error).message,
      });
      return null;
    }
  }

  /** A unicast APS command frame (secure it with `encode`). */
  commandFrame(command: ApsCommand): ApsPlainFrame {
    return {
      frameType: 'command',
      deliveryMode: 'unicast',
      ackRequest: false,
      counter: this.nextCounter(),
      security: false,
      command,
    };
  }

  async sendZcl(to: PeerAddress, frame: OutgoingZcl): Promise<SendResult> {
    const ctx = this.ctx;
    if (!ctx.powered || !ctx.state.joined || !ctx.state.net || !ctx.state.networkKey)
      return { status: 'not-joined' };
    let linkKey: Uint8Array | null = null;
    if (frame.security === 'aps-link') {
      linkKey = ctx.linkKey(to.eui64);
      if (!linkKey) return { status: 'no-link-key' };
    }
    const ram = ctx.state;
    const dest = to.short ?? ctx.nwk.lookupShort(to.eui64) ?? (await ctx.zdo.resolveAddress(to.eui64));
    if (ctx.state !== ram) return { status: 'not-joined' }; // powered off while resolving
    if (dest === undefined) {
      ctx.emit({ type: 'send-failed', reason: 'no-address', to: to.eui64 });
      return { status: 'no-ack' };
    }
    if (frame.awaitReplyUs !== undefined && !ctx.mac.rxOnWhenIdle) {
      const until = ctx.clock.now() + frame.awaitReplyUs;
      ram.awaitingReply.set(to.eui64, Math.max(until, ram.awaitingReply.get(to.eui64) ?? 0));
    }
    const header: ApsDataHeader = {
      frameType: 'data',
      deliveryMode: 'unicast',
      destinationEndpoint: frame.dstEndpoint ?? SE_ENDPOINT,
      clusterId: frame.clusterId,
      profileId: frame.profileId ?? PROFILE_SMART_ENERGY,
      sourceEndpoint: frame.srcEndpoint ?? SE_ENDPOINT,
      security: false,
    };
    const shape = { destinationIeee: dest < 0xfff8, apsSecured: linkKey !== null };
    if (needsFragmentation(frame.zcl.length, shape)) {
      const status = await ctx.fragments.send(ram, dest, to.eui64, header, frame.zcl, linkKey);
      if (status === 'sent') ctx.poller.soon(ram);
      return { status };
    }
    const aps: ApsPlainFrame = {
      ...header,
      ackRequest: false,
      counter: this.nextCounter(),
      payload: frame.zcl,
    };
    const status = await ctx.nwk.sendData(dest, to.eui64, this.encode(aps, linkKey), true);
    if (status === 'sent' && ram.awaitingReply.has(to.eui64)) ctx.poller.soon(ram);
    return { status: toSendStatus(status) };
  }

  // ---------------------------------------------------------------- receive

  onFrame(
    frame: Extract<NwkPlainFrame, { frameType: 'data' }>,
    nwkSecured: boolean,
    rx: ReceivedFrame,
  ): void {
    const ctx = this.ctx;
    const ram = ctx.state;
    const decoded = decodeApsFrame(frame.payload);
    const fromEui = frame.sourceIeee ?? ctx.nwk.euiOf(frame.source);
    let plain: ApsPlainFrame;
    let protection: ApsProtection = NOT_PROTECTED;
    if (decoded.security) {
      const src = decoded.aux.sourceAddress ?? fromEui;
      if (!src) {
        ctx.drop('APS', 'aps-unknown-source');
        return;
      }
      const keyId = decoded.aux.keyId;
      if (keyId === 'network') {
        ctx.refuse('APS', 'aps-network-key-security', { from: src });
        return;
      }
      const candidates: { key: Uint8Array; protection: ApsProtection }[] = [];
      const k = ctx.linkKey(src);
      if (k) candidates.push({ key: k, protection: { by: 'link', peer: src, keyId } });
      if (keyId !== 'data' && ctx.preconfiguredKey)
        candidates.push({ key: ctx.preconfiguredKey, protection: { by: 'preconfigured', keyId } });
      if (candidates.length === 0) {
        ctx.drop('APS', 'aps-no-link-key', { from: src });
        return;
      }
      let result: ReturnType<typeof unsecureApsFrame> | null = null;
      for (const c of candidates) {
        try {
          result = unsecureApsFrame(frame.payload, { key: c.key, sourceEui64: src });
          protection = c.protection;
          break;
        } catch {
          /* try the next candidate key */
        }
      }
      if (!result) {
        ctx.securityLog.record('aps-authentication-failed', { from: src, keyId: decoded.aux.keyId });
        ctx.drop('APS', 'aps-bad-mic', { from: src, keyId: decoded.aux.keyId });
        return;
      }
      const last = ram.apsIncoming.get(src);
      if (last !== undefined && result.aux.frameCounter <= last) {
        ctx.drop('APS', 'aps-replay', { from: src, counter: result.aux.frameCounter, last });
        return;
      }
      ram.apsIncoming.set(src, result.aux.frameCounter);
      plain = result.frame;
    } else {
      plain = decoded;
    }
    const apsSecured = protection.by !== 'none';
    if (
      !nwkSecured &&
      !(plain.frameType === 'command' && plain.command.id === 'transportKey' && apsSecured)
    ) {
      ctx.drop('APS', 'aps-unsecured-before-key');
      return;
    }
    // A link key vouches for its peer only: the NWK source must be that peer.
    if (protection.by === 'link' && fromEui !== undefined && protection.peer !== fromEui) {
      ctx.refuse('APS', 'aps-source-mismatch', { from: fromEui, securedBy: protection.peer });
      return;
    }
    if (plain.frameType === 'command') {
      this.onCommand(plain.command, protection, fromEui);
      return;
    }
    if (plain.frameType === 'ack') {
      ctx.fragments.onAck(plain, fromEui);
      return;
    }
    const ext = plain.extendedHeader;
    if (ext !== undefined && ext.fragmentation !== 0) {
      const asdu = ctx.fragments.onBlock(
        plain,
        ext.fragmentation,
        ext.blockNumber ?? 0,
        fromEui,
        frame.source,
        apsSecured,
      );
      if (asdu === null) return;
      plain = { ...plain, payload: asdu };
    }
    if (plain.profileId === ZDO_PROFILE_ID && plain.destinationEndpoint === ZDO_ENDPOINT) {
      ctx.zdo.onFrame(plain.clusterId, plain.payload, frame.source, protection);
      return;
    }
    if (!fromEui) {
      ctx.drop('APS', 'aps-unknown-source-eui64', { source: frame.source });
      return;
    }
    ram.awaitingReply.delete(fromEui); // the reply came
    // The application sees link-key security only for the data key of the sender's own link key.
    const security: FrameSecurity =
      protection.by === 'link' && protection.keyId === 'data' ? 'aps-link' : 'nwk';
    const msg: IncomingZcl = {
      from: { eui64: fromEui, short: frame.source },
      srcEndpoint: plain.sourceEndpoint,
      dstEndpoint: plain.destinationEndpoint ?? SE_ENDPOINT,
      clusterId: plain.clusterId,
      profileId: plain.profileId,
      zcl: plain.payload,
      security,
      interPan: false,
      lqi: rx.lqi,
      rssi: rx.rssi,
    };
    ctx.deliver(msg);
  }

  private onCommand(c: ApsCommand, protection: ApsProtection, fromEui: string | undefined): void {
    const ctx = this.ctx;
    const ram = ctx.state;
    if (c.id === 'requestKey' && c.keyType === 'applicationLink') {
      const byRequester = protection.by === 'link' && protection.peer === fromEui;
      ctx.role.onRequestKey(c.partner, byRequester, fromEui);
      return;
    }
    if (c.id === 'transportKey' && c.keyType === 'applicationLink') {
      // A partner link key comes from the Trust Centre under the key-transport key derived from
      // the TC link key (§4.4.1.1, §4.4.3.3): only the TC holds that key with us.
      const tc = ram.net?.tcEui64;
      if (
        protection.by !== 'link' ||
        protection.keyId !== 'keyTransport' ||
        !tc ||
        protection.peer !== tc ||
        fromEui !== tc
      ) {
        ctx.refuse('APS', 'transport-key-not-from-trust-centre', {
          from: fromEui ?? 'unknown',
          security: describeProtection(protection, 'none'),
        });
        return;
      }
      // The TC link key itself is never replaced by a partner key (CBKE made it).
      if (c.partner === tc || c.partner === ctx.eui64) {
        ctx.refuse('APS', 'transport-key-partner-invalid', { from: fromEui, partner: c.partner });
        return;
      }
      ctx.setLinkKey(c.partner, c.key, 'partner');
      ctx.emit({
        type: 'partner-key',
        requester: c.initiator ? ctx.eui64 : c.partner,
        partner: c.initiator ? c.partner : ctx.eui64,
        status: 'received',
      });
      ram.partnerKeys.settle(c.partner, true);
      return;
    }
    if (c.id === 'transportKey' && c.keyType === 'network') {
      // Only under the key-transport key of the install-code / TC link key (§4.4.1.1, §4.6.3.2.1).
      if (protection.by === 'none' || protection.keyId !== 'keyTransport') {
        ctx.refuse('APS', 'transport-key-unsecured', {
          from: fromEui ?? 'unknown',
          security: describeProtection(protection, 'none'),
        });
        return;
      }
      ctx.role.onNetworkKey(c);
      return;
    }
    ctx.emit({ type: 'aps-command-ignored', command: c.id });
  }
}
