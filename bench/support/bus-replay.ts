/**
 * A run's radio traffic again, from its trace, on a bus of its own: each frame sent by its
 * radio at its instant, a clear-channel assessment before each frame that is not an ACK
 * (scheduled, as gbhan's MAC does: the radio wakes 192 us before and is answered at the
 * frame's instant), each ACK scheduled without confirmation,
 * receivers switched off and on and address filters set as in the run, by radios with no
 * device stack behind them. What the medium, the lock-step and its messages cost per frame
 * (bench/city-floor.ts).
 */
import { type Band, BusRadio, InProcessTransport, type Position, RadioBus } from '@gbhan/radio-bus';

/** aTurnaroundTime on 2.4 GHz (12 symbols): an ACK's frame ends this long before it. */
const TURNAROUND_US = 192;

export interface TraceLine {
  t: number;
  type: string;
  radio?: string;
  psdu?: string;
  on?: boolean;
  band?: Band;
  page?: number;
  channel?: number;
  position?: Position;
  event?: { type?: string; panId?: number; short?: number };
}

/** CPU ms of the run's radio traffic replayed on a bus by radios without stacks, and its deliveries. */
export async function busReplay(
  lines: readonly TraceLine[],
  durationUs: number,
): Promise<{ ms: number; rx: number }> {
  const bus = new RadioBus({ seed: 1, trace: 'compact' });
  let rx = 0;
  bus.onTrace((e) => {
    if (e.type === 'rx') rx++;
  });
  const radios = new Map<string, BusRadio>();
  for (const a of lines) {
    if (a.type !== 'attach') continue;
    const registration = {
      eui64: a.radio!,
      band: a.band!,
      page: a.page!,
      channel: a.channel!,
      position: a.position!,
    };
    radios.set(a.radio!, await BusRadio.connect(new InProcessTransport(bus), registration));
  }
  for (const l of lines) {
    const r = l.radio === undefined ? undefined : radios.get(l.radio);
    if (r === undefined) continue;
    const ev = l.event;
    if (l.type === 'tx') {
      const psdu = new Uint8Array(Buffer.from(l.psdu!, 'hex'));
      // As gbhan's MAC asks the bus: an ACK scheduled when its frame has ended (no tx-done);
      // any other frame after a carrier sense scheduled at its instant, sent on the answer.
      const before = Math.max(0, l.t - TURNAROUND_US);
      if ((psdu[0]! & 7) === 2) r.clock.setTimerAt(before, () => void r.transmitAt(psdu, l.t));
      else r.clock.setTimerAt(before, () => void r.ccaAt(l.t).busy.then(() => r.transmit(psdu)));
    } else if (l.type === 'power') {
      r.clock.setTimerAt(l.t, () => r.setPower(l.on!));
    } else if (ev?.type === 'nwk-state' && ev.short !== undefined && ev.panId !== undefined) {
      const filter = { panId: ev.panId, shortAddress: ev.short, extendedAddress: l.radio! };
      r.clock.setTimerAt(l.t, () => r.setAddressFilter(filter));
    }
  }
  const cpu0 = process.cpuUsage();
  await bus.runUntil(durationUs);
  const cpu = process.cpuUsage(cpu0);
  bus.close();
  return { ms: (cpu.user + cpu.system) / 1000, rx };
}
