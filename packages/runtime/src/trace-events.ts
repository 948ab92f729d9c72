/**
 * The trace events of the application runtime GB devices share (CBKE service, cluster
 * server, GB-HGRP tunnel server, alerts, Inter-PAN pairing, joiner runtime), declared once in
 * `APP_TRACE_EVENTS`. Events several device packages emit (`app-drop`, `app-joined`,
 * `control-refused`, `zcl-default-response`, `tunnel-data-in/out`) are declared here, the
 * lowest package they share.
 */
import {
  defineTraceEvents,
  eui64Field,
  listedString,
  type TraceEventOf,
  type ValueList,
} from '@gbhan/radio-bus';
import type { DeviceTraceEvent } from '@gbhan/stack';
import type { StackTraceEvent } from '@gbhan/stack/trace-events';
import { z } from 'zod';

/**
 * Why an application refused a frame (`app-drop` `reason` -> meaning), for every device. The
 * cluster server's refusals carry their detail after the reason (`unsupported-command
 * selectEmergencyCredit`, `handler-error: ...`).
 */
export const APP_DROP_REASONS = {
  // any application
  'malformed-zcl': 'the ZCL frame did not decode',
  'not-aps-secured': 'needs APS link-key security and came without',
  'inter-pan-not-accepted': 'Inter-PAN to a device that serves none',
  'unsupported-cluster': 'no server for the cluster',
  'unsupported-global-command': 'a ZCL global command the server does not serve',
  'unsupported-command': 'a cluster command the server does not serve',
  'handler-error': 'the cluster handler threw (its message after the reason)',
  status: 'the handler answered a status other than SUCCESS (`status 0x<code> for <command>`)',
  'unexpected-command': 'a command the device does not expect',
  'unknown-peer': 'from a device it does not talk to',
  'not-expected': 'a frame the device did not ask for',
  // CBKE
  'inter-pan-cbke-unsupported': 'Key Establishment over Inter-PAN to a service that does not take it',
  'unsecured-key-establishment': 'Key Establishment on the network without NWK security',
  'inter-pan-global-command': 'a ZCL global command over Inter-PAN',
  'not-a-responder': 'an Initiate Key Establishment to a device that only initiates',
  'trust-centre-is-not-initiator': 'an Initiate Key Establishment from the CH, which only responds',
  'no-exchange-with-peer': 'a Key Establishment response with no exchange running with that peer',
  'malformed-key-establishment': 'a Key Establishment command that did not decode',
  // GB-HGRP tunnel
  'tunnel-response-to-server': 'a tunnel response sent to the tunnel server',
  'tunnel-without-aps-security': 'tunnel traffic without APS link-key security',
  'close-unknown-tunnel': 'Close Tunnel for a tunnel the client does not have',
  'unsupported-tunnel-command': 'a Tunneling command not served',
  'tunnel-client-not-allowed': 'a Request Tunnel from a device other than its CH',
  'no-such-tunnel': 'Transfer Data on a tunnel that does not exist',
  'tunnel-wrong-device': "Transfer Data on another client's tunnel",
  'tunnel-data-overflow': 'Transfer Data longer than the tunnel takes',
  'chf-is-tunnel-client': 'a tunnel request to the CHF, which is only a client',
  'gsme-is-tunnel-client': "a tunnel request to the GSME, which is only the GPF's client",
  'tunnel-notice-unknown-tunnel':
    'a Transfer Data Error / Closure Notification for a tunnel the GSME does not have open',
  // GBCS
  'bad-gbcs-tunnel': 'a GB-HGRP frame (GET / GET-RESPONSE / PUT) that did not decode',
  'no-gbcs-path': 'GBCS in the tunnel to a hub without a DCC',
  'not-gbcs': 'a tunnelled command without GBCS to a meter without GBCS credentials',
  'unexpected-request-tunnel-response': 'a Request Tunnel Response nobody waits for',
  'transfer-data-unknown-tunnel': 'Transfer Data from a server on a tunnel the CHF does not have open',
  'bad-tunnel-payload': 'tunnelled data that is no tunnelled ZCL frame (CHF)',
  'bad-tunnel-envelope': 'tunnelled data that is no tunnelled ZCL frame (tunnel server)',
  // alerts
  'malformed-alert-response': 'an answer to an alert that did not decode',
  'unexpected-alert-response': 'an answer to an alert not awaited, or not from its CH',
  'device-alert-not-aps-secured': 'a device alert without APS link-key security',
  'device-alert-outside-tunnel':
    'a device alert outside its tunnel from a tunnel server (only a GSME sends direct)',
  'malformed-device-alert': 'a device alert that did not decode',
  'device-alert-not-stored': 'a device alert the CH could not keep (no queue, or an NVM failure)',
  // CH
  'not-in-device-log': 'from a device not in the Device Log',
  'interpan-window-closed': "Inter-PAN outside the CH's window",
  'interpan-cbke-backoff': 'Inter-PAN Key Establishment from a source still backed off',
  'interpan-not-served': 'an Inter-PAN cluster the CH does not serve',
  'handover-not-secured': 'an install-code hand-over without APS security',
  'handover-without-cbke': 'an install-code hand-over from a device without Inter-PAN CBKE first',
  'malformed-handover': 'an install-code hand-over that did not decode',
  'gsme-not-aps-secured': 'a frame from a GSME to the GPF without APS security',
  'report-without-summation': 'a GSME report without its summation',
  'not-from-gpf': 'a GSME frame from another device than its GPF',
  // Inter-PAN pairing (HHT, PPMID)
  'unexpected-handover-frame': 'a hand-over frame not awaited',
  'interpan-not-expected': 'an Inter-PAN frame not awaited',
  // PPMID
  'ppmid-serves-no-cluster': 'a request to the PPMID, which serves no cluster',
} as const satisfies ValueList;

