/**
 * Serving ZCL requests independently of how they arrived: straight from a HAN peer
 * (`onZcl`) or unwrapped from the GB-HGRP tunnel. A server takes (cluster, ZCL frame) and
 * returns the ZCL reply frame, or null when none is due; the caller sends it back the way
 * the request came. Read Attributes (ZCL r8 §2.5.1) and Default Responses (§2.5.12) are
 * handled here so each cluster only supplies its attributes and commands.
 */

import type { ApplicationHost, IncomingZcl } from '@gbhan/stack';
import {
  type DecodedZclFrame,
  decodeZclFrame,
  encodeReadAttributesResponse,
  type ReadAttributeRecord,
} from '@gbhan/zigbee';
import {
  defaultResponseTo,
  describeDecodeError,
  replyDirection,
  sendTraced,
  traceDrop,
  ZclStatus,
} from './zcl-helpers.js';

export interface ClusterHandler {
  readAttributes?: (ids: readonly number[]) => ReadAttributeRecord[];
  /** A cluster-specific command; return the reply frame, a ZCL status for a Default Response, or null. */
  command?: (frame: DecodedZclFrame, origin: string) => Uint8Array | number | null;
}

export interface ServeResult {
  /** The reply frame, if any. */
  reply: Uint8Array | null;
  /** Why the request was refused (for the trace), if it was. */
  refused?: string;
}

/** Build a Default Response for `frame` unless ZCL says not to send one. */
export function defaultResponseFor(frame: DecodedZclFrame, statusCode: number): Uint8Array | null {
  return defaultResponseTo(frame.header, statusCode);
}

export class ClusterServer {
  private readonly handlers = new Map<number, ClusterHandler>();

  register(clusterId: number, handler: ClusterHandler): void {
    this.handlers.set(clusterId, handler);
  }

  has(clusterId: number): boolean {
    return this.handlers.has(clusterId);
  }

  /**
   * Serve a request that came straight over the HAN and send the reply back to its sender,
   * APS-secured; a refusal is a traced drop.
   */
  answer(host: ApplicationHost, msg: IncomingZcl, origin: string = msg.from.eui64): void {
    const r = this.serve(msg.clusterId, msg.zcl, origin);
    if (r.refused) traceDrop(host, msg, r.refused);
    if (r.reply)
      void sendTraced(
        host,
        msg.from,
        { clusterId: msg.clusterId, zcl: r.reply, security: 'aps-link' },
        'zcl-reply',
      );
  }

  /** Serve one request. Never throws: bad input is refused with a reason. */
  serve(clusterId: number, zcl: Uint8Array, origin: string): ServeResult {
    const handler = this.handlers.get(clusterId);
    let frame: DecodedZclFrame;
    try {
      frame = decodeZclFrame(zcl, { cluster: clusterId });
    } catch (e) {
      return { reply: null, refused: `malformed-zcl: ${describeDecodeError(e)}` };
    }
    if (handler === undefined) {
      return { reply: defaultResponseFor(frame, ZclStatus.UNSUP_CLUSTER), refused: 'unsupported-cluster' };
    }
    const h = frame.header;
    if (h.frameType === 'global') {
      if (frame.commandName === 'defaultRsp') return { reply: null };
      if (frame.commandName === 'read' && handler.readAttributes) {
        const ids = (frame.payload as { attrId: number }[]).map((r) => r.attrId);
        return {
          reply: encodeReadAttributesResponse({
            records: handler.readAttributes(ids),
            tsn: h.transactionSequenceNumber,
            direction: replyDirection(h.direction),
          }),
        };
      }
      return {
        reply: defaultResponseFor(frame, ZclStatus.UNSUP_GENERAL_COMMAND),
        refused: `unsupported-global-command ${frame.commandName}`,
      };
    }
    if (!handler.command) {
      return {
        reply: defaultResponseFor(frame, ZclStatus.UNSUP_CLUSTER_COMMAND),
        refused: `unsupported-command ${frame.commandName}`,
      };
    }
    let out: Uint8Array | number | null;
    try {
      out = handler.command(frame, origin);
    } catch (e) {
      return {
        reply: defaultResponseFor(frame, ZclStatus.FAILURE),
        refused: `handler-error: ${(e as Error).message}`,
      };
    }
    if (typeof out === 'number') {
      const refused =
        out === ZclStatus.SUCCESS ? undefined : `status 0x${out.toString(16)} for ${frame.commandName}`;
      return { reply: defaultResponseFor(frame, out), ...(refused ? { refused } : {}) };
    }
    return { reply: out };
  }
}
