/**
 * APS fragmentation (ZigBee 05-3474 §2.2.8.4.5): an ASDU too long for one frame travels as
 * blocks, each an APS data frame with the extended header (§2.2.5.1.8) - the first block
 * with fragmentation 1 and the block number field holding the number of blocks, later ones
 * with fragmentation 2 and their block number. Every block carries the same APS counter and
 * asks for an APS acknowledgment; the receiver reassembles and delivers the ASDU once.
 *
 * Why it is needed here: GB runs CBKE with crypto suite 2, whose 74-octet certificates make
 * an Initiate Key Establishment of 142 octets on air, over the 127-octet PSDU.
 *
 * This module holds the parts without I/O (block sizes, splitting, the reassembly buffer);
 * `node/aps-fragments.ts` sends the blocks, the acks and runs the timers.
 */
import type { DropReasonOf } from './trace-events.js';

/** aMaxPHYPacketSize (802.15.4 §11.3), the same on both GB bands here. */
const A_MAX_PHY_PACKET_SIZE = 127;

/** Timing and sizes of fragmented transmission (the AIB attributes of §2.2.7.2). */
export interface ApsFragmentationConfig {
  /**
   * apsMaxWindowSize (§2.2.7.2, Table 2.24: 1..8, default 8). ASSUMPTION: only 1 is
   * implemented - the sender waits for each block's acknowledgment before the next. GB
   * messages need 2 or 3 blocks, so a larger window would gain little; 1 also keeps a sleepy
   * receiver's parent from holding several blocks at once.
   */
  maxWindowSize?: 1;
  /** apsInterframeDelay (§2.2.7.2: 0..255 ms): pause between blocks. Default 10 ms. */
  interframeDelayUs?: number;
  /**
   * apsAckWaitDuration (§2.2.7.1: 0.05 * (2 * nwkcMaxDepth) s + security processing). Default
   * 1.6 s; a sleepy sender waits for its parent's ack by fast polling, so this covers it.
   */
  ackWaitUs?: number;
  /** apsMaxFrameRetries (§2.2.7.1, default 3): resends of a block without its acknowledgment. */
  maxFrameRetries?: number;
  /**
   * How long a receiver keeps an incomplete ASDU after its last block. ASSUMPTION: the spec
   * leaves it to the implementation; default (maxFrameRetries + 1) * ackWaitUs + 2 s.
   */
  reassemblyTimeoutUs?: number;
  /** Largest ASDU this node reassembles (default 1024 octets; larger first blocks are dropped). */
  maxAsduOctets?: number;
}

export const DEFAULT_INTERFRAME_DELAY_US = 10_000;
export const DEFAULT_APS_ACK_WAIT_US = 1_600_000;
export const DEFAULT_APS_MAX_FRAME_RETRIES = 3;
const DEFAULT_MAX_ASDU = 1024;
/** At most this many ASDUs are reassembled at once (RAM of a small node). */
const MAX_REASSEMBLIES = 4;

export interface ResolvedFragmentationConfig {
  interframeDelayUs: number;
  ackWaitUs: number;
  maxFrameRetries: number;
  reassemblyTimeoutUs: number;
  maxAsduOctets: number;
}

export function resolveFragmentationConfig(c: ApsFragmentationConfig = {}): ResolvedFragmentationConfig {
  const ackWaitUs = c.ackWaitUs ?? DEFAULT_APS_ACK_WAIT_US;
  const maxFrameRetries = c.maxFrameRetries ?? DEFAULT_APS_MAX_FRAME_RETRIES;
  return {
    interframeDelayUs: c.interframeDelayUs ?? DEFAULT_INTERFRAME_DELAY_US,
    ackWaitUs,
    maxFrameRetries,
    reassemblyTimeoutUs: c.reassemblyTimeoutUs ?? (maxFrameRetries + 1) * ackWaitUs + 2_000_000,
    maxAsduOctets: c.maxAsduOctets ?? DEFAULT_MAX_ASDU,
  };
}

/**
 * Octets of everything around an APS payload in a unicast data frame this stack sends:
 * MAC header with short addresses and PAN id compression (9) + FCS (2); NWK header (8) with
 * the source IEEE address (8) and, to a known EUI64, the destination IEEE address (8); NWK
 * auxiliary header with extended nonce (14) + MIC-32 (4); APS data header (8) + extended
 * header of a block (2); with APS security the APS auxiliary header with extended nonce (13)
 * + MIC-32 (4).
 */
export function apsBlockOverhead(o: { destinationIeee: boolean; apsSecured: boolean }): number {
  const mac = 9 + 2;
  const nwk = 8 + 8 + (o.destinationIeee ? 8 : 0) + 14 + 4;
  const aps = 8 + 2 + (o.apsSecured ? 13 + 4 : 0);
  return mac + nwk + aps;
}

/** The largest block payload that keeps the PSDU within aMaxPhyPacketSize (127). */
export function apsBlockSize(o: { destinationIeee: boolean; apsSecured: boolean }): number {
  return A_MAX_PHY_PACKET_SIZE - apsBlockOverhead(o);
}

/** Whether an unfragmented frame with `payloadOctets` of ASDU would exceed the PSDU limit. */
export function needsFragmentation(
  payloadOctets: number,
  o: { destinationIeee: boolean; apsSecured: boolean },
): boolean {
  return payloadOctets + apsBlockOverhead(o) - 2 > A_MAX_PHY_PACKET_SIZE;
}

