/**
 * APS fragmentation on the air (05-3474 §2.2.8.4.5): sending an ASDU as acknowledged blocks,
 * window size 1, and receiving blocks into the reassembly buffer with their acks and timeouts.
 * The parts without I/O (block sizes, splitting, the buffer) are in `../aps-fragmentation.ts`.
 */
import type { ApsPlainFrame } from '@gbhan/zigbee';
import { apsBlockSize, splitIntoBlocks } from '../aps-fragmentation.js';
import type { SendStatus } from '../host.js';
import { SE_ENDPOINT } from '../host.js';
import type { ApsDataHeader } from './aps.js';
import type { NodeContext } from './context.js';
import type { NodeState } from './state.js';

type DataFrame = Extract<ApsPlainFrame, { frameType: 'data' }>;

export class ApsFragments {
  constructor(private readonly ctx: NodeContext) {}

  /**
   * Fragmented transmission (05-3474 §2.2.8.4.5) with a window of one block: each block is
   * sent with an APS ack request and resent up to apsMaxFrameRetries times until its
   * acknowledgment arrives within apsAckWaitDuration; apsInterframeDelay between blocks.
   * Every block carries the same APS counter; APS-secured blocks each take a frame counter.
   */
  async send(
    ram: NodeState,
    dest: number,
    eui64: string,
    header: ApsDataHeader,
    asdu: Uint8Array,
    linkKey: Uint8Array | null,
  ): Promise<SendStatus> {
    const ctx = this.ctx;
    const cfg = ctx.fragmentation;
    const blocks = splitIntoBlocks(
      asdu,
      apsBlockSize({ destinationIeee: dest < 0xfff8, apsSecured: linkKey !== null }),
    );
    const counter = ctx.aps.nextCounter();
    const done = (status: SendStatus, sentBlocks: number) => {
      ctx.emit({
        type: 'aps-fragmented-send',
        to: eui64,
        counter,
        blocks: blocks.length,
        sentBlocks,
        octets: asdu.length,
        status,
      });
      return status;
    };
    for (let i = 0; i < blocks.length; i++) {
      if (i > 0 && cfg.interframeDelayUs > 0) await ctx.mac.sleep(cfg.interframeDelayUs);
      let acked = false;
      for (let attempt = 0; attempt <= cfg.maxFrameRetries && !acked; attempt++) {
        if (ctx.state !== ram || !ram.joined) return done('no-ack', i);
        const aps: ApsPlainFrame = {
          ...header,
          ackRequest: true,
          counter,
          extendedHeader: { fragmentation: i === 0 ? 1 : 2, blockNumber: i === 0 ? blocks.length : i },
          payload: blocks[i]!,
        };
        const bytes = ctx.aps.encodeOrReport(aps, linkKey, eui64);
        if (!bytes) return done('radio-refused', i);
        acked = await this.sendAwaitingAck(ram, dest, eui64, bytes, `${eui64}/${counter}/${i}`);
      }
      if (!acked) return done('no-ack', i);
    }
    return done('sent', blocks.length);
  }

  /** Send one block and wait apsAckWaitDuration for its APS ack (a sleepy sender polls fast meanwhile). */
  private async sendAwaitingAck(
    ram: NodeState,
    dest: number,
    eui64: string,
    bytes: Uint8Array,
    key: string,
  ): Promise<boolean> {
    const ctx = this.ctx;
    const acked = ram.apsAcks.wait(key);
    ram.fastPollHolds++;
    try {
      const st = await ctx.nwk.sendData(dest, eui64, bytes, true);
      if (st !== 'sent') {
        ram.apsAcks.settle(key, false);
      } else {
        ctx.poller.soon(ram);
        ram.apsAcks.expireAfter(key, ctx.fragmentation.ackWaitUs, false);
      }
      return await acked;
    } finally {
      ram.apsAcks.settle(key, false); // nobody waits any more (thrown)
      ram.fastPollHolds--;
    }
  }

  /** An APS acknowledgment: only those of blocks we sent are awaited (no other APS acks are requested). */
  onAck(ack: Extract<ApsPlainFrame, { frameType: 'ack' }>, fromEui: string | undefined): void {
    const ext = ack.extendedHeader;
    if (!fromEui || ext === undefined || ext.fragmentation === 0) return;
    // Window size 1: the ack names the block (the window's first) and bit 0 says it arrived.
    if (((ext.ackBitfield ?? 0) & 1) === 0) return;
    if (!this.ctx.state.apsAcks.settle(`${fromEui}/${ack.counter}/${ext.blockNumber ?? 0}`, true))
      this.ctx.drop('APS', 'aps-unexpected-ack', {
        from: fromEui,
        counter: ack.counter,
        block: ext.blockNumber ?? 0,
      });
  }

