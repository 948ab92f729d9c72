/**
 * The Communications Hub's trace events (CHF and GPF), declared once in
 * `COMMS_HUB_TRACE_EVENTS`. The stack's and the shared application runtime's events are in
 * `@gbhan/stack`.
 */
import { defineTraceEvents, eui64Field, listOf, type TraceEventOf } from '@gbhan/radio-bus';
import type { AppEmitted } from '@gbhan/runtime';
import type { DeviceTraceEvent } from '@gbhan/stack';
import { z } from 'zod';
import type { DeviceLogErrorCode } from './device-log.js';
import type { WanErrorCode } from './wan.js';

// Types only: a catalogue loads no protocol code.
const WAN_ERROR_CODES = listOf<WanErrorCode>()([
  'WAN_DOWN',
  'WAN_BAD_COMMAND',
  'WAN_UNKNOWN_DEVICE',
  'WAN_WRONG_DEVICE_TYPE',
  'WAN_NO_TUNNEL',
  'WAN_DEVICE_LOG',
]);
const DEVICE_LOG_ERROR_CODES = listOf<DeviceLogErrorCode>()([
  'DEVICE_LOG_BAD_EUI64',
  'DEVICE_LOG_BAD_TYPE',
  'DEVICE_LOG_BAD_INSTALL_CODE',
  'DEVICE_LOG_FULL',
  'DEVICE_LOG_NOT_FOUND',
]);

const eui64 = eui64Field;
const clusterId = z.number().int().min(0).max(0xffff);
const alertCode = z.number().int().min(0).max(0xffff).describe('GB alert code');
const codeHex = z.string().describe('the code as `0x8F3F`');
const deviceAlert = {
  from: eui64.describe('the device that raised it'),
  code: alertCode,
  codeHex,
  logId: z.number().int().describe('the Log ID it came with'),
  eventTimeUs: z.number().int().describe("the alert's time on the run's clock (virtual, us)"),
  via: z.enum(['tunnel', 'gpf']).describe("through the device's tunnel, or straight to the GPF (GSME)"),
};
const tag = z.string().optional().describe('the DCC request it belongs to');

