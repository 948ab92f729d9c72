/**
 * Real frames in: put the frames of a capture on the emulated air, and inject the frames of a
 * live ZEP stream (a sniffer or radio bridge) into a real-time run. A radio sends one frame at
 * a time on one channel, but a capture has frames of many senders, overlapping on different
 * channels and sometimes on one (a collision): so each channel gets as many replay radios as
 * its most overlapping frames need, all at the given position. Frames go out at their original
 * relative times or paced, in virtual time. A frame due while its radio is still sending (the
 * bus's airtime differs from the default one planned with) waits for it, counted as `delayed`.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { ReadFrame } from './capture-read.js';
import { readZep } from './capture-read.js';
import { BusRadio, type RadioRegistration } from './client.js';
import { airtimeUs, type Band, bandOfPage, defaultTiming, isValidChannel } from './phy.js';
import type { ClientTransport } from './transport.js';

export interface ReplayOptions {
  /** EUI64 of the first replay radio; the next channels' radios count up from it. */
  eui64: string;
  position: { x: number; y: number; z?: number };
  /** Band of frames whose capture gives no page (link type 195, ZEP). Default 2.4GHz. */
  band?: Band;
  /** Put every frame on this page/channel, whatever the capture says. */
  page?: number;
  channel?: number;
  /** Channel for frames whose capture gives none (link type 195). Default 11 (2.4 GHz), 0 (GB868). */
  defaultChannel?: number;
  txPowerDbm?: number;
  /**
   * When the first frame goes: us after the replay radios registered, or `original`: the
   * capture's own timestamps minus `epochUs` as absolute virtual time (a capture gbhan wrote
   * comes back at its own instants).
   */
  at: number | 'original';
  /** gbhan's capture epoch (DEFAULT_EPOCH_US), for `at: 'original'`. */
  epochUs: number;
  /** Instead of the original spacing: one frame every `pacedUs`. */
  pacedUs?: number;
}

export interface ReplayStats {
  frames: number;
  sent: number;
  /** Refused by the bus (duty cycle, ...). */
  refused: number;
  /** On a channel the band does not have: not sent. */
  skipped: number;
  /** Sent later than their time, because their radio was still sending. */
  delayed: number;
  radios: { eui64: string; band: Band; page: number; channel: number; frames: number }[];
  /** Virtual time the last frame ended. */
  endUs: number;
}

export class ReplayError extends Error {
  constructor(
    readonly code: 'REPLAY_BAD_TIME' | 'REPLAY_BAD_OPTION',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ReplayError';
  }
}

/** The frames one replay radio sends (a lane of a channel). */
interface Group {
  band: Band;
  page: number;
  channel: number;
  frames: { atUs: number; psdu: Uint8Array }[];
  /** When its last frame ends, by the band's default airtime. */
  endUs: number;
}

function plusOne(eui64: string, n: number): string {
  return (BigInt(`0x${eui64}`) + BigInt(n)).toString(16).padStart(16, '0');
}

/**
 * Where and when each frame goes: groups by (page, channel), with virtual send times for a
 * replay whose radios registered at `nowUs`.
 */
export function planReplay(
  frames: readonly ReadFrame[],
  o: ReplayOptions,
  nowUs: number,
): { groups: Group[]; skipped: number } {
  const band = o.band ?? '2.4GHz';
  const t0 = frames[0]?.timeUs ?? 0;
  const start = o.at === 'original' ? t0 - o.epochUs : nowUs + o.at;
  if (start < nowUs)
    throw new ReplayError(
      'REPLAY_BAD_TIME',
      `the first frame would be at virtual ${start} us, before the bus's time ${nowUs} us`,
    );
  const groups = new Map<string, Group[]>();
  let skipped = 0;
  for (const [i, f] of frames.entries()) {
    const page = o.page ?? f.page ?? (band === 'GB868' ? 28 : 0);
    const fb = bandOfPage(page) ?? band;
    const channel = o.channel ?? f.channel ?? o.defaultChannel ?? (fb === 'GB868' ? 0 : 11);
    if (!isValidChannel(fb, page, channel)) {
      skipped++;
      continue;
    }
    const atUs = o.pacedUs === undefined ? start + (f.timeUs - t0) : start + i * o.pacedUs;
    const key = `${page}/${channel}`;
    let lanes = groups.get(key);
    if (lanes === undefined) {
      lanes = [];
      groups.set(key, lanes);
    }
    // The first lane free by then, else a new one (frames of a capture come in time order).
    let g = lanes.find((l) => l.endUs <= atUs);
    if (g === undefined) {
      g = { band: fb, page, channel, frames: [], endUs: 0 };
      lanes.push(g);
    }
    g.frames.push({ atUs, psdu: f.psdu });
    g.endUs = atUs + airtimeUs(f.psdu.length, defaultTiming(fb));
  }
  return { groups: [...groups.values()].flat(), skipped };
}