/** Split an ASDU into blocks of at most `blockSize` octets. */
export function splitIntoBlocks(asdu: Uint8Array, blockSize: number): Uint8Array[] {
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`block size ${blockSize}`);
  const blocks: Uint8Array[] = [];
  for (let o = 0; o < asdu.length; o += blockSize) blocks.push(asdu.subarray(o, o + blockSize));
  if (blocks.length < 2) throw new RangeError('an ASDU that fits one frame is not fragmented');
  if (blocks.length > 255) throw new RangeError(`${blocks.length} blocks: the block number is one octet`);
  return blocks;
}

/** A block as it arrived: the sender, the APS counter, and the extended header fields. */
export interface IncomingBlock {
  source: string;
  apsCounter: number;
  fragmentation: 1 | 2;
  /** First block: the number of blocks; later blocks: this block's number. */
  blockNumber: number;
  clusterId: number;
  payload: Uint8Array;
}

/** The APS drop reasons of fragment reassembly. */
export type ApsFragmentDropReason = Extract<DropReasonOf<'APS'>, `aps-fragment-${string}`>;

export type BlockOutcome =
  /** Acknowledge `block` (its number within the transmission); `asdu` when now complete. */
  | { kind: 'accepted'; block: number; asdu?: Uint8Array; duplicate?: boolean }
  /** Drop the block, do not acknowledge it (traced with `reason`). */
  | { kind: 'dropped'; reason: ApsFragmentDropReason };

interface Reassembly {
  total: number;
  clusterId: number;
  blocks: (Uint8Array | undefined)[];
  received: number;
  octets: number;
  lastUs: number;
  /** Set once delivered: later copies of its blocks are re-acknowledged, not delivered again. */
  done: boolean;
}

/**
 * The receiver's reassembly buffers, keyed by sender and APS counter (all blocks of a
 * transmission share the counter). Time comes from the caller; `expire(now)` returns what
 * timed out so the node can trace it.
 */
export class ApsReassembler {
  private readonly buffers = new Map<string, Reassembly>();

  constructor(private readonly config: ResolvedFragmentationConfig) {}

  accept(b: IncomingBlock, nowUs: number): BlockOutcome {
    const key = `${b.source}/${b.apsCounter}`;
    let r = this.buffers.get(key);
    if (b.fragmentation === 1) {
      if (b.blockNumber < 2) return { kind: 'dropped', reason: 'aps-fragment-bad-block-count' };
      if (r && !r.done && r.total !== b.blockNumber) {
        // A new transmission reusing the counter (after a sender restart): start again.
        this.buffers.delete(key);
        r = undefined;
      }
      if (r === undefined) {
        if (this.openCount() >= MAX_REASSEMBLIES)
          return { kind: 'dropped', reason: 'aps-fragment-no-buffer' };
        r = {
          total: b.blockNumber,
          clusterId: b.clusterId,
          blocks: new Array(b.blockNumber),
          received: 0,
          octets: 0,
          lastUs: nowUs,
          done: false,
        };
        this.buffers.set(key, r);
      }
      return this.store(key, r, 0, b, nowUs);
    }
    if (r === undefined) return { kind: 'dropped', reason: 'aps-fragment-no-first-block' };
    if (b.blockNumber < 1 || b.blockNumber >= r.total)
      return { kind: 'dropped', reason: 'aps-fragment-bad-block-number' };
    if (b.clusterId !== r.clusterId) return { kind: 'dropped', reason: 'aps-fragment-cluster-mismatch' };
    return this.store(key, r, b.blockNumber, b, nowUs);
  }

  private store(key: string, r: Reassembly, n: number, b: IncomingBlock, nowUs: number): BlockOutcome {
    r.lastUs = nowUs;
    if (r.done || r.blocks[n] !== undefined) return { kind: 'accepted', block: n, duplicate: true };
    if (r.octets + b.payload.length > this.config.maxAsduOctets) {
      this.buffers.delete(key);
      return { kind: 'dropped', reason: 'aps-fragment-too-long' };
    }
    r.blocks[n] = b.payload.slice();
    r.received++;
    r.octets += b.payload.length;
    if (r.received < r.total) return { kind: 'accepted', block: n };
    const asdu = new Uint8Array(r.octets);
    let o = 0;
    for (const blk of r.blocks) {
      asdu.set(blk!, o);
      o += blk!.length;
    }
    r.done = true;
    r.blocks = [];
    return { kind: 'accepted', block: n, asdu };
  }

  private openCount(): number {
    let n = 0;
    for (const r of this.buffers.values()) if (!r.done) n++;
    return n;
  }

  /** Forget buffers idle for the reassembly timeout; returns the incomplete ones (for the trace). */
  expire(nowUs: number): { source: string; apsCounter: number; received: number; total: number }[] {
    const out: { source: string; apsCounter: number; received: number; total: number }[] = [];
    for (const [key, r] of this.buffers) {
      if (nowUs - r.lastUs < this.config.reassemblyTimeoutUs) continue;
      this.buffers.delete(key);
      if (r.done) continue;
      const [source, counter] = key.split('/');
      out.push({ source: source!, apsCounter: Number(counter), received: r.received, total: r.total });
    }
    return out;
  }

  /** Anything still buffered (completed ones are kept a while to re-acknowledge duplicates). */
  get size(): number {
    return this.buffers.size;
  }
}
