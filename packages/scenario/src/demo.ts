/**
 * The default job until scenarios exist: a short demonstration of the air. A dual-band
 * hub, meters and a PPMID behind walls, a device out of range, a chatty GB868 radio that
 * runs into the duty-cycle limits, and a minute of jamming - one simulated hour, in-process,
 * with a capture, a trace and a summary. Frames are real 802.15.4 MAC frames (data requests
 * answered with acks, beacons), so Wireshark dissects the capture.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOUR, MILLISECOND, MINUTE, SECOND } from '@gbhan/clock';
import {
  attachOutputs,
  BusRadio,
  type BusTraceEvent,
  InProcessTransport,
  RadioBus,
  type RadioRegistration,
} from '@gbhan/radio-bus';
import { decodeMacFrame, encodeMacFrame, type MacFrame } from '@gbhan/zigbee';

const PAN = 0x1a62;
const HUB_EUI = '00124b0000000001';
/** aTurnaroundTime: 12 symbols of 16 us. */
const TURNAROUND_US = 192;

interface DemoRadio {
  name: string;
  reg: RadioRegistration;
  short: number;
  /** Send a data request to the hub every `period` (0 = never). */
  period: number;
  /** Extra MAC payload bytes (beacon-sized chatter for the GB868 duty-cycle demo). */
  chatter?: number;
}

const RADIOS: DemoRadio[] = [
  { name: 'CH (2.4 GHz)', short: 0x0000, period: 0, reg: reg(HUB_EUI, '2.4GHz', 0, 15, 0, 0) },
  { name: 'CH (GB868)', short: 0x0000, period: 0, reg: reg('00124b0000000002', 'GB868', 28, 2, 0, 0.1) },
  { name: 'ESME', short: 0x1001, period: 10 * SECOND, reg: reg('00124b0000000010', '2.4GHz', 0, 15, 6, 2) },
  {
    name: 'PPMID',
    short: 0x1002,
    period: 15 * SECOND,
    reg: reg('00124b0000000011', '2.4GHz', 0, 15, 14, -3),
  },
  {
    name: 'far neighbour',
    short: 0x1003,
    period: 20 * SECOND,
    reg: reg('00124b0000000012', '2.4GHz', 0, 15, 250, 0),
  },
  {
    name: 'ESME (GB868)',
    short: 0x2001,
    period: 10 * SECOND,
    reg: reg('00124b0000000020', 'GB868', 28, 2, 45, 10),
  },
  {
    name: 'chatty GB868 radio',
    short: 0x2002,
    period: 300 * MILLISECOND,
    chatter: 90,
    reg: reg('00124b0000000021', 'GB868', 28, 2, 20, -10),
  },
];

function reg(
  eui64: string,
  band: '2.4GHz' | 'GB868',
  page: number,
  channel: number,
  x: number,
  y: number,
): RadioRegistration {
  return { eui64, band, page, channel, position: { x, y } };
}

/** Three interior walls between the hub's cupboard and the rest of the house. */
const WALLS = [
  { from: [3, -20], to: [3, 20] },
  { from: [10, -20], to: [10, 20] },
  { from: [30, -20], to: [30, 20] },
] as { from: [number, number]; to: [number, number] }[];

export interface DemoOptions {
  outDir: string;
  seed: string;
  durationUs?: number;
  log?: (line: string) => void;
}

export interface DemoSummary {
  durationUs: number;
  radios: {
    name: string;
    eui64: string;
    band: string;
    tx: number;
    rx: number;
    acked: number;
    refused: number;
  }[];
  drops: Record<string, number>;
  dutyCycle: { radio: string; state: string; t: number }[];
  outputs: string[];
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const log = options.log ?? console.log;
  const duration = options.durationUs ?? HOUR;
  mkdirSync(options.outDir, { recursive: true });
  const files = {
    pcapTap: join(options.outDir, 'capture.pcap'),
    pcapFcs: join(options.outDir, 'capture-fcs.pcap'),
    trace: join(options.outDir, 'trace.jsonl'),
  };
  const bus = new RadioBus({
    seed: options.seed,
    walls: WALLS,
    lossRate: 0.01,
    jammers: [
      {
        band: '2.4GHz',
        page: 0,
        channel: 15,
        position: { x: 14, y: 0 },
        txPowerDbm: 0,
        startUs: 30 * MINUTE,
        endUs: 31 * MINUTE,
      },
    ],
  });
  const outputs = attachOutputs(bus, files);
  const events: BusTraceEvent[] = [];
  bus.onTrace((e) => {
    if (e.type !== 'tx' && e.type !== 'rx') events.push(e);
  });
  const stats = new Map<string, DemoSummary['radios'][number]>();
  bus.onTrace((e) => {
    if (e.type === 'tx') stats.get(e.radio)!.tx++;
    if (e.type === 'rx') stats.get(e.radio)!.rx++;
  });