export const COMMS_HUB_TRACE_EVENTS = defineTraceEvents(
  'comms-hub',
  'The Communications Hub: the WAN side, the Device Log, tunnels to meters, the GPF, the Inter-PAN window.',
  {
    // WAN
    'wan-up': { description: 'The WAN came up (alerts and answers flow to the DCC).', fields: {} },
    'wan-down': { description: 'The WAN went down.', fields: {} },
    'wan-command': {
      description: 'A DCC command was accepted.',
      fields: {
        requestId: z.string().describe('`dcc-<n>`, which its answer (`wan-response`) names'),
        command: z.record(z.string(), z.unknown()).describe('the command as received (JSON)'),
      },
    },
    'wan-command-failed': {
      description: 'A DCC command was refused.',
      fields: {
        requestId: z.string(),
        code: z.enum(WAN_ERROR_CODES),
        message: z.string(),
        command: z.unknown().describe('the command as received (JSON)'),
      },
    },
    'gbcs-command-sent': {
      description:
        "The DCC built a GBCS command (signed when critical, MAC'd by the ACB) and the CH put it in the tunnel (ESME) or the GPF's queue for the GSME's GET.",
      fields: {
        requestId: z.string(),
        target: eui64,
        useCase: z.string().describe('GBCS use case (`CS01a`, `ECS70`, ...)'),
        originator: z.string().describe("the business originator's system title (hex)"),
        counter: z.string().describe('originator counter (decimal)'),
        octets: z.number().int().describe('size of the GBCS message'),
        forged: z.boolean().describe('built wrong on purpose (`forge`) or replayed'),
      },
    },
    'gbcs-command-built': {
      description:
        "SECMP0038: the DCC built a GBCS command (signed when critical, MAC'd by the ACB) for a head-end's `build` request over the DCC link, not sent: the head-end carries it through an enhanced PPMID.",
      fields: {
        requestId: z.string(),
        target: eui64,
        useCase: z.string(),
        counter: z.string().describe('originator counter (decimal)'),
        octets: z.number().int(),
      },
    },
    'dcc-link-refused': {
      description:
        'A request over the DCC link (from a head-end) was refused before the WAN side: not JSON, not a request, or the CH is off. The sender gets `{requestId, ok: false, code, message}`.',
      fields: {
        from: eui64.describe('the sending member (the head-end)'),
        requestId: z.union([z.string(), z.number()]).nullable(),
        code: z.enum(['DCC_BAD_JSON', 'DCC_BAD_REQUEST', 'DCC_CH_OFF', 'DCC_REPLY_TOO_LARGE']),
        message: z.string(),
      },
    },
    'gbcs-han-command': {
      description:
        'A GBCS command came up a tunnel from the HAN side (an enhanced PPMID, SECMP0038): routed to its meter as a WAN one, or refused (Security Log, alert 0x8F30).',
      fields: {
        from: eui64,
        target: z.string().describe('recipient system title (hex)'),
        useCase: z.string(),
        counter: z.string().describe('originator counter (decimal)'),
        routed: z.boolean(),
        requestId: z.string().optional().describe('`han-<n>`, which its `gbcs-response` names'),
        reason: z
          .enum(['secmp0038-off', 'not-a-ppmid', 'unknown-target', 'no-route'])
          .optional()
          .describe("why it was refused (`secmp0038-off`: today's GB rule)"),
      },
    },
    'gbcs-response-to-ppmid': {
      description: "A meter's response to a command a PPMID passed on went back to that PPMID (SECMP0038).",
      fields: {
        ppmid: eui64,
        from: eui64.describe('the meter'),
        counter: z.string(),
        sent: z.boolean().describe('false: no tunnel to the PPMID'),
      },
    },
    'gbcs-response': {
      description:
        "A meter's GBCS response (the ESME's PUT through the CHF's tunnel, the GSME's PUT to the GPF), as the DCC checked it (MAC or signature).",
      fields: {
        requestId: z.string().nullable().describe('null: an answer to no pending command'),
        from: eui64,
        useCase: z.string().nullable(),
        counter: z.string().nullable().describe("the command's originator counter"),
        authenticated: z.boolean(),
        refusal: z.string().nullable().describe('why the DCC refused the response'),
        results: z
          .array(z.number().int())
          .describe(
            'DLMS data-access-results, or per GBZ component the ZCL status / Consumer Top Up result type (0 success)',
          ),
        data: z.unknown().describe('DLMS data returned, or the GBZ components (JSON)'),
        delivered: z.boolean().describe('false while the WAN is down (not stored)'),
      },
    },
    'wan-response': {
      description: "A device's answer to a DCC command (or the GPF mirror's), for the DCC.",
      fields: {
        requestId: z.string().nullable().describe('null: an answer to no pending command'),
        from: eui64,
        via: z.enum(['tunnel', 'gpf', 'gpf-mirror']),
        clusterId,
        command: z.string().describe('the ZCL command of the answer (`readRsp`, ...), `mirror`'),
        payload: z.unknown().describe('its decoded payload (JSON)'),
        delivered: z.boolean().describe('false while the WAN is down (not stored)'),
      },
    },
    'wan-alert': {
      description: "An alert went to the DCC (the CH's own, or relayed for a device).",
      fields: {
        code: alertCode,
        codeHex,
        from: eui64.optional().describe('the device that raised it (relayed alerts)'),
        detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      },
    },
    // Device Log
    'device-log': {
      description: 'The Device Log changed.',
      fields: {
        op: z.enum(['add', 'remove', 'commissioned']),
        eui64,
        deviceType: z.string().describe('GB device type (`ESME`, `GSME`, `PPMID`, ...)'),
      },
    },
    'device-log-refused': {
      description: 'A device not in the Device Log was refused.',
      fields: {
        eui64,
        reason: z.literal('not-in-device-log'),
        what: z.string().optional().describe('what it tried (`cbke`, `zcl 0x0702`); absent: joining'),
      },
    },
    'device-log-error': {
      description: 'A Device Log update was refused.',
      fields: {
        op: z.enum(['add', 'remove']),
        code: z.enum(DEVICE_LOG_ERROR_CODES),
        message: z.string(),
        eui64: eui64.optional(),
      },
    },
    // device alerts
    'device-alert': {
      description: "A device's alert arrived and was accepted for the DCC.",
      fields: deviceAlert,
    },
    'device-alert-duplicate': {
      description: 'A device sent an alert again (its confirmation was lost): confirmed, not relayed twice.',
      fields: deviceAlert,
    },
    // tunnels (the CHF is the GB-HGRP tunnel client)
    'tunnel-request-sent': {
      description: 'The CHF asked a device for a GB-HGRP tunnel.',
      fields: {
        peer: eui64,
        why: z
          .string()
          .describe(
            "`after-cbke`, `power-on`, `device-rejoined`, `message-without-tunnel`, a lost tunnel's notice, `retry-after-<why>`",
          ),
      },
    },
    'tunnel-established': {
      description: 'A tunnel to a device is open.',
      fields: { peer: eui64, tunnelId: z.number().int() },
    },
    'tunnel-request-failed': {
      description: 'A tunnel request failed; it is retried later.',
      fields: {
        peer: eui64,
        why: z.string().describe('`no-response`, `busy`, `status-<n>`, `send-<status>`'),
        retryInUs: z.number().int().describe('microseconds until the next request'),
      },
    },
    'tunnel-lost': {
      description: 'The server reported the tunnel gone (Transfer Data Error, Closure Notification).',
      fields: {
        peer: eui64,
        why: z.string().describe('the ZCL command'),
        status: z.unknown().optional().describe('the status it carried'),
      },
    },
    // GPF
    'gpf-queued': {
      description: 'The GPF queued a frame for its sleepy GSME.',
      fields: { gsme: eui64, clusterId, depth: z.number().int().describe('frames now queued'), tag },
    },
    'gpf-queue-overflow': {
      description: 'The GPF dropped the oldest frame of a full GSME queue.',
      fields: { gsme: eui64, clusterId, tag },
    },
    'gpf-deliver': {
      description: 'The GPF sent a queued frame to its GSME (it woke).',
      fields: { gsme: eui64, clusterId, tag },
    },
    'gpf-gsme-reply': {
      description: 'A GSME answered a frame the GPF delivered (when no WAN side takes the answer).',
      fields: { gsme: eui64, clusterId, command: z.string() },
    },
    'gpf-gbcs-queued': {
      description: "The GPF holds a GBCS command for its GSME until the GSME's GET.",
      fields: { gsme: eui64, depth: z.number().int().describe('GBCS messages now waiting'), tag },
    },
    'gpf-gbcs-overflow': {
      description: "The GPF dropped the oldest GBCS command of a GSME's full queue.",
      fields: { gsme: eui64, tag },
    },
    'gpf-get': {
      description: 'A GSME sent GET (`01`) through its tunnel with the GPF.',
      fields: { gsme: eui64, queued: z.number().int().describe('GBCS messages waiting (0: not answered)') },
    },
    'gpf-get-response': {
      description: 'The GPF answered a GET with GET-RESPONSE (`02`): the oldest waiting GBCS command.',
      fields: { gsme: eui64, remaining: z.number().int().describe('messages still waiting after it'), tag },
    },
    'gpf-mirror-update': {
      description: "The GPF's Metering mirror of a GSME was updated (check-in).",
      fields: { gsme: eui64, summation: z.number().describe('litres') },
    },
    // Inter-PAN
    'interpan-window': {
      description: "The CH's Inter-PAN window: opened at power-on, time left, closed, or cut by a power-off.",
      fields: {
        state: z.enum(['open', 'time-left', 'closed', 'power-off']),
        durationUs: z
          .union([z.number().int(), z.literal('unlimited')])
          .optional()
          .describe('(`open`)'),
        leftUs: z.number().int().nullable().optional().describe('(`open`, `time-left`; null: unlimited)'),
        openUs: z.number().int().optional().describe('how long it was open (`closed`, `power-off`)'),
      },
    },
    'interpan-backoff': {
      description: 'The CH will ignore an Inter-PAN initiator it sent a Terminate to for its wait time.',
      fields: {
        peer: eui64,
        terminateStatus: z.number().int().describe('the status of the Terminate sent'),
        untilUs: z.number().int().describe('virtual time it is served again'),
      },
    },
    'interpan-handover': {
      description: 'The CH took (or refused) an install-code hand-over after Inter-PAN CBKE.',
      fields: {
        peer: eui64,
        entityId: z.string().describe('the EUI64 the hand-over names'),
        deviceType: z.string(),
        status: z.number().int().describe('0: added to the Device Log'),
      },
    },
    'interpan-report': {
      description: "The run's Inter-PAN exposure (action `interpan-report`).",
      fields: {
        windowUs: z.union([z.number().int(), z.literal('unlimited')]).describe('the configured window'),
        totalOpenUs: z.number().int().describe('time the window was open so far'),
        frames: z
          .record(z.string(), z.strictObject({ processed: z.number().int(), dropped: z.number().int() }))
          .describe('per source: Inter-PAN frames processed and dropped'),
      },
    },
  },
);

export type CommsHubTraceEvent = TraceEventOf<typeof COMMS_HUB_TRACE_EVENTS>;

/** What comms-hub code may trace: its own events and the stack's. */
export type CommsHubEmitted = CommsHubTraceEvent | AppEmitted;

/** `host.trace(event)`, with the compiler holding `event` to its declaration. */
export function traceHub(host: { trace(event: DeviceTraceEvent): void }, event: CommsHubEmitted): void {
  host.trace(event);
}