const eui64 = eui64Field;
const clusterId = z.number().int().min(0).max(0xffff);
const role = z.enum(['initiator', 'responder']);
const tunnelId = z.number().int().min(0).max(0xffff);
const zclStatus = z.number().int().min(0).max(0xff);
const hub = z
  .strictObject({
    epid: eui64Field.describe("the hub's Extended PAN ID"),
    panId: z.number().int(),
    page: z.number().int(),
    channel: z.number().int(),
    lqi: z.number().int(),
    permitJoin: z.boolean(),
  })
  .describe('a CH heard in a beacon');

export const APP_TRACE_EVENTS = defineTraceEvents(
  'runtime',
  'The application runtime GB devices share: CBKE, tunnels, alerts, Inter-PAN pairing, joins, refusals.',
  {
    // CBKE service
    'cbke-start': {
      description: 'A Key Establishment exchange started.',
      fields: { role, peer: eui64, interPan: z.boolean().optional().describe('over Inter-PAN') },
    },
    'cbke-send': {
      description: 'A Key Establishment command was sent.',
      fields: {
        peer: eui64,
        command: z.enum([
          'InitiateKeyEstablishment',
          'EphemeralData',
          'ConfirmKeyData',
          'TerminateKeyEstablishment',
        ]),
        direction: z.enum(['request', 'response']),
      },
    },
    'cbke-encode-failed': {
      description: 'A Key Establishment command could not be encoded (not sent).',
      fields: { peer: eui64, message: z.string() },
    },
    'cbke-established': {
      description: 'Key Establishment succeeded: the CBKE link key with the peer is installed.',
      fields: {
        role,
        peer: eui64,
        suite: z.number().int().describe('1 (sect163k1) or 2 (sect283k1)'),
        via: z.enum(['interpan', 'han']).describe('over Inter-PAN (pairing) or on the HAN'),
      },
    },
    'cbke-failed': {
      description: 'Key Establishment failed.',
      fields: {
        role,
        peer: eui64,
        reason: z.string().describe('the CBKE failure (`CBKE_TIMEOUT`, `CBKE_UNKNOWN_ISSUER`, ...)'),
        message: z.string(),
        terminateStatus: z.number().int().optional().describe('status of the Terminate sent or received'),
      },
    },
    'zcl-default-response': {
      description: 'A ZCL Default Response arrived.',
      fields: {
        from: eui64,
        clusterId,
        cmdId: z.number().int().optional().describe('the command it answers'),
        status: zclStatus.optional(),
        payload: z.unknown().optional().describe('the decoded response (`cmdId`, `statusCode`)'),
      },
    },
    // every application
    'app-drop': {
      description: 'An application refused a frame (the reasons are listed below).',
      fields: {
        from: eui64,
        clusterId: clusterId.optional(),
        reason: listedString(APP_DROP_REASONS, { detailAfter: true }).describe(
          'an application drop reason (below)',
        ),
        detail: z.string().optional(),
        via: z.enum(['tunnel', 'direct', 'gpf']).optional().describe('how an alert or its answer came'),
        code: z.number().int().optional().describe("a device alert's code"),
        codeHex: z.string().optional().describe("a device alert's code as `0x8F3F`"),
        logId: z.number().int().optional().describe("a device alert's Log ID"),
        eventTimeUs: z.number().int().optional().describe("a device alert's time (virtual, us)"),
      },
    },
    'app-joined': {
      description: "A device's application started on the network (after join or rejoin).",
      fields: { device: z.enum(['ESME', 'GSME', 'PPMID']) },
    },
    'control-refused': {
      description: 'A device refused a scenario action (powered off, unknown, or it failed).',
      fields: {
        action: z.string(),
        reason: z.string().describe('`powered-off`, `unknown-action`, `bad-channel`, or the error message'),
        page: z.number().int().optional().describe("a plain radio's refused `set-channel`"),
        channel: z.number().optional().describe("a plain radio's refused `set-channel`"),
      },
    },
    'join-retry': {
      description: 'A join (or rejoin) attempt did not succeed; the device tries again later.',
      fields: { result: z.enum(['no-network', 'refused', 'no-key', 'busy', 'powered-off', 'not-paired']) },
    },
    // alerts
    'alert-unconfirmed': {
      description: 'A sent alert was not confirmed by the CH: it stays queued.',
      fields: {
        code: z.number().int().describe('GB alert code'),
        codeHex: z.string().describe('the code as `0x8F3F`'),
        tsn: z.number().int().describe('ZCL transaction sequence number'),
        reason: z
          .string()
          .describe(
            '`send-failed`, `timeout`, `superseded`, `stopped`, `status-0x<ZCL status>`, `transfer-data-error-0x<status>`, `tunnel-closed`',
          ),
        retryInUs: z.number().int().optional().describe('when it is tried again (not after `stopped`)'),
      },
    },
    // GB-HGRP tunnel server
    'tunnel-request': {
      description: 'The tunnel server answered a Request Tunnel.',
      fields: { client: eui64, status: z.number().int().describe('TunnelStatus (0: success)'), tunnelId },
    },
    'tunnel-closed': {
      description: 'The tunnel server closed a tunnel.',
      fields: {
        client: eui64,
        tunnelId,
        by: z.enum(['client', 'no-such-tunnel']).describe('the client closed it, or reported it unknown'),
      },
    },
    'tunnel-data-error': {
      description: 'The client reported a Transfer Data Error.',
      fields: { client: eui64, tunnelId, status: z.number().int().describe('TransferDataStatus') },
    },
    'tunnel-data-in': {
      description: 'Data arrived through a tunnel (`client`: at the server; `peer`: at the CHF).',
      fields: {
        client: eui64.optional(),
        peer: eui64.optional(),
        tunnelId,
        length: z.number().int().describe('octets'),
      },
    },
    'tunnel-data-out': {
      description: 'Data was sent through a tunnel (`client`: by the server; `peer`: by the CHF).',
      fields: {
        client: eui64.optional(),
        peer: eui64.optional(),
        tunnelId,
        length: z.number().int().describe('octets'),
      },
    },
    // Inter-PAN pairing (HHT, SECMP0037 PPMID)
    'interpan-scan': {
      description: 'An Inter-PAN pairing scan finished.',
      fields: { hubs: z.array(hub) },
    },
    'interpan-pairing': {
      description: 'Inter-PAN pairing with a CH ended.',
      fields: {
        result: z.enum(['paired', 'no-hub', 'cbke-failed', 'handover-timeout', 'handover-refused']),
        ch: eui64.optional(),
        panId: z.number().int().optional(),
        status: z.number().int().optional().describe('the hand-over status'),
        detail: z.string().optional().describe('why CBKE failed'),
      },
    },
    'interpan-handover-sent': {
      description: 'The install-code hand-over was sent to the CH.',
      fields: { ch: eui64, deviceType: z.string() },
    },
  },
  { lists: { 'application drop reasons': APP_DROP_REASONS } },
);

export type AppTraceEvent = TraceEventOf<typeof APP_TRACE_EVENTS>;

/** What application code may trace: the runtime's events and the stack's it shares (`send-failed`, `key-export`). */
export type AppEmitted = AppTraceEvent | StackTraceEvent;

/** `host.trace(event)`, with the compiler holding `event` to its declaration. */
export function traceApp(host: { trace(event: DeviceTraceEvent): void }, event: AppEmitted): void {
  host.trace(event);
}
