/**
 * The floor plan: devices at their scenario positions (by id), walls, each band's reach
 * around the hubs (free-space log-distance reach at the radio's power and sensitivity; walls
 * shorten it), and the frames heard per link as lines. Shared by report.html and the live
 * view, whose script finds devices by `id="dev-<id>"` and their centres in `data-x`/`data-y`.
 */
import { type BandModel, DEFAULT_BAND_MODELS, pathLossDb, type Wall } from '@gbhan/radio-bus';
import type { ReportDevice } from './collect.js';
import { esc, num } from './html.js';

export interface MapInput {
  devices: readonly ReportDevice[];
  walls: readonly Wall[];
  bands?: Partial<Record<'2.4GHz' | 'GB868', Partial<BandModel>>>;
  /** Frames heard per `from\tto` pair (scenario ids). */
  linkFrames?: ReadonlyMap<string, number>;
}

const W = 860;
const H = 520;
const PAD = 40;
const MAX_LINKS = 300;
const MAX_REACH_CIRCLES = 12;

/** Distance (m) at which the radio's signal falls to its sensitivity, walls aside. */
export function reachM(model: BandModel, txPowerDbm: number, sensitivityDbm: number): number {
  const budget = txPowerDbm - sensitivityDbm;
  if (budget <= pathLossDb(model.referenceDistanceM, model)) return model.referenceDistanceM;
  return model.referenceDistanceM * 10 ** ((budget - model.referenceLossDb) / (10 * model.pathLossExponent));
}

export function bandModel(input: MapInput, band: '2.4GHz' | 'GB868'): BandModel {
  return { ...DEFAULT_BAND_MODELS[band], ...input.bands?.[band] };
}

/** Bounds of the devices and walls, a little wider than the devices so labels fit. */
function frame(input: MapInput) {
  const xs = input.devices.map((d) => d.position.x);
  const ys = input.devices.map((d) => d.position.y);
  for (const w of input.walls) {
    xs.push(w.from[0], w.to[0]);
    ys.push(w.from[1], w.to[1]);
  }
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x1 - x0 < 4) [x0, x1] = [x0 - 2, x1 + 2];
  if (y1 - y0 < 4) [y0, y1] = [y0 - 2, y1 + 2];
  const scale = Math.min((W - 2 * PAD) / (x1 - x0), (H - 2 * PAD) / (y1 - y0));
  // as tall as the plan needs (a street is wide and flat), at least a third of the width
  const height = Math.max(H / 2, Math.ceil((y1 - y0) * scale + 2 * PAD));
  return {
    scale,
    height,
    px: (x: number) => PAD + (x - x0) * scale,
    // y grows upwards on the plan, downwards on screen
    py: (y: number) => height - PAD - (y - y0) * scale,
  };
}

export function renderMap(input: MapInput): string {
  const f = frame(input);
  const pos = new Map(input.devices.map((d) => [d.id, { x: f.px(d.position.x), y: f.py(d.position.y), d }]));
  const out: string[] = [
    `<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${f.height}" width="${W}" height="${f.height}" role="img" aria-label="map of the devices">`,
    '<rect class="floor" x="0" y="0" width="100%" height="100%"/>',
    `<clipPath id="mapclip"><rect x="0" y="0" width="${W}" height="${f.height}"/></clipPath>`,
  ];
  // Reach of each band around the hubs (the devices every other joins); without hubs, around
  // the first radio of each band.
  let hubs = input.devices.filter((d) => d.type === 'comms-hub').slice(0, MAX_REACH_CIRCLES);
  if (hubs.length === 0)
    hubs = (['2.4GHz', 'GB868'] as const).flatMap((b) =>
      input.devices.filter((d) => d.band === b).slice(0, 1),
    );
  out.push('<g class="reach" clip-path="url(#mapclip)">');
  for (const h of hubs) {
    const m = bandModel(input, h.band);
    const r = reachM(m, h.txPowerDbm ?? m.defaultTxPowerDbm, h.sensitivityDbm ?? m.defaultSensitivityDbm);
    const p = pos.get(h.id)!;
    out.push(
      `<circle class="band-${h.band === 'GB868' ? '868' : '24'}" cx="${num(p.x)}" cy="${num(p.y)}" r="${num(r * f.scale)}"><title>${esc(`${h.id} ${h.band} reach ${r.toFixed(0)} m (free of walls)`)}</title></circle>`,
    );
  }
  out.push('</g><g class="walls">');
  for (const w of input.walls)
    out.push(
      `<line x1="${num(f.px(w.from[0]))}" y1="${num(f.py(w.from[1]))}" x2="${num(f.px(w.to[0]))}" y2="${num(f.py(w.to[1]))}"><title>wall${w.lossDb === undefined ? '' : ` ${w.lossDb} dB`}</title></line>`,
    );
  out.push('</g><g class="links">');
  const pairs = new Map<string, number>();
  for (const [k, n] of input.linkFrames ?? []) {
    const [a, b] = k.split('\t') as [string, string];
    const key = a < b ? `${a}\t${b}` : `${b}\t${a}`;
    pairs.set(key, (pairs.get(key) ?? 0) + n);
  }
  const top = [...pairs].sort((a, b) => b[1] - a[1]).slice(0, MAX_LINKS);
  for (const [k, n] of top) {
    const [a, b] = k.split('\t') as [string, string];
    const pa = pos.get(a);
    const pb = pos.get(b);
    if (pa === undefined || pb === undefined) continue;
    out.push(
      `<line data-link="${esc(k)}" x1="${num(pa.x)}" y1="${num(pa.y)}" x2="${num(pb.x)}" y2="${num(pb.y)}" stroke-width="${num(Math.min(6, 0.5 + Math.log10(n + 1)))}"><title>${esc(`${a} ↔ ${b}: ${n} frames heard`)}</title></line>`,
    );
  }
  out.push('</g><g class="devices">');
  for (const [id, p] of pos) {
    const d = p.d;
    out.push(
      `<g class="dev ${esc(d.type)}" id="dev-${esc(id)}" data-id="${esc(id)}" data-x="${num(p.x)}" data-y="${num(p.y)}" tabindex="0"><circle cx="${num(p.x)}" cy="${num(p.y)}" r="7"/><text x="${num(p.x + 9)}" y="${num(p.y - 8)}">${esc(id)}</text><title>${esc(`${id} (${d.type}) ${d.band} ch ${d.channel} at (${d.position.x}, ${d.position.y}) m`)}</title></g>`,
    );
  }
  out.push('</g></svg>');
  const legend = (['2.4GHz', 'GB868'] as const)
    .filter((b) => input.devices.some((d) => d.band === b))
    .map((b) => {
      const m = bandModel(input, b);
      return `${b}: reach ${reachM(m, m.defaultTxPowerDbm, m.defaultSensitivityDbm).toFixed(0)} m at ${m.defaultTxPowerDbm} dBm / ${m.defaultSensitivityDbm} dBm without walls (${m.wallLossDb} dB per wall)`;
    });
  const linkNote = pairs.size > MAX_LINKS ? `; the ${MAX_LINKS} busiest of ${pairs.size} links drawn` : '';
  return `<div class="mapwrap">${out.join('')}</div><p class="note">${esc(legend.join('; '))}${esc(linkNote)}. Circles: each hub's reach (or the first radio's of each band); lines: frames heard per link (hover for counts).</p>`;
}
