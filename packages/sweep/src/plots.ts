/**
 * The study's figures, rendered on the server: Vega-Lite specifications (plot-specs.ts)
 * compiled to Vega and drawn to SVG by Vega's headless renderer (no canvas needed), then to
 * PNG by resvg. `report.html` embeds the SVGs inline with the summary table, so it opens
 * offline with nothing beside it; the same figures are written next to it as .svg and .png.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { PLOTS, type PlotInput, type VlSpec } from './plot-specs.js';
import type { SummaryRow } from './results.js';
import type { PlotSpec, Study } from './study.js';

export async function renderSvg(spec: VlSpec): Promise<string> {
  const vgSpec = compile({ background: 'white', ...spec } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } })
    .render()
    .asPng();
}

export interface Figure {
  name: string;
  title: string;
  svg: string;
  files: { svg: string; png: string };
}

/** Render the study's plots into `dir` (plot-<name>.svg / .png); a plot without data is left out. */
export async function renderFigures(
  plots: readonly PlotSpec[],
  input: PlotInput,
  dir: string,
): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const p of plots) {
    const def = PLOTS[p.name]!;
    const spec = def.build(p.options, input);
    if (spec === null) continue;
    const svg = await renderSvg(spec);
    const files = { svg: join(dir, `plot-${p.name}.svg`), png: join(dir, `plot-${p.name}.png`) };
    writeFileSync(files.svg, svg);
    writeFileSync(files.png, svgToPng(svg));
    out.push({ name: p.name, title: def.title, svg, files });
  }
  return out;
}

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A self-contained page: the study, its figures (inline SVG) and the summary table. */
export function reportHtml(
  study: Pick<Study, 'name' | 'description' | 'file' | 'parameters' | 'seeds' | 'quick'>,
  figures: readonly Figure[],
  summary: readonly SummaryRow[],
  counts: { runs: number; errors: number },
): string {
  const params = study.parameters.map((p) => p.name);
  const head = [...params, 'metric', 'runs', 'n', 'mean', 'median', 'p5', 'p95'];
  const rows = summary
    .map(
      (s) =>
        `<tr>${[...params.map((p) => s.params[p]), s.metric, s.runs, s.n, s.mean, s.median, s.p5, s.p95]
          .map((v) => `<td>${esc(v)}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(study.name)}: gbhan study</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#eee}figure{margin:1em 0}
figcaption{font-weight:bold;margin-bottom:.5em}</style></head><body>
<h1>${esc(study.name)}${study.quick ? ' (quick)' : ''}</h1>
<p>${esc(study.description)}</p>
<p>Study file ${esc(study.file)}; parameters: ${study.parameters.map((p) => `${esc(p.name)} (${p.values.map((v) => esc(v.label)).join(', ')})`).join('; ') || 'none'}; ${study.seeds.length} seed(s); ${counts.runs} runs, ${counts.errors} failed.</p>
${figures.map((f) => `<figure><figcaption>${esc(f.title)}</figcaption>${f.svg}</figure>`).join('\n')}
<h2>Summary (per configuration, over seeds)</h2>
<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>
${rows}
</tbody></table></body></html>
`;
}
