/**
 * The metrics a study may collect, by name. Each is a small stateful observer of the run's
 * trace events as they stream (RunOptions.onEvent), like the scenario's expectations: nothing
 * re-reads trace.jsonl, and a run that keeps no trace file is measured the same. A metric
 * gives numbers (one CSV column each, aggregated in summary.csv) and optionally time series
 * (results.jsonl only, for the plots). The documented list is `METRICS` (README: Studies).
 */
import {
  type BandModel,
  type BusTraceEvent,
  DEFAULT_BAND_MODELS,
  distance,
  pathLossDb,
  type RadioBusConfig,
  wallLossDb,
} from '@gbhan/radio-bus';
import type { ScenarioDeviceSpec } from '@gbhan/scenario';
import { decodeMacFrame, isInterPanFrame } from '@gbhan/zigbee';
import { z } from 'zod';

export interface MetricSpec {
  name: string;
  options: Record<string, unknown>;
}

export interface MetricContext {
  devices: readonly ScenarioDeviceSpec[];
  medium: RadioBusConfig;
  durationUs: number;
}

export interface MetricOutput {
  values: Record<string, number | null>;
  series?: Record<string, number[]>;
}

export interface Observer {
  push(e: BusTraceEvent): void;
  finish(): MetricOutput;
}

export interface MetricDef {
  description: string;
  /** The columns it writes (documentation). */
  columns: string;
  options: z.ZodType;
  create(options: Record<string, unknown>, ctx: MetricContext): Observer;
}

const MIN_US = 60_000_000;
/** Numbers in the results: 6 decimals, so they print the same wherever a run ran. */
export const fixed = (n: number) => Math.round(n * 1e6) / 1e6;
export const BAND_TAG = { '2.4GHz': '2g4', GB868: '868' } as const;
type Band = keyof typeof BAND_TAG;
const BANDS: Band[] = ['2.4GHz', 'GB868'];

function bandModel(medium: RadioBusConfig, band: Band): BandModel {
  return { ...DEFAULT_BAND_MODELS[band], ...medium.bands?.[band] };
}

/** Per CH radio: the intervals its Inter-PAN window was open, from `interpan-window` events. */
class WindowIntervals {
  readonly open = new Map<string, number>();
  readonly intervals = new Map<string, [number, number][]>();

  constructor(readonly hubs: ReadonlySet<string>) {}

  push(e: BusTraceEvent): void {
    if (e.type !== 'device' || !this.hubs.has(e.radio) || e.event.type !== 'interpan-window') return;
    const state = e.event.state;
    if (state === 'open') {
      if (!this.open.has(e.radio)) this.open.set(e.radio, e.t);
    } else if (state === 'closed' || state === 'power-off') this.close(e.radio, e.t);
  }

  private close(radio: string, t: number): void {
    const since = this.open.get(radio);
    if (since === undefined) return;
    this.open.delete(radio);
    const list = this.intervals.get(radio) ?? [];
    list.push([since, t]);
    this.intervals.set(radio, list);
  }

  /** Windows still open at the end of the run close there. */
  finish(endUs: number): void {
    for (const radio of [...this.open.keys()]) this.close(radio, endUs);
  }

  openUs(radio: string): number {
    return (this.intervals.get(radio) ?? []).reduce((n, [a, b]) => n + (b - a), 0);
  }

  isOpen(radio: string, t: number): boolean {
    return (this.intervals.get(radio) ?? []).some(([a, b]) => a <= t && t < b);
  }
}

const hubsOf = (ctx: MetricContext) => ctx.devices.filter((d) => d.type === 'comms-hub');

const windowMetric: MetricDef = {
  description: "minutes each Communications Hub's Inter-PAN window was open, summed over hubs, per band",
  columns: 'open_hub_min, open_hub_min_2g4, open_hub_min_868, hubs',
  options: z.strictObject({}),
  create(_, ctx) {
    const hubs = hubsOf(ctx);
    const w = new WindowIntervals(new Set(hubs.map((h) => h.eui64)));
    return {
      push: (e) => w.push(e),
      finish() {
        w.finish(ctx.durationUs);
        const values: Record<string, number> = { open_hub_min: 0, hubs: hubs.length };
        for (const b of BANDS) values[`open_hub_min_${BAND_TAG[b]}`] = 0;
        for (const h of hubs) {
          const m = w.openUs(h.eui64) / MIN_US;
          values.open_hub_min! += m;
          values[`open_hub_min_${BAND_TAG[h.band as Band]}`]! += m;
        }
        return { values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, fixed(v)])) };
      },
    };
  },
};

/**
 * Can an attacker of class `rangeM` at `from` reach hub radio `hub`? A class is a transmit
 * power: the one a 2.4 GHz receiver of default sensitivity hears at `rangeM` metres with no
 * wall. On the hub's band the same power is taken through that band's path loss and walls
 * (the bus's log-distance model, without shadowing) to the hub's sensitivity.
 */
