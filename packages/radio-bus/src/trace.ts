/**
 * The bus's trace: every transmission, delivery, drop and radio state change as a typed
 * event with its virtual time. Assertions and reports read this, not the bus's internals.
 * The events are declared once, in `BUS_TRACE_EVENTS`; `BusTraceEvent` is derived from it.
 */
import { z } from 'zod';
import { LINK_DROP_REASONS } from './link-config.js';
import { BANDS } from './phy.js';
import { BUS_ERROR_CODES, DUTY_CYCLE_STATES } from './protocol.js';
import { defineTraceEvents, eui64Field, listedEnum, type TraceEventOf } from './trace-catalogue.js';

/** Why the bus did not deliver a frame to a radio (the bus layer's drop reasons): reason -> meaning. */
export const BUS_DROP_REASONS = {
  'out-of-range': "below the receiver's sensitivity (on its channel)",
  'wrong-channel': 'the receiver was on another channel (or retuned during the frame)',
  collision: 'another audible frame overlapped it (no capture effect unless `captureThresholdDb` is set)',
  loss: "the medium's random loss (`lossRate`)",
  jammed: 'a jammer audible at the receiver was on',
  'duty-cycle': 'GB868 duty cycle: the sender was refused before the frame left (`radio` and `frame` null)',
  'receiver-busy': 'the receiver was transmitting itself',
  'receiver-off':
    'the receiver was powered off (or powered on during the frame); with `trace: compact` only frames its declared address filter would have taken are traced, the others counted per radio (`radios[].offFiltered`)',
  'address-filtered':
    "received, but not addressed to the receiver's declared 802.15.4 filter (traced only with `trace: full`; counted per radio in the summary)",
} as const;
export type DropReason = keyof typeof BUS_DROP_REASONS;

const eui64 = eui64Field;
const radio = eui64.describe('the radio (EUI64)');
const band = z.enum(BANDS as readonly ['2.4GHz', 'GB868']);
const page = z.number().int().min(0).describe('channel page (0: 2.4 GHz, 28-31: GB868)');
const channel = z.number().int().min(0);
const link = z.string().describe('the link (its name in the bus config)');
const linkMsg = z
  .number()
  .int()
  .min(0)
  .describe("the bus's number for the link message, in `link-send` order");
const frame = z.number().int().min(0).describe("the bus's number for the transmission (its `tx` event)");

