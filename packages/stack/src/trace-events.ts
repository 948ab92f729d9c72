/**
 * Every event the stack puts in the run's trace (with `radio.trace`, so the bus stamps it with
 * the virtual time and the radio), declared once in `STACK_TRACE_EVENTS`; `StackTraceEvent`,
 * the union the node and the MAC emit, is derived from it. Events several device packages
 * emit (`send-failed`, `key-export`) are declared here, the lowest package that emits them;
 * the application runtime's own are in `@gbhan/runtime/trace-events`.
 */
import {
  defineTraceEvents,
  eui64Field,
  listedString,
  listOf,
  type TraceEventOf,
  type ValueList,
} from '@gbhan/radio-bus';
import type { ZigbeeErrorCode, ZigbeeLayer } from '@gbhan/zigbee';
import { z } from 'zod';

// The decoders' layers and codes (types only: a catalogue loads no protocol code).
const ZIGBEE_LAYERS = listOf<ZigbeeLayer>()([
  'PHY',
  'MAC',
  'NWK',
  'APS',
  'INTERPAN',
  'ZDO',
  'ZCL',
  'SECURITY',
  'INSTALL_CODE',
]);
const ZIGBEE_ERROR_CODES = listOf<ZigbeeErrorCode>()([
  'TRUNCATED',
  'OVERLONG',
  'INVALID_FIELD',
  'UNSUPPORTED',
  'BAD_FCS',
  'BAD_MIC',
  'BAD_KEY',
  'BAD_CRC',
]);

export const NWK_STATES = [
  'formed',
  'not-joined',
  'scanning',
  'associating',
  'awaiting-key',
  'rejoining',
  'joined',
] as const;
export type NwkStateName = (typeof NWK_STATES)[number];

/** A ZigbeeDecodeError as a drop reason: `<layer>-<code>`, lowercase. */
export type DecodeErrorReason<L extends ZigbeeLayer = ZigbeeLayer> =
  `${Lowercase<L>}-${Lowercase<ZigbeeErrorCode>}`;
export const decodeErrorReason = <L extends ZigbeeLayer>(
  layer: L,
  code: ZigbeeErrorCode,
): DecodeErrorReason<L> => `${layer.toLowerCase()}-${code.toLowerCase()}` as DecodeErrorReason<L>;

/** Every ZigbeeDecodeError of `layers` as a reason, each meaning `text`. */
const decodeErrorReasons = <L extends ZigbeeLayer>(layers: readonly L[], text: string) =>
  Object.fromEntries(
    layers.flatMap((l) => ZIGBEE_ERROR_CODES.map((c) => [decodeErrorReason(l, c), text])),
  ) as Record<DecodeErrorReason<L>, string>;

/*
 * Why a frame was not accepted (`frame-dropped` `reason` -> meaning), one list per `layer`;
 * drop() takes only a reason of its layer. The refusals that are also Security Log entries and
 * alerts are marked.
 */
/** MAC frames: undecodable or a retransmission (mac.ts). */
export const MAC_DROP_REASONS = {
  ...decodeErrorReasons(['MAC'], 'the MAC frame did not decode (ZigbeeDecodeError code)'),
  'mac-undecodable': 'the MAC frame did not decode (another error)',
  'mac-duplicate': 'a retransmission of the last frame from that source (same sequence number)',
} as const satisfies ValueList;

/** NWK frames: security, replay, addressing, relaying, NWK commands and leaves (node/nwk.ts, coordinator.ts). */
export const NWK_DROP_REASONS = {
  'nwk-malformed': 'the NWK frame did not decode',
  'nwk-no-network-key': 'NWK-secured, and this node holds no network key yet',
  'nwk-no-source-address': 'secured without the source EUI64 needed for the nonce',
  'nwk-bad-mic': 'the MIC did not verify under the network key',
  'nwk-replay': 'a frame counter not above the last one from that source',
  'nwk-unsecured': 'not NWK-secured on a secured network',
  'nwk-not-for-me': 'addressed to another node',
  'nwk-radius-exhausted': 'to relay, but its radius is used up',
  'nwk-no-route': 'to relay to a node that is not a child',
  'nwk-command-source-mismatch':
    'an NWK command whose MAC, NWK and security sources disagree (refused: Security Log, alert)',
  'nwk-leave-source-mismatch':
    "a leave in a child's name from another short address (refused: Security Log, alert)",
  'nwk-leave-request-not-allowed':
    'a leave request from the parent, not obeyed (nwkLeaveRequestAllowed false; refused: Security Log, alert)',
  'nwk-leave-not-from-parent': 'a leave request not from the parent (refused: Security Log, alert)',
} as const satisfies ValueList;

