/**
 * The `radio` device type: a plain 802.15.4 radio (no ZigBee stack) that sends real MAC
 * frames on a schedule - data requests that the addressed radio acknowledges, beacons, beacon
 * requests - and acknowledges frames sent to its short address. Good for air demos, range
 * and interference checks, and as a neighbour's radio. It reports `{type:'acked', seq}` when
 * an acknowledgement for its own frame arrives and `{type:'tx-refused', status}` when the bus
 * refuses a transmission (duty cycle, powered off).
 */
import { MILLISECOND } from '@gbhan/clock';
import {
  BusRadio,
  bandOfPage,
  type ClientTransport,
  isValidChannel,
  WebSocketTransport,
} from '@gbhan/radio-bus';
import { decodeMacFrame, encodeMacFrame, type MacFrame, phyForPage, turnaroundUs } from '@gbhan/zigbee';
import { z } from 'zod';
import { type DeviceContext, type DeviceSpec, noArgs, type ScenarioDevice } from './registry.js';
import { duration } from './schema.js';
import { traceScenario } from './trace-events.js';

const u16 = z.number().int().min(0).max(0xffff);

/** One definition for both forms of `config`: as written (durations like 10s) and as loaded (us). */
const radioConfigSchema = <D extends z.ZodType<number, unknown>>(time: D) =>
  z.strictObject({
    pan: u16.default(0x1a62),
    /** Own short address (default: the EUI64's last two bytes). */
    short: u16.optional(),
    /** Send a frame every `period` (omitted or 0: never, until `set-period`). */
    period: time.default(0 as never),
    /** First frame at this virtual time (default: period/2 + (EUI64's last byte mod 7) ms). */
    start: time.optional(),
    frame: z.enum(['data-request', 'beacon', 'beacon-request']).default('data-request'),
    /** Destination short address of data requests. */
    destination: u16.default(0x0000),
    /** Beacons only: how many extended addresses the beacon lists as pending (longer frames). */
    pendingAddresses: z.number().int().min(0).max(7).default(0),
    /** Acknowledge frames addressed to our short address that ask for it. */
    ack: z.boolean().default(true),
  });
export const RadioConfigSchema = radioConfigSchema(duration);
/** `config` of a `gbhan device radio --spec`: what the loader made of it (microseconds). */
export const RadioSpecConfigSchema = radioConfigSchema(z.number().int().min(0));
export type RadioConfig = z.output<typeof RadioConfigSchema>;

export const RADIO_ACTIONS: Record<string, z.ZodType> = {
  'power-on': noArgs,
  'power-off': noArgs,
  'set-channel': z.strictObject({ page: z.number().int().min(0).optional(), channel: z.number().int() }),
  'set-period': z.strictObject({ period: duration }),
  send: noArgs,
};

export class RadioDevice implements ScenarioDevice {
  private seq: number;
  private period: number;
  private awaitingAck: number | null = null;
  private timer: { cancel(): void } | null = null;

  private constructor(
    readonly radio: BusRadio,
    private readonly config: RadioConfig,
    private readonly short: number,
  ) {
    this.seq = Number.parseInt(radio.eui64.slice(-2), 16);
    this.period = config.period;
  }

  static async create(spec: DeviceSpec, transport: ClientTransport): Promise<RadioDevice> {
    const config = spec.config as RadioConfig; // already the output of RadioConfigSchema (the loader parsed it)
    const radio = await BusRadio.connect(transport, spec.registration);
    const short = config.short ?? Number.parseInt(spec.eui64.slice(-4), 16);
    const device = new RadioDevice(radio, config, short);
    radio.onReceive((f) => device.receive(f.psdu));
    radio.onControl((c) => device.control(c));
    if (device.period > 0)
      device.schedule(config.start ?? device.period / 2 + (device.seq % 7) * MILLISECOND);
    return device;
  }

  close(): void {
    if (!this.radio.closed) this.radio.close();
  }

  private schedule(inUs: number): void {
    this.timer?.cancel();
    this.timer = this.radio.clock.setTimer(inUs, () => {
      this.timer = null;
      this.send();
      if (this.period > 0) this.schedule(this.period);
    });
  }