export function inReach(
  ctx: Pick<MetricContext, 'medium'>,
  rangeM: number,
  from: { x: number; y: number; z?: number },
  hub: Pick<ScenarioDeviceSpec, 'band' | 'position' | 'sensitivityDbm'>,
): boolean {
  const ref = bandModel(ctx.medium, '2.4GHz');
  const txDbm = ref.defaultSensitivityDbm + pathLossDb(rangeM, ref);
  const m = bandModel(ctx.medium, hub.band as Band);
  const walls =
    ctx.medium.model === undefined || ctx.medium.model === 'log-distance' ? (ctx.medium.walls ?? []) : [];
  const rx = txDbm - pathLossDb(distance(from, hub.position), m) - wallLossDb(from, hub.position, walls, m);
  return rx >= (hub.sensitivityDbm ?? m.defaultSensitivityDbm);
}

const exposureOptions = z.strictObject({
  /** Attacker classes: metres at which a 2.4 GHz hub hears them (public touchlink results). */
  classes: z.array(z.number().positive()).min(1).default([15, 50, 130, 190]),
  /** Sampling step of the attackable-hubs series, minutes. */
  stepMinutes: z.number().positive().default(1),
});

const exposureMetric: MetricDef = {
  description:
    'per attacker class (reach in metres): hub-minutes with Inter-PAN open while an attacker of that class, at the position of any `attacker` device, is in range, per band; hubs attackable at once (max, time average, and a series)',
  columns:
    'exposed_hub_min_r<R>_2g4, exposed_hub_min_r<R>_868, exposed_hub_min_r<R>, attackable_max_r<R>, attackable_mean_r<R>; series attackable_r<R>',
  options: exposureOptions,
  create(options, ctx) {
    const o = exposureOptions.parse(options);
    const hubs = hubsOf(ctx);
    const attackers = ctx.devices.filter((d) => d.type === 'attacker').map((d) => d.position);
    const w = new WindowIntervals(new Set(hubs.map((h) => h.eui64)));
    return {
      push: (e) => w.push(e),
      finish() {
        w.finish(ctx.durationUs);
        const values: Record<string, number | null> = {};
        const series: Record<string, number[]> = {};
        // A hub is a place: a dual-band hub is two CH radios at one position.
        const groups = new Map<string, ScenarioDeviceSpec[]>();
        for (const h of hubs) {
          const k = `${h.position.x},${h.position.y},${h.position.z ?? 0}`;
          groups.set(k, [...(groups.get(k) ?? []), h]);
        }
        const stepUs = Math.round(o.stepMinutes * MIN_US);
        for (const r of o.classes) {
          const tag = `r${r}`;
          const reached = hubs.filter((h) => attackers.some((a) => inReach(ctx, r, a, h)));
          let total = 0;
          for (const b of BANDS) {
            const m = reached.filter((h) => h.band === b).reduce((n, h) => n + w.openUs(h.eui64), 0) / MIN_US;
            values[`exposed_hub_min_${tag}_${BAND_TAG[b]}`] = fixed(m);
            total += m;
          }
          values[`exposed_hub_min_${tag}`] = fixed(total);
          const reachedSet = new Set(reached.map((h) => h.eui64));
          const attackableAt = (t: number) =>
            [...groups.values()].filter((g) => g.some((h) => reachedSet.has(h.eui64) && w.isOpen(h.eui64, t)))
              .length;
          // The count only rises at a window's opening: its maximum is at one of them.
          const starts = reached.flatMap((h) => (w.intervals.get(h.eui64) ?? []).map(([a]) => a));
          values[`attackable_max_${tag}`] = Math.max(0, ...starts.map(attackableAt));
          const s: number[] = [];
          for (let t = 0; t < ctx.durationUs; t += stepUs) s.push(attackableAt(t));
          series[`attackable_${tag}`] = s;
          values[`attackable_mean_${tag}`] = fixed(
            s.length === 0 ? 0 : s.reduce((a, b) => a + b, 0) / s.length,
          );
        }
        return { values, series };
      },
    };
  },
};

/** Layers whose drop means the hub never processed the frame (the window gate is INTERPAN). */
const UNPROCESSED_LAYERS = new Set(['MAC', 'NWK', 'INTERPAN']);

/** Where an attacker's Inter-PAN frame is addressed (MAC header). */
interface Addressed {
  pan: number | undefined;
  to: number | string | undefined;
}

/**
 * Is the frame for this hub's MAC? Its EUI64, or a broadcast / coordinator short address
 * on its PAN (the configured `panId`; a hub without one takes only the broadcast PAN). A hub
 * that hears a frame for another hub filters it at the MAC without a trace, so only frames
 * addressed to it count.
 */
function addressedTo(f: Addressed, hub: { eui64: string; panId: number | undefined }): boolean {
  if (typeof f.to === 'string') return f.to.toLowerCase() === hub.eui64;
  if (f.to !== 0xffff && f.to !== 0x0000) return false;
  return f.pan === 0xffff || (hub.panId !== undefined && f.pan === hub.panId);
}