/** APS frames: link-key security, acks, fragments, Request Key and Transport Key (node/aps.ts, aps-fragments.ts, roles). */
export const APS_DROP_REASONS = {
  'aps-unknown-source': 'APS-secured from a short address with no known EUI64',
  'aps-network-key-security': 'APS security under the network key (refused: Security Log, alert)',
  'aps-no-link-key': 'APS-secured by a peer this node shares no link key with',
  'aps-bad-mic': 'the MIC did not verify under the link key',
  'aps-replay': 'a frame counter not above the last one from that peer',
  'aps-unsecured-before-key': 'an unsecured APS frame before the network key arrived',
  'aps-source-mismatch':
    'secured by a key of another peer than the NWK source (refused: Security Log, alert)',
  'aps-unknown-source-eui64': 'from a short address with no known EUI64',
  'aps-unexpected-ack': 'an APS ack nobody waits for',
  'aps-fragment-bad-block-count': 'a first block announcing fewer than 2 blocks',
  'aps-fragment-no-buffer': 'no reassembly buffer free',
  'aps-fragment-no-first-block': 'a later block without its first',
  'aps-fragment-bad-block-number': 'a block number out of range',
  'aps-fragment-cluster-mismatch': 'a block of another cluster than its first',
  'aps-fragment-too-long': 'the reassembled ASDU would be too long',
  'aps-fragment-duplicate': 'a block already received',
  'aps-fragment-timeout': 'a reassembly that did not complete in time',
  'request-key-not-trust-centre': 'a Request Key to a node that is not the Trust Centre',
  'request-key-unsecured': 'a Request Key without APS link-key security',
  'transport-key-not-from-trust-centre':
    "a partner Transport Key not under the Trust Centre's key-transport key (refused: Security Log, alert)",
  'transport-key-partner-invalid':
    'a partner Transport Key for the Trust Centre or this node itself (refused: Security Log, alert)',
  'transport-key-unsecured':
    'a network Transport Key not under a key-transport key (refused: Security Log, alert)',
  'transport-key-unexpected': 'a network Transport Key while not waiting for one',
} as const satisfies ValueList;

/** ZDO frames (node/zdo.ts). */
export const ZDO_DROP_REASONS = {
  'zdo-malformed': 'the ZDO frame did not decode',
  'mgmt-leave-not-authorised':
    "a Mgmt_Leave_req not under the Trust Centre's APS link key (refused: Security Log, alert)",
} as const satisfies ValueList;

/** Inter-PAN frames: the CH's gate, then security (node/interpan.ts). */
export const INTERPAN_DROP_REASONS = {
  'interpan-window-closed': "the CH's Inter-PAN window is closed (its gate, before decoding)",
  'interpan-short-source': 'an Inter-PAN frame with a short MAC source',
  'interpan-no-link-key': 'APS-secured Inter-PAN from a peer with no link key',
  'interpan-replay': 'a frame counter not above the last one from that peer',
  'interpan-bad-mic': 'the MIC did not verify under the link key',
} as const satisfies ValueList;

/** A handler failed: an uncaught decode error as `<layer>-<code>`, or anything else (zigbee-node.ts). */
export const NODE_DROP_REASONS = {
  ...decodeErrorReasons(
    ZIGBEE_LAYERS,
    'a decoder refused the frame and no handler caught it (`<layer>-<code>`)',
  ),
  'unexpected-error': 'a handler threw something else (the message in `detail`)',
} as const satisfies ValueList;

/** The drop reasons by `frame-dropped` `layer`. */
export const FRAME_DROP_REASONS = {
  MAC: MAC_DROP_REASONS,
  NWK: NWK_DROP_REASONS,
  APS: APS_DROP_REASONS,
  ZDO: ZDO_DROP_REASONS,
  INTERPAN: INTERPAN_DROP_REASONS,
  NODE: NODE_DROP_REASONS,
} as const;
export type FrameDropLayer = keyof typeof FRAME_DROP_REASONS;

/** A drop reason of `L` (of any layer when `L` is a union). */
export type DropReasonOf<L extends FrameDropLayer> = L extends FrameDropLayer
  ? keyof (typeof FRAME_DROP_REASONS)[L] & string
  : never;
/** Why a frame was not accepted: one of the reasons of its layer. */
export type DropReason = DropReasonOf<FrameDropLayer>;

/** A `frame-dropped` event: the reason must be one of its layer's. */
export function frameDropped<L extends FrameDropLayer>(
  layer: L,
  reason: DropReasonOf<L>,
  detail: Record<string, unknown> = {},
): StackTraceEvent {
  return { type: 'frame-dropped', layer, reason, ...detail } as StackTraceEvent;
}

