/**
 * The report's timeline: one lane per device (scenario id), one track per kind of state
 * (power, Inter-PAN window, WAN, join, CBKE, tunnel, Reset HAN, alerts, lock), attackers in a
 * group of their own, and each expectation's deciding event as an anchor on its device's
 * lane. Plain HTML positioned in percent of the run, so it renders and zooms (a CSS width)
 * without scripts and an expectation's link scrolls to its event with the browser alone.
 */
import { type Lane, TRACKS, type Track } from './collect.js';
import { esc, formatTime, pct } from './html.js';

export interface Decider {
  /** Index of the expectation in the summary. */
  index: number;
  text: string;
  held: boolean;
  t: number;
  /** The device whose event decided it (scenario id), or null for a run-wide event. */
  device: string | null;
  summary: string;
}

const TRACK_TITLE: Record<Track, string> = {
  power: 'power',
  window: 'Inter-PAN',
  wan: 'WAN',
  join: 'join',
  cbke: 'CBKE',
  tunnel: 'tunnel',
  reset: 'Reset HAN',
  alerts: 'alerts',
  lock: 'lock',
  attack: 'attacks',
};

function ticks(durationUs: number): string {
  const out: string[] = [];
  for (let i = 0; i <= 10; i++) {
    const t = (durationUs * i) / 10;
    out.push(`<span class="tick" style="left:${(i * 10).toFixed(0)}%">${esc(formatTime(t))}</span>`);
  }
  return `<div class="ruler"><span class="tname"></span><div class="bar">${out.join('')}</div></div>`;
}

function trackRow(lane: Lane, track: Track, durationUs: number): string {
  const parts: string[] = [];
  for (const iv of lane.intervals[track] ?? []) {
    const left = pct(iv.start, durationUs);
    const right = pct(iv.end ?? durationUs, durationUs);
    const title = `${iv.label}: ${formatTime(iv.start)} - ${iv.end === null ? 'end' : formatTime(iv.end)}`;
    parts.push(
      `<i class="iv ${track}" style="left:${left.toFixed(3)}%;width:${Math.max(0.05, right - left).toFixed(3)}%" title="${esc(title)}"></i>`,
    );
  }
  for (const m of lane.marks[track] ?? [])
    parts.push(
      `<i class="m${m.bad ? ' bad' : ''}" style="left:${pct(m.t, durationUs).toFixed(3)}%" title="${esc(`${formatTime(m.t)} ${m.label}`)}"></i>`,
    );
  return `<div class="track" data-track="${track}"><span class="tname">${TRACK_TITLE[track]}</span><div class="bar">${parts.join('')}</div></div>`;
}

function deciderRow(ds: readonly Decider[], durationUs: number): string {
  const marks = ds.map(
    (d) =>
      `<a class="decide ${d.held ? 'held' : 'failed'}" id="decide-${d.index}" href="#exp-${d.index}" style="left:${Math.min(99.5, pct(d.t, durationUs)).toFixed(3)}%" title="${esc(`${formatTime(d.t)} ${d.held ? 'held' : 'FAILED'}: ${d.text} — ${d.summary}`)}">${d.held ? '✔' : '✘'}</a>`,
  );
  return `<div class="track" data-track="verdicts"><span class="tname">verdicts</span><div class="bar">${marks.join('')}</div></div>`;
}

function laneHtml(lane: Lane, deciders: readonly Decider[], durationUs: number): string {
  const d = lane.device;
  const tracks = TRACKS.filter(
    (t) => t === 'power' || (lane.intervals[t]?.length ?? 0) > 0 || (lane.marks[t]?.length ?? 0) > 0,
  );
  const rows = tracks.map((t) => trackRow(lane, t, durationUs));
  if (deciders.length > 0) rows.push(deciderRow(deciders, durationUs));
  const more = lane.dropped > 0 ? ` <small>(${lane.dropped} more not drawn)</small>` : '';
  return `<section class="lane" id="lane-${esc(d.id)}" data-device="${esc(d.id)}"><h4>${esc(d.id)} <small>${esc(d.type)}</small>${more}</h4>${rows.join('')}</section>`;
}

/**
 * Lanes for the devices (attackers last, under their own heading); past `maxLanes`, the
 * devices with no decider and the least activity are left out, and the page says how many.
 */
export function renderTimeline(
  lanes: readonly Lane[],
  deciders: readonly Decider[],
  durationUs: number,
  maxLanes: number,
): string {
  const activity = (l: Lane) =>
    Object.values(l.marks).reduce((n, m) => n + (m?.length ?? 0), 0) +
    Object.values(l.intervals).reduce((n, m) => n + (m?.length ?? 0), 0);
  const decided = new Set(deciders.map((d) => d.device));
  let shown = [...lanes];
  let hidden = 0;
  if (shown.length > maxLanes) {
    const keep = new Set(
      [...shown]
        .sort(
          (a, b) =>
            Number(decided.has(b.device.id)) - Number(decided.has(a.device.id)) || activity(b) - activity(a),
        )
        .slice(0, maxLanes),
    );
    hidden = shown.length - keep.size;
    shown = shown.filter((l) => keep.has(l));
  }
  // A decider on a lane not drawn goes to the run's own lane, so its link still lands.
  const byDevice = new Map<string, Decider[]>();
  const runWide: Decider[] = [];
  const ids = new Set(shown.map((l) => l.device.id));
  for (const d of deciders) {
    if (d.device !== null && ids.has(d.device)) {
      const list = byDevice.get(d.device) ?? [];
      list.push(d);
      byDevice.set(d.device, list);
    } else runWide.push(d);
  }
  const isAttacker = (l: Lane) => l.device.type === 'attacker' || (l.marks.attack?.length ?? 0) > 0;
  const html = [ticks(durationUs)];
  if (runWide.length > 0)
    html.push(
      `<section class="lane" id="lane-run" data-device="(run)"><h4>run <small>deciding events of no device drawn here</small></h4>${deciderRow(runWide, durationUs)}</section>`,
    );
  for (const l of shown.filter((l) => !isAttacker(l)))
    html.push(laneHtml(l, byDevice.get(l.device.id) ?? [], durationUs));
  const attackers = shown.filter(isAttacker);
  if (attackers.length > 0) {
    html.push('<h3 class="group">attacker activity</h3>');
    for (const l of attackers) html.push(laneHtml(l, byDevice.get(l.device.id) ?? [], durationUs));
  }
  const note =
    hidden > 0
      ? `<p class="note">${hidden} of ${lanes.length} devices not drawn (the ${maxLanes} with verdicts and the most activity are).</p>`
      : '';
  return `${note}<div class="zoomable" data-zoom="timeline"><div class="timeline">${html.join('\n')}</div></div>`;
}