const attackerFramesMetric: MetricDef = {
  description:
    "Inter-PAN frames from `attacker` radios that Communications Hubs received and were addressed to them: processed (past the hub's window gate) or dropped (window closed, or refused below it), and the time to the first processed one",
  columns: 'attacker_rx, attacker_processed, attacker_dropped, first_processed_min (empty: none)',
  options: z.strictObject({}),
  create(_, ctx) {
    const attackers = new Set(ctx.devices.filter((d) => d.type === 'attacker').map((d) => d.eui64));
    const hubs = new Map(
      hubsOf(ctx).map((d) => [
        d.eui64,
        { eui64: d.eui64.toLowerCase(), panId: (d.config as { panId?: number } | null)?.panId },
      ]),
    );
    /** The attackers' Inter-PAN frames: bus frame number -> MAC addressing. */
    const interPan = new Map<number, Addressed>();
    /** Per hub: an attacker frame it received at `t`, not yet known to be processed. */
    const pending = new Map<string, number>();
    let now = 0;
    let rx = 0;
    let processed = 0;
    let dropped = 0;
    let first: number | null = null;
    const settle = () => {
      // A received frame not dropped at its instant went past the gate.
      for (const t of pending.values()) {
        processed++;
        if (first === null || t < first) first = t;
      }
      pending.clear();
    };
    return {
      push(e) {
        if (e.t !== now) {
          settle();
          now = e.t;
        }
        if (e.type === 'tx' && attackers.has(e.radio)) {
          try {
            const f = decodeMacFrame(Buffer.from(e.psdu, 'hex'), { fcs: true });
            if (f.frameType === 'data' && isInterPanFrame(f.payload))
              interPan.set(e.frame, { pan: f.destinationPan, to: f.destination });
          } catch {
            // not a frame the hub's MAC would take either
          }
        } else if (e.type === 'rx') {
          const f = interPan.get(e.frame);
          const hub = hubs.get(e.radio);
          if (f === undefined || hub === undefined || !addressedTo(f, hub)) return;
          if (pending.has(e.radio)) settle();
          rx++;
          pending.set(e.radio, e.t);
        } else if (
          e.type === 'device' &&
          e.event.type === 'frame-dropped' &&
          pending.has(e.radio) &&
          UNPROCESSED_LAYERS.has(String(e.event.layer))
        ) {
          pending.delete(e.radio);
          dropped++;
        }
      },
      finish() {
        settle();
        return {
          values: {
            attacker_rx: rx,
            attacker_processed: processed,
            attacker_dropped: dropped,
            first_processed_min: first === null ? null : fixed(first / MIN_US),
          },
        };
      },
    };
  },
};

const ppmidPairingMetric: MetricDef = {
  description:
    'SECMP0037: PPMIDs set to pair over Inter-PAN (posted replacements, `pairOverInterPan: true`): how many, the share that paired locally, and the delay from power-on to pairing',
  columns:
    'ppmid_posted, ppmid_paired, ppmid_paired_share, ppmid_pair_delay_min (mean over paired; empty: none)',
  options: z.strictObject({}),
  create(_, ctx) {
    const posted = new Set(
      ctx.devices
        .filter(
          (d) => d.type === 'ppmid' && (d.config as { pairOverInterPan?: boolean }).pairOverInterPan === true,
        )
        .map((d) => d.eui64),
    );
    const poweredAt = new Map<string, number>();
    const pairedAfter = new Map<string, number>();
    for (const d of ctx.devices) if (posted.has(d.eui64) && d.powered) poweredAt.set(d.eui64, 0);
    return {
      push(e) {
        if (!('radio' in e) || typeof e.radio !== 'string' || !posted.has(e.radio)) return;
        if (e.type === 'power' && e.on && !poweredAt.has(e.radio)) poweredAt.set(e.radio, e.t);
        else if (
          e.type === 'device' &&
          e.event.type === 'interpan-pairing' &&
          e.event.result === 'paired' &&
          !pairedAfter.has(e.radio)
        )
          pairedAfter.set(e.radio, e.t - (poweredAt.get(e.radio) ?? 0));
      },
      finish() {
        const delays = [...pairedAfter.values()];
        return {
          values: {
            ppmid_posted: posted.size,
            ppmid_paired: delays.length,
            ppmid_paired_share: posted.size === 0 ? null : fixed(delays.length / posted.size),
            ppmid_pair_delay_min:
              delays.length === 0 ? null : fixed(delays.reduce((a, b) => a + b, 0) / delays.length / MIN_US),
          },
        };
      },
    };
  },
};

/** The documented list: a study names these in `metrics:`. */
export const METRICS: Record<string, MetricDef> = {
  window: windowMetric,
  exposure: exposureMetric,
  'attacker-frames': attackerFramesMetric,
  'ppmid-pairing': ppmidPairingMetric,
};

/** One observer per metric of the study, fed together. */
export function observeMetrics(specs: readonly MetricSpec[], ctx: MetricContext) {
  const observers = specs.map((s) => METRICS[s.name]!.create(s.options, ctx));
  return {
    push(e: BusTraceEvent) {
      for (const o of observers) o.push(e);
    },
    finish(): MetricOutput {
      const out: MetricOutput = { values: {}, series: {} };
      for (const o of observers) {
        const r = o.finish();
        Object.assign(out.values, r.values);
        Object.assign(out.series!, r.series ?? {});
      }
      return out;
    },
  };
}