const ALL_DROP_REASONS: ValueList = Object.assign({}, ...Object.values(FRAME_DROP_REASONS));

const eui64 = eui64Field;
const short = z.number().int().min(0).max(0xffff).describe('NWK short address');
const panId = z.number().int().min(0).max(0xffff);
const epid = eui64Field.describe('Extended PAN ID (GB: the CH EUI64)');
const page = z.number().int().min(0);
const channel = z.number().int().min(0);
const eui64OrShort = z
  .union([eui64, short])
  .describe('EUI64, or the short address when the EUI64 is unknown');
const linkKeyOrigin = z.enum(['install-code', 'cbke', 'partner']);
const securityDetail = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .describe("the entry's details (`eui64`, `from`, `reason`, ...)");
const hex32 = z.string().regex(/^[0-9a-f]{32}$/, '32 lowercase hex digits');

export const STACK_TRACE_EVENTS = defineTraceEvents(
  'stack',
  'The ZigBee node: power, NWK state and joins, the Trust Centre, keys, frames refused, the MAC, the Security Log and alerts.',
  {
    // node power and NWK state
    power: {
      description: 'The node powered on (state from NVM) or off (RAM lost).',
      fields: { on: z.boolean() },
    },
    'nwk-state': {
      description: "The node's NWK state changed (with the network, once it has one).",
      fields: {
        state: z.enum(NWK_STATES),
        panId: panId.optional(),
        extendedPanId: epid.optional(),
        short: short.optional(),
        channel: channel.optional(),
        page: page.optional(),
      },
    },
    formed: {
      description: 'The coordinator formed its network.',
      fields: { panId, extendedPanId: epid, channel, page },
    },
    'permit-join': {
      description: 'The coordinator opened (or closed, 0) joining.',
      fields: { seconds: z.number().int().min(0).max(255).describe('255: until closed') },
    },
    'scan-done': {
      description: 'A joiner finished its active scan.',
      fields: {
        beacons: z.number().int().min(0).describe('beacons heard'),
        candidates: z.number().int().min(0).describe('networks it may join (permit join, EPID filter)'),
      },
    },
    joined: {
      description: 'The node joined a network (association, network key received).',
      fields: {
        panId: panId.optional(),
        short: short.optional(),
        parent: eui64.nullable().optional().describe('the parent (null: unknown)'),
      },
    },
    rejoined: {
      description: 'The node rejoined its network (secured rejoin).',
      fields: {
        panId: panId.optional(),
        short: short.optional(),
        parent: eui64.nullable().optional().describe('the parent (null: unknown)'),
      },
    },
    'join-failed': {
      description: 'A join attempt failed (joiner), or a joiner did not complete it (coordinator).',
      fields: {
        reason: z
          .string()
          .describe(
            '`transport-key-timeout`, `no-preconfigured-link-key`, or `association-response-<status>` (coordinator)',
          ),
        eui64: eui64.optional().describe('the joiner (coordinator side)'),
      },
    },
    'join-refused': {
      description: 'A join was refused: by the coordinator (with `eui64`) or to this joiner (with `by`).',
      fields: {
        eui64: eui64.optional().describe('the joiner refused (coordinator side)'),
        by: eui64OrShort.optional().describe('the parent that refused (joiner side)'),
        reason: z
          .string()
          .optional()
          .describe('`permit-join-off`, `not-in-device-log`, `rejoin-not-in-device-log` (coordinator side)'),
        status: z.number().int().nullable().optional().describe('association status (null: no response)'),
      },
    },
    'rejoin-failed': {
      description: 'A secured rejoin failed.',
      fields: { status: z.number().int().nullable().describe('rejoin response status (null: no response)') },
    },
    'leave-requested': {
      description: 'The node obeys a leave (a Mgmt_Leave_req from the Trust Centre).',
      fields: { by: eui64OrShort.describe('who asked') },
    },
    // coordinator / Trust Centre
    associated: {
      description: 'The coordinator associated a joiner.',
      fields: { eui64, short, rxOnWhenIdle: z.boolean().describe('false: a sleepy end device') },
    },
    'transport-key': {
      description:
        'The network key was sent (`to`, Trust Centre) or received (`from`, joiner) in a Transport Key.',
      fields: {
        keyType: z.literal('network'),
        to: eui64.optional(),
        from: eui64.optional(),
        status: z.string().optional().describe('the send status (Trust Centre side)'),
        keySequenceNumber: z.number().int().min(0).max(255).optional(),
      },
    },
    'child-authenticated': {
      description: 'A joined child sent its first NWK-secured frame: it holds the network key.',
      fields: { eui64 },
    },
    'child-left': {
      description: 'A child announced it left.',
      fields: { eui64 },
    },
    'child-removed': {
      description: 'The coordinator removed a child (Device Log removal).',
      fields: { eui64 },
    },
    'rejoin-response': {
      description: 'The coordinator answered a secured rejoin.',
      fields: {
        to: eui64,
        short,
        status: z.number().int().describe('0: success'),
        delivery: z.string().describe('the send status of the response'),
      },
    },
    'device-announced': {
      description: 'A Device_annce was heard.',
      fields: { eui64, short },
    },
    'address-resolved': {
      description: "An EUI64's short address was looked up (NWK_addr_req).",
      fields: { eui64, short: short.nullable().describe('null: no answer') },
    },
    // keys
    'link-key': {
      description: 'A link key with a peer was installed (persisted before use).',
      fields: { peer: eui64, origin: linkKeyOrigin },
    },
    'link-key-removed': {
      description: 'A link key was forgotten (Reset HAN, Device Log removal).',
      fields: { peer: eui64 },
    },
    'partner-key': {
      description:
        'A partner link key (APS Request Key) was sent or refused by the Trust Centre, or received.',
      fields: {
        requester: eui64,
        partner: eui64,
        status: z.enum(['sent', 'refused', 'received']),
      },
    },
    'key-export': {
      description:
        "A key the node learned or made, for the run's Wireshark key file (`key` or `linkKey`; `networkKey` and `label` from other devices).",
      fields: {
        kind: z.enum(['network', 'link']).optional(),
        origin: z.enum(['network', 'install-code', 'cbke', 'partner']).optional(),
        key: hex32.optional(),
        linkKey: hex32.optional().describe('a CBKE link key'),
        networkKey: hex32.optional(),
        label: z.string().optional().describe('the key file label (made from the other fields when absent)'),
        reporter: eui64.optional().describe('the node reporting it'),
        peer: eui64.optional().describe("a link key's peer"),
        keySequenceNumber: z.number().int().min(0).max(255).optional(),
        suite: z.number().int().optional().describe('CBKE suite (1 or 2)'),
        initiator: eui64.optional().describe('CBKE initiator'),
        responder: eui64.optional().describe('CBKE responder'),
      },
    },
    // frames
    'frame-dropped': {
      description: 'A received frame was not accepted (the reasons per layer are listed below).',
      fields: {
        layer: listedString(Object.fromEntries(Object.keys(FRAME_DROP_REASONS).map((l) => [l, l]))).describe(
          '`MAC`, `NWK`, `APS`, `ZDO`, `INTERPAN`, or `NODE` (a handler failed)',
        ),
        reason: listedString(ALL_DROP_REASONS).describe("one of the layer's frame drop reasons (below)"),
        from: z.string().optional().describe('the source EUI64 (`unknown` when not known)'),
        counter: z.number().int().optional().describe('frame counter (NWK, APS, Inter-PAN) or APS counter'),
        last: z.number().int().optional().describe('the last counter accepted from that source'),
        detail: z.string().optional().describe("the decoder's or handler's message"),
        source: z.number().int().optional().describe('NWK source short address'),
        destination: z.number().int().optional().describe('NWK destination short address'),
        seq: z.number().int().optional().describe('MAC sequence number'),
        keyId: z.string().optional().describe('the APS key identifier used'),
        security: z
          .string()
          .optional()
          .describe('the protection it came with (`none`, `nwk`, `link/data`, ...)'),
        command: z.string().optional().describe('the NWK command'),
        nwkSource: z.number().int().optional().describe('NWK source short address'),
        macSource: z
          .union([z.number().int(), z.string()])
          .optional()
          .describe('MAC source (`none` if absent)'),
        claimed: z.string().optional().describe('the source EUI64 the frame claims'),
        securedBy: z.string().optional().describe('whose key secured it (`none` if unsecured)'),
        by: eui64OrShort.optional().describe('who sent the leave request'),
        partner: eui64.optional().describe("a Transport Key's partner"),
        block: z.number().int().optional().describe('APS fragment block number'),
        blocks: z.number().int().optional().describe('APS fragment blocks expected'),
        received: z.number().int().optional().describe('APS fragment blocks received'),
        fragmentation: z.number().int().optional().describe('APS extended header fragmentation field'),
      },
      check: (e) => {
        const reasons = FRAME_DROP_REASONS[e.layer as FrameDropLayer] as ValueList | undefined;
        return reasons !== undefined && e.reason !== undefined && !Object.hasOwn(reasons, e.reason as string)
          ? `reason ${JSON.stringify(e.reason)} is not a ${String(e.layer)} frame drop reason`
          : null;
      },
    },
    'nwk-relayed': {
      description: 'The coordinator relayed an NWK frame to a child.',
      fields: { to: eui64, status: z.string().describe('the send status') },
    },
    'nwk-command-ignored': {
      description: 'An NWK command this node does not act on.',
      fields: { command: z.string() },
    },
    'aps-command-ignored': {
      description: 'An APS command this node does not act on.',
      fields: { command: z.string() },
    },
    'send-failed': {
      description:
        'A frame could not be sent: by the node (`reason`) or by an application (`what`, `status`).',
      fields: {
        reason: z
          .enum(['no-address', 'nvm'])
          .optional()
          .describe('no short address for the peer, or an NVM write failed'),
        what: z.string().optional().describe("the application's name for the frame (`request-tunnel`, ...)"),
        to: z.string().optional().describe('the peer (EUI64)'),
        status: z
          .string()
          .optional()
          .describe(
            'a send status (`no-ack`, `no-link-key`, `not-joined`, `radio-refused`), `error`, `no-tunnel`',
          ),
        interPan: z.boolean().optional().describe('sent as Inter-PAN'),
        detail: z.string().optional().describe('the NVM error'),
        message: z.string().optional().describe('the error thrown'),
      },
    },
    'application-error': {
      description: "An application's ZCL handler threw (the frame is dropped).",
      fields: { detail: z.string() },
    },
    // APS fragmentation (05-3474 §2.2.8.4.5)
    'aps-fragmented-send': {
      description: 'An APS-fragmented send finished.',
      fields: {
        to: eui64,
        counter: z.number().int().describe('APS counter'),
        blocks: z.number().int().min(2),
        sentBlocks: z.number().int().min(0).describe('blocks acknowledged'),
        octets: z.number().int().describe('ASDU length'),
        status: z.string().describe('the send status'),
      },
    },
    'aps-reassembled': {
      description: 'An APS-fragmented ASDU was reassembled.',
      fields: { from: eui64, counter: z.number().int(), octets: z.number().int() },
    },
    // MAC
    'mac-no-ack': {
      description: 'A frame went unacknowledged after every retry.',
      fields: {
        seq: z.number().int().min(0).max(255).describe('MAC sequence number'),
        to: z.string().describe('the MAC destination: an EUI64, `0x<short>`, or `-`'),
      },
    },
    'mac-channel-access-failure': {
      description: 'CSMA-CA found the channel busy every time.',
      fields: {},
    },
    'mac-indirect-expired': {
      description: 'A frame held for a sleepy child expired unpolled.',
      fields: { to: z.string().describe('the child (EUI64 or short address key)') },
    },
    'mac-encode-failed': {
      description: 'A MAC frame could not be encoded.',
      fields: { error: z.string() },
    },
    // security log and alerts
    'security-log': {
      description: 'An entry was written to the Security Log (NVM).',
      fields: {
        event: z
          .string()
          .describe('what happened (`join-refused`, a refusal reason, `optical-unlocked`, ...)'),
        detail: securityDetail.optional(),
      },
    },
    alert: {
      description: 'A GB alert was queued (NVM) for the CH / DCC.',
      fields: {
        code: z.number().int().min(0).max(0xffff).describe('GB alert code'),
        codeHex: z.string().describe('the code as `0x8F3E`'),
        event: z.string().describe('the Security Log event that raised it'),
      },
    },
    'alert-dropped': {
      description:
        'The alert queue was full (its capacity, e.g. 64 alerts waiting for the WAN): the oldest alert was dropped to make room; counted in NVM (`stack.alertsDropped`).',
      fields: {
        code: z.number().int().min(0).max(0xffff).describe("the dropped alert's GB alert code"),
        codeHex: z.string().describe('the code as `0x8F3E`'),
        dropped: z.number().int().describe('alerts dropped so far (all power cycles)'),
      },
    },
    'alert-sent': {
      description: 'A queued alert was confirmed delivered and left the queue.',
      fields: { code: z.number().int().min(0).max(0xffff).describe('GB alert code') },
    },
  },
  {
    lists: Object.fromEntries(
      Object.entries(FRAME_DROP_REASONS).map(([l, r]) => [`frame drop reasons (${l})`, r]),
    ),
  },
);

export type StackTraceEvent = TraceEventOf<typeof STACK_TRACE_EVENTS>;
