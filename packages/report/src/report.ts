/**
 * report.html for one run: the verdicts (each linked to its deciding event on the timeline),
 * the timeline, the sequence diagram, the map and the summary figures, in one self-contained
 * file (inline CSS and SVG, no network). Everything is rendered here; the small inline script
 * only adds zoom buttons, so the page reads the same with scripts off.
 */
import { writeFileSync } from 'node:fs';
import type { Wall } from '@gbhan/radio-bus';
import { barSpec, chartSvg, dutySpec } from './charts.js';
import type { ReportCollector } from './collect.js';
import { esc, formatTime } from './html.js';
import { type MapInput, renderMap } from './map.js';
import { REPORT_CSS, ZOOM_SCRIPT } from './report-style.js';
import { renderSequence } from './sequence.js';
import { type Decider, renderTimeline } from './timeline.js';

export interface ReportExpectation {
  text: string;
  line: number | null;
  held: boolean;
  detail: string;
  event?: { t: number; summary: string };
}

export interface ReportRisk {
  id: string;
  categoryTitle: string;
  title: string;
  exercised: boolean;
  attempts: number;
  executed: number;
  detected: number;
  scores: { score: number; rating: string };
  delay?: { medianS: number | null; maxS: number | null };
}

/** What the run's summary says, in the shape summary.json has it. */
export interface ReportRun {
  name: string;
  file: string;
  description?: string;
  seed: string;
  mode: string;
  durationUs: number;
  wallMs: number;
  expectations: readonly ReportExpectation[];
  drops: Record<string, number>;
  radios: readonly {
    id: string;
    type: string;
    tx: number;
    rx: number;
    outOfRange: number;
    otherChannel: number;
  }[];
  risks: readonly ReportRisk[];
  supplyOff?: readonly { id: string; offUs: number; interruptions: number }[];
  walls: readonly Wall[];
  bands?: MapInput['bands'];
  /** The capture's file name next to report.html (arrows link to it), or null without one. */
  capture: string | null;
}

export interface ReportOptions {
  /** Device lanes drawn at most (the busiest and those with verdicts first). */
  maxLanes?: number;
}

/** The device an expectation's deciding event belongs to: summaries read `<type> <id> ...`. */
export function deciderDevice(summary: string, ids: ReadonlySet<string>): string | null {
  const id = summary.split(' ')[1];
  return id !== undefined && ids.has(id) ? id : null;
}

/** Text with every EUI64 of a scenario device replaced by the device's id. */
export function withIds(text: string, name: (eui: string) => string): string {
  return text.replace(/\b[0-9a-f]{16}\b/gi, (eui) => name(eui.toLowerCase()));
}

function verdicts(run: ReportRun, name: (eui: string) => string): string {
  const held = run.expectations.filter((x) => x.held).length;
  const rows = run.expectations.map((x, i) => {
    const at = x.event ? formatTime(x.event.t) : '';
    const link = x.event
      ? `<a href="#decide-${i}" class="goto">${esc(at)}</a>`
      : '<span class="none">no event</span>';
    const where = x.line === null ? '' : ` <small>${esc(run.file)}:${x.line}</small>`;
    return `<li id="exp-${i}" class="verdict ${x.held ? 'held' : 'failed'}"><b>${x.held ? 'held' : 'FAILED'}</b> ${esc(x.text)}${where} — ${esc(withIds(x.detail, name))} ${link}</li>`;
  });
  return `<p><b>${held}/${run.expectations.length}</b> expectations held.</p><ol class="verdicts">${rows.join('')}</ol>`;
}