/**
 * Replay `frames` on a bus: connects one radio per channel through `transport()` and sends
 * every frame at its time. Resolves when every frame has been sent or refused (the caller
 * runs the bus's time, or the bus runs by itself as a server).
 */
export async function replayFrames(
  frames: readonly ReadFrame[],
  o: ReplayOptions,
  transport: () => ClientTransport,
): Promise<ReplayStats> {
  // The channels first (registration needs them), the times once the bus's instant is known.
  const { groups: layout } = planReplay(frames, { ...o, at: 0 }, 0);
  const stats: ReplayStats = {
    frames: frames.length,
    sent: 0,
    refused: 0,
    skipped: 0,
    delayed: 0,
    radios: [],
    endUs: 0,
  };
  const radios = await Promise.all(
    layout.map((g, i) => {
      const reg: RadioRegistration = {
        eui64: plusOne(o.eui64, i),
        band: g.band,
        page: g.page,
        channel: g.channel,
        position: o.position,
        name: `replay-${i}`,
        ...(o.txPowerDbm === undefined ? {} : { txPowerDbm: o.txPowerDbm }),
      };
      stats.radios.push({ ...reg, frames: g.frames.length } as ReplayStats['radios'][number]);
      return BusRadio.connect(transport(), reg);
    }),
  );
  const nowUs = radios[0]?.clock.now() ?? 0;
  let plan: ReturnType<typeof planReplay>;
  try {
    plan = planReplay(frames, o, nowUs);
  } catch (e) {
    for (const r of radios) r.close();
    throw e;
  }
  stats.skipped = plan.skipped;
  stats.endUs = nowUs;
  // The same grouping as the layout (same frames, same channels), now with times.
  await Promise.all(plan.groups.map((g, i) => sendAll(radios[i]!, g, stats)));
  for (const r of radios) r.close();
  return stats;
}

/** One radio's frames, in order: each at its time, or as soon as the previous one has ended. */
function sendAll(radio: BusRadio, g: Group, stats: ReplayStats): Promise<void> {
  return new Promise((resolve) => {
    let i = 0;
    const next = () => {
      const f = g.frames[i];
      if (f === undefined || radio.closed) {
        resolve();
        return;
      }
      if (f.atUs > radio.clock.now()) radio.clock.setTimerAt(f.atUs, send);
      else {
        if (f.atUs < radio.clock.now()) stats.delayed++;
        send();
      }
    };
    const send = () => {
      const f = g.frames[i++]!;
      // No hold across the frame: its tx-done needs time to move. The next timer is set in the
      // continuation, a microtask, so it is in the idle report that follows tx-done.
      void radio.transmit(f.psdu).then((r) => {
        if (r.status === 'sent') stats.sent++;
        else stats.refused++;
        stats.endUs = Math.max(stats.endUs, r.t);
        next();
      });
    };
    next();
  });
}

export interface ZepListener {
  readonly port: number;
  /** Frames put on the air so far, and datagrams refused (with the last error). */
  readonly stats: { sent: number; refused: number; bad: number; lastError: string | null };
  close(): Promise<void>;
}

/**
 * Listen for ZEP v1/v2 datagrams on UDP and put each frame on the air from `radio` at the bus's
 * current instant (a real-time bus: the wall clock's), on the datagram's channel (same page).
 * A datagram that is not ZEP, or a frame the channel or length refuse, is counted in `bad`.
 */
export async function listenZep(radio: BusRadio, o: { host?: string; port: number }): Promise<ZepListener> {
  const socket: Socket = createSocket('udp4');
  const stats = { sent: 0, refused: 0, bad: 0, lastError: null as string | null };
  // Datagrams are put on the air one at a time, in arrival order.
  let queue = Promise.resolve();
  socket.on('message', (msg) => {
    queue = queue.then(async () => {
      let frame: ReturnType<typeof readZep>;
      try {
        frame = readZep(msg);
      } catch (e) {
        stats.bad++;
        stats.lastError = (e as Error).message;
        return;
      }
      if (frame === null || radio.closed) return;
      const { page, channel } = radio.registration;
      const band = bandOfPage(page)!;
      if (frame.channel !== channel && !isValidChannel(band, page, frame.channel)) {
        stats.bad++;
        stats.lastError = `channel ${frame.channel} is not on page ${page}`;
        return;
      }
      // At the bus's instant (the wall clock's, paced): the hold keeps it there until the frame
      // is handed over, then goes, since the frame's end needs time to move.
      const release = await radio.wake();
      let sent: Promise<{ status: string }>;
      try {
        if (frame.channel !== channel) radio.setChannel(page, frame.channel, band);
        sent = radio.transmit(frame.psdu);
      } finally {
        release();
      }
      const r = await sent;
      if (r.status === 'sent') stats.sent++;
      else stats.refused++;
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(o.port, o.host ?? '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    port: socket.address().port,
    stats,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