  let lastProgress = -1;
  for (const d of RADIOS) {
    stats.set(d.reg.eui64, {
      name: d.name,
      eui64: d.reg.eui64,
      band: d.reg.band,
      tx: 0,
      rx: 0,
      acked: 0,
      refused: 0,
    });
    const radio = await BusRadio.connect(new InProcessTransport(bus), { ...d.reg, name: d.name });
    const s = stats.get(d.reg.eui64)!;
    let seq = Number.parseInt(d.reg.eui64.slice(-2), 16);
    let awaitingAck: number | null = null;
    radio.onReceive((f) => {
      let frame: MacFrame;
      try {
        frame = decodeMacFrame(f.psdu, { fcs: true });
      } catch {
        return; // a frame damaged on the way is simply not for us
      }
      if (frame.frameType === 'ack') {
        if (frame.sequenceNumber === awaitingAck) {
          s.acked++;
          awaitingAck = null;
        }
        return;
      }
      if (frame.frameType !== 'beacon' && frame.ackRequest && frame.destination === d.short) {
        const ack = encodeMacFrame(
          { frameType: 'ack', sequenceNumber: frame.sequenceNumber, framePending: false, frameVersion: 0 },
          { fcs: true },
        );
        radio.clock.setTimer(TURNAROUND_US, () => void radio.transmit(ack));
      }
    });
    if (d.period > 0) {
      const send = () => {
        seq = (seq + 1) & 0xff;
        const frame: MacFrame =
          d.chatter === undefined
            ? {
                frameType: 'command',
                sequenceNumber: seq,
                framePending: false,
                ackRequest: true,
                panIdCompression: true,
                frameVersion: 0,
                destinationPan: PAN,
                destination: 0x0000,
                source: d.short,
                command: { id: 'dataRequest' },
              }
            : {
                frameType: 'beacon',
                sequenceNumber: seq,
                framePending: false,
                ackRequest: false,
                panIdCompression: false,
                frameVersion: 0,
                sourcePan: PAN,
                source: d.short,
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
                  { length: 7 },
                  (_, i) => `00124b00000001${String(i).padStart(2, '0')}`,
                ),
              };
        if (d.chatter === undefined) awaitingAck = seq;
        void radio.transmit(encodeMacFrame(frame, { fcs: true })).then((r) => {
          if (r.status !== 'sent') s.refused++;
        });
        radio.clock.setTimer(d.period, send);
        const minute = Math.floor(radio.clock.now() / (10 * MINUTE));
        if (d.name === 'ESME' && minute !== lastProgress) {
          lastProgress = minute;
          log(`  ... ${minute * 10} min of ${duration / MINUTE} simulated`);
        }
      };
      radio.clock.setTimer(d.period / 2 + (seq % 7) * MILLISECOND, send);
    }
  }

  log(
    `gbhan demo: ${RADIOS.length} radios on 2.4 GHz and GB868 for ${duration / MINUTE} simulated minutes (seed ${options.seed})`,
  );
  const wallStart = performance.now();
  await bus.runUntil(duration);
  const wallMs = performance.now() - wallStart;
  bus.close();
  outputs.close();

  const drops: Record<string, number> = {};
  for (const e of events) if (e.type === 'drop') drops[e.reason] = (drops[e.reason] ?? 0) + 1;
  const summary: DemoSummary = {
    durationUs: duration,
    radios: [...stats.values()],
    drops,
    dutyCycle: events.flatMap((e) =>
      e.type === 'duty-cycle' ? [{ radio: e.radio, state: e.state, t: e.t }] : [],
    ),
    outputs: [...Object.values(files), join(options.outDir, 'summary.json')],
  };
  writeFileSync(join(options.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

  log('');
  log('radio                  band     tx     rx  acked  refused');
  for (const r of summary.radios) {
    log(
      `${r.name.padEnd(22)} ${r.band.padEnd(7)} ${String(r.tx).padStart(5)} ${String(r.rx).padStart(6)} ${String(r.acked).padStart(6)} ${String(r.refused).padStart(8)}`,
    );
  }
  log(
    `drops: ${
      Object.entries(drops)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
  );
  for (const d of summary.dutyCycle)
    log(`duty cycle: ${d.radio} -> ${d.state} at ${(d.t / MINUTE).toFixed(1)} min`);
  log(
    `simulated ${duration / SECOND} s in ${(wallMs / 1000).toFixed(2)} s of wall time (x${Math.round(duration / 1000 / wallMs)})`,
  );
  log(`wrote ${summary.outputs.join(', ')}`);
  return 0;
}
