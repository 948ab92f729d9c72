/**
 * The report's summary charts, Vega-Lite specifications rendered to SVG here in Node (Vega's
 * headless `toSVG`), so the page shows them with scripts off and loads nothing at view time.
 * Vega is imported on first use: commands that write no report do not pay for loading it.
 */

type Spec = Record<string, unknown>;

let vegaModules: Promise<[typeof import('vega'), typeof import('vega-lite')]> | null = null;
const load = () => {
  vegaModules ??= Promise.all([import('vega'), import('vega-lite')]);
  return vegaModules;
};

/** One Vega-Lite spec as an SVG string. */
export async function chartSvg(spec: Spec): Promise<string> {
  const [vega, vl] = await load();
  const compiled = vl.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...spec,
  } as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const FONT = { config: { font: 'sans-serif', view: { stroke: null } } };

export function barSpec(
  title: string,
  rows: { label: string; n: number; series?: string }[],
  xTitle: string,
): Spec {
  const series = rows.some((r) => r.series !== undefined);
  return {
    ...FONT,
    title,
    width: 420,
    height: { step: series ? 10 : 16 },
    data: { values: rows },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: '-x', title: null },
      x: { field: 'n', type: 'quantitative', title: xTitle },
      ...(series
        ? { color: { field: 'series', type: 'nominal', title: null }, yOffset: { field: 'series' } }
        : {}),
    },
  };
}

export function dutySpec(rows: { t: number; device: string; state: string; percent: number }[]): Spec {
  return {
    ...FONT,
    title: 'GB868 duty cycle (airtime in the rolling hour)',
    width: 560,
    height: 180,
    data: { values: rows.map((r) => ({ ...r, minutes: r.t / 60e6 })) },
    layer: [
      {
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 'minutes', type: 'quantitative', title: 'virtual time (min)' },
          y: { field: 'percent', type: 'quantitative', title: '% of the hour' },
          detail: { field: 'device' },
          color: { value: '#888' },
        },
      },
      {
        mark: { type: 'point', filled: true, tooltip: true },
        encoding: {
          x: { field: 'minutes', type: 'quantitative' },
          y: { field: 'percent', type: 'quantitative' },
          color: {
            field: 'state',
            type: 'nominal',
            scale: {
              domain: ['normal', 'limited', 'critical', 'suspended'],
              range: ['#2a9d8f', '#e9c46a', '#f4a261', '#e63946'],
            },
          },
          shape: { field: 'device', type: 'nominal' },
        },
      },
    ],
  };
}
