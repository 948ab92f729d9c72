/**
 * The plots a study may ask for, by name (`plots:`), each a Vega-Lite specification built
 * from the study's rows and summary: exposure against attacker range per band and window,
 * hubs attackable over time (after an outage), and the SECMP0037 trade-off (local pairing
 * success against hub-minutes exposed). Rendering is plots.ts's job.
 */
import { z } from 'zod';
import type { SummaryRow } from './results.js';
import type { Row } from './run-one.js';

/** A Vega-Lite specification (kept loose: vega-lite's own types are checked when it compiles). */
export type VlSpec = Record<string, unknown>;

export interface PlotInput {
  parameters: string[];
  rows: readonly Row[];
  summary: readonly SummaryRow[];
}

export interface PlotDef {
  title: string;
  options: z.ZodType;
  build(options: Record<string, unknown>, input: PlotInput): VlSpec | null;
}

const param = z.string().optional();
const BAND_NAME: Record<string, string> = { '2g4': '2.4 GHz', '868': 'GB868' };

/** A faceted chart when the study splits by column or row, else the plain one. */
function wrap(values: unknown[], facet: { column?: unknown; row?: unknown }, spec: VlSpec): VlSpec {
  const f = Object.fromEntries(Object.entries(facet).filter(([, v]) => v !== undefined));
  return Object.keys(f).length === 0
    ? { data: { values }, ...spec }
    : { data: { values }, facet: f, spec, resolve: { scale: { y: 'shared' } } };
}

/** Encodings for the parameters a plot splits by (only those the study has). */
function splits(o: { color?: string; column?: string; row?: string }, input: PlotInput) {
  const has = (p?: string): p is string => p !== undefined && input.parameters.includes(p);
  // The other parameters keep their lines apart (one line per configuration).
  const rest = input.parameters.filter((p) => ![o.color, o.column, o.row].includes(p));
  return {
    ...(rest.length > 0 ? { detail: rest.map((field) => ({ field, type: 'nominal' })) } : {}),
    ...(has(o.color) ? { color: { field: o.color, type: 'nominal' } } : {}),
    ...(has(o.column) ? { column: { field: o.column, type: 'nominal' } } : {}),
    ...(has(o.row) ? { row: { field: o.row, type: 'nominal' } } : {}),
  };
}

const exposureOptions = z.strictObject({ color: param, column: param, row: param });
const exposureVsRange: PlotDef = {
  title: 'Hub-minutes exposed against attacker range, per band (mean over seeds, p5-p95 as error bars)',
  options: exposureOptions,
  build(options, input) {
    const o = exposureOptions.parse(options);
    const data = input.summary.flatMap((s) => {
      const m = /^exposed_hub_min_r([\d.]+)_(2g4|868)$/.exec(s.metric);
      if (m === null || s.mean === null) return [];
      return [
        { ...s.params, range: Number(m[1]), band: BAND_NAME[m[2]!], mean: s.mean, p5: s.p5, p95: s.p95 },
      ];
    });
    if (data.length === 0) return null;
    const { column, row, ...enc } = splits(o, input);
    const x = { field: 'range', type: 'quantitative', title: 'attacker class (reach at 2.4 GHz, m)' };
    return {
      ...wrap(
        data,
        { column, row },
        {
          width: 220,
          height: 160,
          layer: [
            {
              mark: { type: 'line', point: true },
              encoding: {
                x,
                y: { field: 'mean', type: 'quantitative', title: 'hub-minutes exposed' },
                strokeDash: { field: 'band', type: 'nominal' },
                ...enc,
              },
            },
            {
              mark: 'rule',
              encoding: { x, y: { field: 'p5', type: 'quantitative' }, y2: { field: 'p95' }, ...enc },
            },
          ],
        },
      ),
    };
  },
};

const overTimeOptions = z.strictObject({
  /** The attacker class whose series is drawn (metres). */
  class: z.number().positive().default(130),
  color: param,
  column: param,
  row: param,
});
const attackableOverTime: PlotDef = {
  title: 'Hubs attackable at once over time (mean over seeds)',
  options: overTimeOptions,
  build(options, input) {
    const o = overTimeOptions.parse(options);
    const name = `attackable_r${o.class}`;
    const groups = new Map<string, { params: Record<string, string>; sums: number[]; n: number }>();
    for (const r of input.rows) {
      const s = r.series?.[name];
      if (r.status !== 'ok' || s === undefined) continue;
      const k = input.parameters.map((p) => r.params[p]).join('\u0000');
      const g = groups.get(k) ?? { params: r.params, sums: [], n: 0 };
      s.forEach((v, i) => {
        g.sums[i] = (g.sums[i] ?? 0) + v;
      });
      g.n++;
      groups.set(k, g);
    }
    const data = [...groups.values()].flatMap((g) =>
      g.sums.map((v, i) => ({ ...g.params, minute: i, hubs: Math.round((v / g.n) * 1000) / 1000 })),
    );
    if (data.length === 0) return null;
    const { column, row, ...enc } = splits(o, input);
    return {
      ...wrap(
        data,
        { column, row },
        {
          width: 260,
          height: 160,
          mark: { type: 'line', interpolate: 'step-after' },
          encoding: {
            x: { field: 'minute', type: 'quantitative', title: 'minutes into the run (sampling step)' },
            y: { field: 'hubs', type: 'quantitative', title: `hubs attackable (class ${o.class} m)` },
            ...enc,
          },
        },
      ),
    };
  },
};

const tradeoffOptions = z.strictObject({
  /** The exposure on the x axis (a summary metric). */
  exposure: z.string().default('open_hub_min'),
  /** The benefit on the y axis. */
  benefit: z.string().default('ppmid_paired_share'),
  color: param,
  column: param,
});
const tradeoff: PlotDef = {
  title:
    'SECMP0037 trade-off: share of posted PPMIDs paired locally against hub-minutes exposed (per configuration)',
  options: tradeoffOptions,
  build(options, input) {
    const o = tradeoffOptions.parse(options);
    const byCombo = new Map<string, Record<string, unknown>>();
    for (const s of input.summary) {
      if (s.metric !== o.exposure && s.metric !== o.benefit) continue;
      const k = input.parameters.map((p) => s.params[p]).join('\u0000');
      const d = byCombo.get(k) ?? {
        ...s.params,
        label: input.parameters.map((p) => s.params[p]).join(' / '),
      };
      d[s.metric === o.exposure ? 'x' : 'y'] = s.mean;
      byCombo.set(k, d);
    }
    const data = [...byCombo.values()].filter((d) => typeof d.x === 'number' && typeof d.y === 'number');
    if (data.length === 0) return null;
    const { column, ...enc } = splits(o, input);
    const x = { field: 'x', type: 'quantitative', title: `${o.exposure} (mean)` };
    const y = { field: 'y', type: 'quantitative', title: `${o.benefit} (mean)`, scale: { domain: [0, 1] } };
    return {
      ...wrap(
        data,
        { column },
        {
          width: 320,
          height: 220,
          layer: [
            { mark: { type: 'line', color: '#bbb' }, encoding: { x, y, order: { field: 'x' } } },
            { mark: { type: 'point', filled: true, size: 80 }, encoding: { x, y, ...enc } },
            { mark: { type: 'text', dy: -10, fontSize: 9 }, encoding: { x, y, text: { field: 'label' } } },
          ],
        },
      ),
    };
  },
};

export const PLOTS: Record<string, PlotDef> = {
  'exposure-vs-range': exposureVsRange,
  'attackable-over-time': attackableOverTime,
  tradeoff,
};