  /**
   * A block of a fragmented ASDU (§2.2.8.4.5.2): into the reassembly buffer, acknowledged
   * (window of one: block number of the window's first block, bit 0 of the ack bitfield).
   * Returns the whole ASDU when this block completed it, else null. Bad, unexpected or
   * duplicate blocks are traced drops; a buffer that times out is traced when it expires.
   */
  onBlock(
    plain: DataFrame,
    fragmentation: 1 | 2,
    blockNumber: number,
    fromEui: string | undefined,
    fromShort: number,
    apsSecured: boolean,
  ): Uint8Array | null {
    const ctx = this.ctx;
    const ram = ctx.state;
    if (!fromEui) {
      ctx.drop('APS', 'aps-unknown-source-eui64', { source: fromShort });
      return null;
    }
    const now = ctx.clock.now();
    const r = ram.reassembler.accept(
      {
        source: fromEui,
        apsCounter: plain.counter,
        fragmentation,
        blockNumber,
        clusterId: plain.clusterId,
        payload: plain.payload,
      },
      now,
    );
    if (r.kind === 'dropped') {
      ctx.drop('APS', r.reason, {
        from: fromEui,
        counter: plain.counter,
        fragmentation,
        block: blockNumber,
      });
      return null;
    }
    if (plain.ackRequest) void this.sendAck(plain, r.block, fromEui, fromShort, apsSecured);
    this.armReassemblyTimer(ram);
    if (r.duplicate) {
      ctx.drop('APS', 'aps-fragment-duplicate', { from: fromEui, counter: plain.counter, block: r.block });
      return null;
    }
    if (r.asdu === undefined) {
      // More blocks to come: a sleepy receiver fetches them from its parent without waiting a poll period.
      ram.awaitingReply.set(
        fromEui,
        Math.max(ram.awaitingReply.get(fromEui) ?? 0, now + ctx.fragmentation.ackWaitUs * 2),
      );
      ctx.poller.soon(ram);
      return null;
    }
    ctx.emit({ type: 'aps-reassembled', from: fromEui, counter: plain.counter, octets: r.asdu.length });
    return r.asdu;
  }

  private async sendAck(
    plain: DataFrame,
    block: number,
    toEui: string,
    toShort: number,
    apsSecured: boolean,
  ): Promise<void> {
    const ctx = this.ctx;
    const ack: ApsPlainFrame = {
      frameType: 'ack',
      deliveryMode: 'unicast',
      ackRequest: false,
      ackFormat: 'data',
      // An ack's endpoints are the data frame's, swapped (§2.2.5.2.3).
      destinationEndpoint: plain.sourceEndpoint,
      clusterId: plain.clusterId,
      profileId: plain.profileId,
      sourceEndpoint: plain.destinationEndpoint ?? SE_ENDPOINT,
      counter: plain.counter,
      extendedHeader: { fragmentation: block === 0 ? 1 : 2, blockNumber: block, ackBitfield: 0x01 },
      security: false,
    };
    const bytes = ctx.aps.encodeOrReport(ack, apsSecured ? ctx.linkKey(toEui) : null, toEui);
    if (!bytes) return;
    await ctx.nwk.sendData(toShort, toEui, bytes, true);
  }

  /** Expire idle reassembly buffers (traced as `aps-fragment-timeout` when incomplete). */
  private armReassemblyTimer(ram: NodeState): void {
    const ctx = this.ctx;
    if (ram.reassemblyTimer?.active) return;
    ram.reassemblyTimer = ctx.mac.timer(ctx.fragmentation.reassemblyTimeoutUs, () => {
      ram.reassemblyTimer = null;
      for (const x of ram.reassembler.expire(ctx.clock.now()))
        ctx.drop('APS', 'aps-fragment-timeout', {
          from: x.source,
          counter: x.apsCounter,
          received: x.received,
          blocks: x.total,
        });
      if (ram.reassembler.size > 0) this.armReassemblyTimer(ram);
    });
  }
}
