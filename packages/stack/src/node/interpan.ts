/**
 * Inter-PAN (ZSE Annex B.4): ZCL frames straight between a device and one outside its PAN (an
 * HHT and a hub before it joins), unsecured or APS-secured with a link key, behind the gate
 * the application sets (the CH's 60-minute window).
 */
import type { ReceivedFrame } from '@gbhan/radio-bus';
import {
  decodeInterPanFrame,
  encodeInterPanFrame,
  type InterPanPlainFrame,
  interPanMacFrame,
  MAC_BROADCAST_ADDRESS,
  MAC_BROADCAST_PAN,
  type MacFrame,
  secureInterPanFrame,
  unsecureInterPanFrame,
} from '@gbhan/zigbee';
import type { FrameSecurity, OutgoingZcl, SendResult } from '../host.js';
import { PROFILE_SMART_ENERGY, SE_ENDPOINT } from '../host.js';
import type { DropReasonOf } from '../trace-events.js';
import { toSendStatus } from './aps.js';
import type { NodeContext } from './context.js';

export class InterPan {
  /** Offered every Inter-PAN frame's MAC source before decoding: a reason drops it. */
  gate: ((source: string | number) => DropReasonOf<'INTERPAN'> | null) | null = null;

  constructor(private readonly ctx: NodeContext) {}

  async send(to: { eui64: string; panId: number } | 'broadcast', frame: OutgoingZcl): Promise<SendResult> {
    const ctx = this.ctx;
    if (!ctx.powered) return { status: 'radio-refused' };
    const plain: InterPanPlainFrame = {
      deliveryMode: to === 'broadcast' ? 'broadcast' : 'unicast',
      clusterId: frame.clusterId,
      profileId: frame.profileId ?? PROFILE_SMART_ENERGY,
      security: false,
      payload: frame.zcl,
    };
    let payload: Uint8Array;
    if (frame.security === 'aps-link') {
      const key = to === 'broadcast' ? null : ctx.linkKey(to.eui64);
      if (!key) return { status: 'no-link-key' };
      payload = secureInterPanFrame(plain, {
        key,
        frameCounter: ctx.state.apsFc.take(),
        sourceEui64: ctx.eui64,
      });
    } else {
      // ASSUMPTION: 'nwk' has no meaning outside a network; it is sent like 'none'.
      payload = encodeInterPanFrame(plain);
    }
    const mac = interPanMacFrame({
      sequenceNumber: 0,
      destinationPan: to === 'broadcast' ? MAC_BROADCAST_PAN : to.panId,
      destination: to === 'broadcast' ? MAC_BROADCAST_ADDRESS : to.eui64,
      sourcePan: ctx.mac.panId,
      source: ctx.eui64,
      payload,
    });
    const r = await ctx.mac.send(mac);
    return { status: toSendStatus(r.status) };
  }

  onFrame(f: Extract<MacFrame, { frameType: 'data' }>, rx: ReceivedFrame): void {
    const ctx = this.ctx;
    const refusal = this.gate?.(f.source ?? 0xffff) ?? null;
    if (refusal !== null) {
      ctx.drop('INTERPAN', refusal, typeof f.source === 'string' ? { from: f.source } : {});
      return;
    }
    if (typeof f.source !== 'string') {
      ctx.drop('INTERPAN', 'interpan-short-source');
      return;
    }
    const decoded = decodeInterPanFrame(f.payload);
    let payload: Uint8Array;
    let security: FrameSecurity = 'none';
    if (decoded.security) {
      const src = decoded.aux.sourceAddress ?? f.source;
      const key = ctx.linkKey(src);
      if (!key) {
        ctx.drop('INTERPAN', 'interpan-no-link-key', { from: src });
        return;
      }
      try {
        const r = unsecureInterPanFrame(f.payload, { key, sourceEui64: src });
        const last = ctx.state.apsIncoming.get(src);
        if (last !== undefined && r.aux.frameCounter <= last) {
          ctx.drop('INTERPAN', 'interpan-replay', { from: src, counter: r.aux.frameCounter });
          return;
        }
        ctx.state.apsIncoming.set(src, r.aux.frameCounter);
        payload = r.frame.payload;
        security = 'aps-link';
      } catch (e) {
        ctx.drop('INTERPAN', 'interpan-bad-mic', { from: src, detail: (e as Error).message });
        return;
      }
    } else {
      payload = decoded.payload;
    }
    ctx.deliver({
      from: { eui64: f.source },
      srcEndpoint: SE_ENDPOINT,
      dstEndpoint: SE_ENDPOINT,
      clusterId: decoded.clusterId,
      profileId: decoded.profileId,
      zcl: payload,
      security,
      interPan: true,
      ...(f.sourcePan !== undefined ? { sourcePanId: f.sourcePan } : {}),
      lqi: rx.lqi,
      rssi: rx.rssi,
    });
  }
}