function table(head: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return '';
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

async function figures(run: ReportRun, c: ReportCollector): Promise<string> {
  const parts: string[] = [];
  const drops = Object.entries(run.drops).map(([label, n]) => ({ label, n }));
  if (drops.length > 0)
    parts.push(await chartSvg(barSpec('Frames not delivered, by reason', drops, 'drops')));
  const radios = [...run.radios].sort((a, b) => b.tx - a.tx).slice(0, 25);
  if (radios.length > 0)
    parts.push(
      await chartSvg(
        barSpec(
          `Frames per device${run.radios.length > 25 ? ' (25 busiest)' : ''}`,
          radios.flatMap((r) => [
            { label: r.id, n: r.tx, series: 'sent' },
            { label: r.id, n: r.rx, series: 'received' },
          ]),
          'frames',
        ),
      ),
    );
  const links = [...c.linkFrames].sort((a, b) => b[1] - a[1]).slice(0, 20);
  if (links.length > 0)
    parts.push(
      await chartSvg(
        barSpec(
          'Frames heard per link (20 busiest)',
          links.map(([k, n]) => ({ label: k.replace('\t', ' → '), n })),
          'frames',
        ),
      ),
    );
  if (c.duty.length > 0) parts.push(await chartSvg(dutySpec(c.duty)));
  const html = [`<div class="charts">${parts.map((p) => `<figure>${p}</figure>`).join('')}</div>`];
  if (c.dutyOver > 0) html.push(`<p class="note">${c.dutyOver} later duty-cycle changes not drawn.</p>`);
  if (c.interpanReports.size > 0) {
    html.push('<h3>interpan-report</h3>');
    for (const [hub, r] of c.interpanReports) {
      const frames = (r.frames ?? {}) as Record<string, { processed: number; dropped: number }>;
      const open = typeof r.totalOpenUs === 'number' ? formatTime(r.totalOpenUs) : String(r.totalOpenUs);
      const windowUs = typeof r.windowUs === 'number' ? formatTime(r.windowUs) : String(r.windowUs);
      html.push(
        `<p>${esc(hub)}: window ${esc(windowUs)}, open ${esc(open)} in all</p>`,
        table(
          ['source', 'processed', 'dropped'],
          Object.entries(frames).map(([src, f]) => [c.name(src), f.processed, f.dropped]),
        ),
      );
    }
  }
  if (run.risks.length > 0) {
    html.push('<h3>Risks (SECMP0038)</h3>');
    html.push(
      table(
        [
          'risk',
          'category',
          'title',
          'attempted',
          'executed',
          'detected',
          'delay median / max',
          'score',
          'rating',
        ],
        run.risks.map((r) => [
          r.id,
          r.categoryTitle,
          r.title,
          r.exercised ? r.attempts : 'not exercised',
          r.executed,
          r.detected,
          r.delay?.medianS == null
            ? ''
            : `${r.delay.medianS.toFixed(1)} s / ${(r.delay.maxS ?? 0).toFixed(1)} s`,
          r.scores.score,
          r.scores.rating,
        ]),
      ),
    );
  }
  if (run.supplyOff && run.supplyOff.length > 0) {
    html.push('<h3>Time off supply</h3>');
    html.push(
      table(
        ['meter', 'off', 'interruptions'],
        run.supplyOff.map((m) => [m.id, formatTime(m.offUs), m.interruptions]),
      ),
    );
  }
  return html.join('\n');
}

export async function renderReport(
  run: ReportRun,
  c: ReportCollector,
  o: ReportOptions = {},
): Promise<string> {
  const ids = new Set(c.devices.map((d) => d.id));
  const deciders: Decider[] = run.expectations.flatMap((x, index) =>
    x.event === undefined
      ? []
      : [
          {
            index,
            text: x.text,
            held: x.held,
            t: x.event.t,
            device: deciderDevice(x.event.summary, ids),
            summary: withIds(x.event.summary, c.name),
          },
        ],
  );
  const lanes = [...c.lanes.values()];
  const held = run.expectations.filter((x) => x.held).length;
  const frameNote = run.capture
    ? `Each arrow's <b>#n</b> is its frame in <a href="${esc(run.capture)}">${esc(run.capture)}</a> (Wireshark: Go to Packet n; tshark <code>frame.number==n</code>): the sender's first frame on air at or after the event, or the last frame the receiver heard before it.`
    : 'No capture was written (outputs.pcap: false).';
  const body = [
    `<header><h1>${esc(run.name)}</h1><p>${esc(run.description ?? '')}</p><p class="meta">${esc(run.file)} · seed ${esc(run.seed)} · ${esc(run.mode)} · ${esc(formatTime(run.durationUs))} simulated in ${(run.wallMs / 1000).toFixed(2)} s · ${c.devices.length} devices · ${c.frames} frames · <span class="${held === run.expectations.length ? 'ok' : 'bad'}">${held}/${run.expectations.length} expectations held</span></p></header>`,
    '<nav><a href="#verdicts">verdicts</a> <a href="#timeline">timeline</a> <a href="#sequence">sequence</a> <a href="#map">map</a> <a href="#figures">figures</a></nav>',
    `<section id="verdicts"><h2>Expectations</h2>${verdicts(run, c.name)}</section>`,
    `<section id="timeline"><h2>Timeline <span class="zoom" data-for="timeline"></span></h2><p class="note">One lane per device; bars are states (power on, Inter-PAN window open, WAN down, on the HAN, CBKE running, tunnel up, unlocked), ticks are events (red: refusals, failures, alerts). ✔/✘ mark each expectation's deciding event. Hover for details.</p>${renderTimeline(lanes, deciders, run.durationUs, o.maxLanes ?? 60)}</section>`,
    `<section id="sequence"><h2>Sequence <span class="zoom" data-for="sequence"></span></h2><p class="note">${frameNote}</p>${renderSequence(c.arrows, c.arrowsOver, run.capture)}</section>`,
    `<section id="map"><h2>Map</h2>${renderMap({ devices: c.devices, walls: run.walls, linkFrames: c.linkFrames, ...(run.bands ? { bands: run.bands } : {}) })}</section>`,
    `<section id="figures"><h2>Figures</h2>${await figures(run, c)}</section>`,
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(run.name)} · gbhan report</title><style>${REPORT_CSS}</style></head><body>${body.join('\n')}<script>${ZOOM_SCRIPT}</script></body></html>\n`;
}

export async function writeReport(
  path: string,
  run: ReportRun,
  c: ReportCollector,
  o: ReportOptions = {},
): Promise<void> {
  writeFileSync(path, await renderReport(run, c, o));
}