export const BUS_TRACE_EVENTS = defineTraceEvents(
  'radio-bus',
  'Events of the air itself, written by the bus: what was sent, heard, lost, and radio state changes.',
  {
    attach: {
      description: 'A radio registered with the bus (also a device restarted after a crash).',
      fields: {
        radio,
        name: z.string().optional().describe("the radio's name (a scenario's device id)"),
        band,
        page,
        channel,
        position: z
          .strictObject({ x: z.number(), y: z.number(), z: z.number().optional() })
          .describe('metres'),
      },
    },
    detach: {
      description: 'A radio left the bus.',
      fields: {
        radio,
        reason: z
          .string()
          .describe(
            '`bye`, `disconnected`, `shutdown`, a bus error code (the client was dropped), or what the controller gave (`crashed`: a scenario crash)',
          ),
      },
    },
    tx: {
      description: 'A frame went on the air.',
      fields: {
        radio,
        frame,
        band,
        page,
        channel,
        bytes: z.number().int().min(1).describe('PSDU length, octets'),
        airtimeUs: z.number().int().min(0).describe('time on air, microseconds'),
        psdu: z
          .string()
          .regex(/^([0-9a-f]{2})+$/, 'lowercase hex')
          .describe('the PSDU, hex'),
      },
    },
    rx: {
      description: 'A radio received a frame.',
      fields: {
        radio,
        from: eui64.describe('the sender'),
        frame,
        rssi: z.number().describe('dBm'),
        lqi: z.number().int().min(0).max(255),
      },
    },
    drop: {
      description: 'A frame did not reach a radio that could have heard it, or never left its sender.',
      fields: {
        radio: eui64.nullable().describe('the receiver; null when the sender was refused'),
        from: eui64.describe('the sender'),
        frame: frame.nullable().describe('the transmission; null when it never went on the air'),
        reason: listedEnum(BUS_DROP_REASONS).describe('a bus drop reason (below)'),
      },
    },
    channel: {
      description: 'A radio tuned to another channel.',
      fields: {
        radio,
        page,
        channel,
        band: band.optional().describe('set when the radio asked for a band (it may have changed band)'),
      },
    },
    power: {
      description: "A radio's receiver and transmitter were switched on or off.",
      fields: { radio, on: z.boolean() },
    },
    'duty-cycle': {
      description: "A GB868 radio's duty-cycle state changed (thresholds over the rolling hour).",
      fields: {
        radio,
        state: z.enum(DUTY_CYCLE_STATES),
        percent: z.number().min(0).describe('airtime used in the rolling hour, percent'),
      },
    },
    jam: {
      description: 'A jammer switched on or off.',
      fields: {
        page,
        channel,
        band,
        on: z.boolean(),
        jammer: z
          .number()
          .int()
          .min(0)
          .describe("the jammer's index (medium jammers first, then radio faults)"),
      },
    },
    error: {
      description: 'The bus dropped a client for a protocol violation or a limit.',
      fields: {
        radio: eui64.nullable().describe('null when the client had not registered'),
        code: z.enum(BUS_ERROR_CODES),
        message: z.string(),
      },
    },
    device: {
      description: "A device's own event (joins, keys, logs, ...), stamped by the bus with time and radio.",
      fields: {
        radio,
        event: z
          .record(z.string(), z.unknown())
          .describe("`{type, ...}`: one of the device events (the devices' catalogues)"),
      },
    },
    control: {
      description: "A command the run's controller (a scenario timeline) sent to a radio's device.",
      fields: {
        radio,
        command: z.record(z.string(), z.unknown()).describe('`{action, ...args}` as delivered'),
        delivered: z.boolean().describe('false when the radio was not on the bus'),
      },
    },
    'link-delivered': {
      description: 'A message sent over a wired/IP link reached its addressee (`link-rx`).',
      fields: {
        link,
        msg: linkMsg,
        from: eui64.describe('the sender'),
        to: eui64.describe('the addressee'),
        octets: z.number().int().min(1).describe('the data, octets'),
        delayUs: z
          .number()
          .int()
          .min(0)
          .describe('from `link-send` to delivery: queueing + serialization + latency, us'),
      },
    },
    'link-drop': {
      description:
        'A message sent over a wired/IP link was not delivered (each message: one delivered or one drop).',
      fields: {
        link: z.string().describe('the link named in `link-send` (it may not exist)'),
        msg: linkMsg,
        from: eui64.describe('the sender'),
        to: eui64.describe('the addressee'),
        reason: listedEnum(LINK_DROP_REASONS).describe('a link drop reason (below)'),
      },
    },
    'link-state': {
      description: 'A wired/IP link went down or came back up (a control, or its outage schedule).',
      fields: {
        link,
        up: z.boolean(),
        cause: z
          .enum(['control', 'outage'])
          .describe('`control`: link-state/wlan-up/wlan-down; `outage`: its schedule'),
      },
    },
    'link-set': {
      description: "A wired/IP link's latency or loss was changed at run time (messages from now on).",
      fields: {
        link,
        latency: z
          .record(z.string(), z.unknown())
          .optional()
          .describe('the new latency distribution, `{kind, ...}` (milliseconds)'),
        loss: z.number().min(0).max(1).optional().describe('the new loss probability'),
      },
    },
  },
  {
    common: { t: z.number().int().min(0).describe('virtual time, microseconds') },
    lists: { 'bus drop reasons': BUS_DROP_REASONS, 'link drop reasons': LINK_DROP_REASONS },
  },
);

export type BusTraceEvent = TraceEventOf<typeof BUS_TRACE_EVENTS>;

export type TraceListener = (event: BusTraceEvent) => void;