  private control(c: Record<string, unknown>): void {
    switch (c.action) {
      case 'power-on':
        this.radio.setPower(true);
        return;
      case 'power-off':
        this.radio.setPower(false);
        return;
      case 'set-channel': {
        // A page of the other band moves the radio there (page 0: 2.4 GHz, 28-31: GB868).
        const page = typeof c.page === 'number' ? c.page : this.radio.registration.page;
        const channel = Number(c.channel);
        const band = bandOfPage(page);
        if (band === null || !isValidChannel(band, page, channel)) {
          traceScenario(this.radio, {
            type: 'control-refused',
            action: 'set-channel',
            reason: 'bad-channel',
            page,
            channel,
          });
          return;
        }
        this.radio.setChannel(page, channel, band);
        return;
      }
      case 'set-period':
        this.period = Number(c.period);
        if (this.period > 0) this.schedule(this.period);
        else this.timer?.cancel();
        return;
      case 'send':
        this.send();
        return;
      default:
        traceScenario(this.radio, { type: 'unknown-command', action: String(c.action) });
    }
  }

  private receive(psdu: Uint8Array): void {
    let frame: MacFrame;
    try {
      frame = decodeMacFrame(psdu, { fcs: true });
    } catch {
      return; // a frame damaged on the way is simply not for us
    }
    if (frame.frameType === 'ack') {
      if (frame.sequenceNumber === this.awaitingAck) {
        this.awaitingAck = null;
        traceScenario(this.radio, { type: 'acked', seq: frame.sequenceNumber });
      }
      return;
    }
    if (
      this.config.ack &&
      frame.frameType !== 'beacon' &&
      frame.ackRequest &&
      frame.destination === this.short
    ) {
      const ack = encodeMacFrame(
        { frameType: 'ack', sequenceNumber: frame.sequenceNumber, framePending: false, frameVersion: 0 },
        { fcs: true },
      );
      // aTurnaroundTime of the band the radio is on now (192 us at 2.4 GHz).
      this.radio.clock.setTimer(
        turnaroundUs(phyForPage(this.radio.registration.page)),
        () => void this.transmit(ack),
      );
    }
  }

  private send(): void {
    this.seq = (this.seq + 1) & 0xff;
    const frame = this.frame(this.seq);
    if (frame.frameType === 'command' && frame.ackRequest) this.awaitingAck = this.seq;
    void this.transmit(encodeMacFrame(frame, { fcs: true }));
  }

  private async transmit(psdu: Uint8Array): Promise<void> {
    if (this.radio.closed) return;
    const r = await this.radio.transmit(psdu);
    if (r.status !== 'sent' && !this.radio.closed)
      traceScenario(this.radio, { type: 'tx-refused', status: r.status });
  }

  private frame(seq: number): MacFrame {
    const c = this.config;
    switch (c.frame) {
      case 'data-request':
        return {
          frameType: 'command',
          sequenceNumber: seq,
          framePending: false,
          ackRequest: true,
          panIdCompression: true,
          frameVersion: 0,
          destinationPan: c.pan,
          destination: c.destination,
          source: this.short,
          command: { id: 'dataRequest' },
        };
      case 'beacon-request':
        return {
          frameType: 'command',
          sequenceNumber: seq,
          framePending: false,
          ackRequest: false,
          panIdCompression: false,
          frameVersion: 0,
          destinationPan: 0xffff,
          destination: 0xffff,
          command: { id: 'beaconRequest' },
        };
      case 'beacon':
        return {
          frameType: 'beacon',
          sequenceNumber: seq,
          framePending: false,
          ackRequest: false,
          panIdCompression: false,
          frameVersion: 0,
          sourcePan: c.pan,
          source: this.short,
          superframe: {
            beaconOrder: 15,
            superframeOrder: 15,
            finalCapSlot: 15,
            batteryLifeExtension: false,
            panCoordinator: false,
            associationPermit: false,
          },
          gtsPermit: false,
          gts: [],
          pendingShort: [],
          pendingExtended: Array.from(
            { length: c.pendingAddresses },
            (_, i) => `00124b00000001${String(i).padStart(2, '0')}`,
          ),
        };
    }
  }
}

export async function createRadioDevice(ctx: DeviceContext): Promise<ScenarioDevice> {
  return RadioDevice.create(ctx, ctx.transport);
}

/**
 * `gbhan device radio --bus <url> --state <file> --spec <json>`: the same device over a socket
 * (or, in a worker thread, over the `transport` it was given).
 */
export async function runRadioProcess(argv: string[], transport?: ClientTransport): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const bus = opt('--bus');
  const specText = opt('--spec');
  if ((bus === undefined && transport === undefined) || specText === undefined)
    throw new Error('gbhan device radio needs --bus and --spec');
  const spec = JSON.parse(specText) as DeviceSpec;
  const device = await RadioDevice.create(spec, transport ?? new WebSocketTransport(bus!));
  await new Promise<void>((resolve) => device.radio.onClose(() => resolve()));
}
