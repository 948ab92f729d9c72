/**
 * The live view's page: the map (rendered on the server, as in the report) with frames in
 * flight drawn over it, the virtual clock with pause, step and speed, a timeline and an event
 * log filling in, and a device's detail on click. One self-contained page; its script talks
 * to the server over the WebSocket at /ws (live-protocol.ts).
 */
import { esc } from './html.js';
import type { LiveRun } from './live-server.js';
import { renderMap } from './map.js';

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0 1.2em 2em;color:#1d2733}
header{display:flex;gap:1em;align-items:center;flex-wrap:wrap;position:sticky;top:0;background:#fff;z-index:3;padding:.4em 0;border-bottom:1px solid #ddd}
h1{font-size:1.3em;margin:0}#clock{font:600 1.4em ui-monospace,monospace;min-width:9em}
#state{font-weight:600}#state.paused{color:#c77700}#state.done{color:#1a7f37}
.cols{display:grid;grid-template-columns:minmax(0,880px) minmax(280px,1fr);gap:1em;margin-top:.6em}
#detail{border:1px solid #dde;padding:.5em;min-height:8em;max-height:300px;overflow:auto;font-size:12px}#detail h3{margin:.1em 0}
#log{font:12px ui-monospace,monospace;max-height:560px;overflow:auto;border:1px solid #dde;padding:.3em;margin:0;list-style:none}
#log li.bad{color:#b71c1c}
.lanes{border:1px solid #dde;margin-top:.6em}.lane{display:flex;height:16px;border-top:1px solid #f0f0f4}
.lane .name{flex:none;width:110px;font-size:11px;padding-left:4px;overflow:hidden;white-space:nowrap}
.lane .bar{position:relative;flex:1;border-left:1px solid #ddd}.lane i{position:absolute;top:2px;width:2px;height:12px;background:#37474f}
.lane i.bad{background:#d32f2f}.lane .now{position:absolute;top:0;bottom:0;width:1px;background:#1565c0}
svg.map .floor{fill:#fafbfc}svg.map .walls line{stroke:#333;stroke-width:3}
svg.map .reach circle{fill-opacity:.05;stroke-dasharray:6 4;stroke-width:2}svg.map .reach .band-24{stroke:#1e88e5;fill:#1e88e5}svg.map .reach .band-868{stroke:#e53935;fill:#e53935}
svg.map .links line{display:none}svg.map .dev{cursor:pointer}svg.map .dev circle{fill:#455a64;stroke:#fff;stroke-width:2}
svg.map .dev.comms-hub circle{fill:#1565c0}svg.map .dev.attacker circle{fill:#d32f2f}svg.map .dev.esme circle,svg.map .dev.gsme circle{fill:#2e7d32}
svg.map .dev.txing circle{stroke:#ff9800;stroke-width:5}svg.map .dev.selected circle{stroke:#000}
svg.map .dev text{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px}
svg.map line.flight{stroke:#ff9800;stroke-width:2.5;opacity:.9}svg.map line.flight.drop{stroke:#d32f2f;stroke-dasharray:4 3}
.note{color:#556;font-size:.9em}
`;

/** The page's script (plain browser JavaScript, no build step). */
const SCRIPT = `
const $ = (s) => document.querySelector(s);
const fmt = (us) => { const ms = Math.round(us / 1000); const h = Math.floor(ms / 3600000), m = Math.floor(ms % 3600000 / 60000), s = (ms % 60000) / 1000;
  const sec = (s % 1 === 0 ? s.toFixed(0) : s.toFixed(3)) + 's'; const p = s < 10 && (h || m) ? '0' + sec : sec;
  return h ? h + 'h' + String(m).padStart(2, '0') + 'm' + p : m ? m + 'm' + p : sec; };
let duration = 1, paused = false, selected = null, ws = null;
const lanes = new Map(), perDevice = new Map(), counts = new Map();
const svg = $('svg.map'); const flights = document.createElementNS('http://www.w3.org/2000/svg', 'g'); flights.id = 'flights'; svg.append(flights);
const centre = (id) => { const g = document.getElementById('dev-' + id); return g ? [g.dataset.x, g.dataset.y] : null; };
function send(m) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(m)); }
function lane(id) {
  let l = lanes.get(id); if (l) return l;
  const row = document.createElement('div'); row.className = 'lane'; row.dataset.device = id;
  row.innerHTML = '<span class="name"></span><div class="bar"><span class="now"></span></div>'; row.firstChild.textContent = id;
  $('#lanes').append(row); l = row.querySelector('.bar'); lanes.set(id, l); return l;
}
function hello(m) {
  duration = Math.max(1, m.durationUs); $('#name').textContent = m.name; $('#mode').textContent = m.mode === 'replay' ? 'replay of a finished run' : 'live run';
  $('#lanes').textContent = ''; lanes.clear(); perDevice.clear(); counts.clear(); $('#log').textContent = '';
  for (const d of m.devices) { lane(d.id); counts.set(d.id, { tx: 0, rx: 0, drop: 0, type: d.type, band: d.band, channel: d.channel }); }
}
function flight(from, to, cls) {
  const a = centre(from), b = centre(to); if (!a || !b) return;
  if (flights.childNodes.length > 150) flights.firstChild.remove();
  const l = document.createElementNS('http://www.w3.org/2000/svg', 'line');
  l.setAttribute('x1', a[0]); l.setAttribute('y1', a[1]); l.setAttribute('x2', b[0]); l.setAttribute('y2', b[1]);
  l.setAttribute('class', 'flight' + (cls ? ' ' + cls : '')); flights.append(l); setTimeout(() => l.remove(), 450);
}
function remember(id, line) { let list = perDevice.get(id); if (!list) { list = []; perDevice.set(id, list); } list.push(line); if (list.length > 60) list.shift(); }
function logLine(e, text, bad) {
  const li = document.createElement('li'); li.textContent = fmt(e.t) + '  ' + text; if (bad) li.className = 'bad';
  const log = $('#log'); log.prepend(li); while (log.childNodes.length > 300) log.lastChild.remove();
}
function onEvent(e) {
  const c = counts.get(e.d);
  if (e.k === 'tx') { if (c) c.tx++; const g = document.getElementById('dev-' + e.d); if (g) { g.classList.add('txing'); setTimeout(() => g.classList.remove('txing'), 250); } return; }
  if (e.k === 'rx') { if (c) c.rx++; flight(e.from, e.d); return; }
  if (e.k === 'drop') { if (c) c.drop++; flight(e.from, e.d, 'drop'); return; }
  if (e.k === 'bus') { logLine(e, e.label, false); return; }
  const bar = lane(e.d); if (bar.childNodes.length > 400) bar.childNodes[1].remove();
  const i = document.createElement('i'); i.style.left = (100 * e.t / duration).toFixed(3) + '%'; i.title = fmt(e.t) + ' ' + e.label; if (e.bad) i.className = 'bad'; bar.append(i);
  const text = e.d + ' ' + e.label + (e.to ? ' → ' + e.to : ''); logLine(e, text, e.bad); remember(e.d, fmt(e.t) + ' ' + e.label);
  if (e.d === selected) detail(selected);
}
function clock(m) {
  paused = m.paused; $('#clock').textContent = fmt(m.t); $('#clock').dataset.t = String(m.t);
  const st = $('#state'); st.textContent = m.done ? 'finished' : m.paused ? 'paused' : 'running'; st.className = m.done ? 'done' : m.paused ? 'paused' : '';
  $('#replay').hidden = !m.canReplay;
  $('#pause').textContent = m.paused ? 'resume' : 'pause'; $('#pause').disabled = m.done; $('#step').disabled = m.done || !m.paused;
  const sp = m.speed === null ? 'max' : String(m.speed); const sel = $('#speed');
  if (![...sel.options].some((o) => o.value === sp)) { const o = document.createElement('option'); o.value = sp; o.textContent = 'x' + sp; sel.append(o); }
  if (sel.value !== sp && document.activeElement !== sel) sel.value = sp;
  $('#skipped').textContent = m.skipped > 0 ? m.skipped + ' events not shown (the page could not keep up)' : '';
  const x = (100 * m.t / duration).toFixed(3) + '%'; for (const bar of lanes.values()) bar.firstChild.style.left = x;
}
function detail(id) {
  const c = counts.get(id) || {}; const box = $('#detail'); box.textContent = '';
  const h = document.createElement('h3'); h.textContent = id + ' (' + (c.type || '?') + ')'; box.append(h);
  const p = document.createElement('p'); p.textContent = (c.band || '') + ' channel ' + (c.channel ?? '?') + ' · frames sent ' + (c.tx || 0) + ', received ' + (c.rx || 0) + ', lost ' + (c.drop || 0); box.append(p);
  const ol = document.createElement('ol'); ol.reversed = true; for (const l of (perDevice.get(id) || []).slice().reverse()) { const li = document.createElement('li'); li.textContent = l; ol.append(li); } box.append(ol);
}
for (const g of document.querySelectorAll('svg.map .dev')) g.addEventListener('click', () => {
  document.querySelectorAll('svg.map .dev.selected').forEach((x) => x.classList.remove('selected')); g.classList.add('selected'); selected = g.dataset.id; detail(selected);
});
$('#pause').addEventListener('click', () => send({ cmd: paused ? 'resume' : 'pause' }));
$('#replay').addEventListener('click', () => send({ cmd: 'replay' }));
$('#step').addEventListener('click', () => send({ cmd: 'step', us: Number($('#stepsize').value) }));
$('#speed').addEventListener('change', () => { const v = $('#speed').value; send({ cmd: 'speed', speed: v === 'max' ? null : Number(v) }); });
function connect() {
  ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  ws.onmessage = (msg) => { const m = JSON.parse(msg.data);
    if (m.type === 'hello') hello(m); else if (m.type === 'clock') clock(m); else if (m.type === 'events') m.events.forEach(onEvent);
    else if (m.type === 'error') $('#skipped').textContent = m.message; };
  ws.onclose = () => { $('#state').textContent = 'disconnected'; };
}
connect();
`;

export function livePage(run: LiveRun): string {
  const map = renderMap({
    devices: run.devices,
    walls: run.walls,
    ...(run.bands ? { bands: run.bands } : {}),
  });
  const speeds = ['1', '10', '100', '1000', 'max']
    .map((s) => `<option value="${s}">${s === 'max' ? 'as fast as possible' : `x${s}`}</option>`)
    .join('');
  const steps = [
    ['100000', '0.1 s'],
    ['1000000', '1 s'],
    ['10000000', '10 s'],
    ['60000000', '1 min'],
  ]
    .map(([v, l]) => `<option value="${v}"${v === '1000000' ? ' selected' : ''}>${l}</option>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(run.name)} · gbhan live</title><style>${CSS}</style></head><body>
<header><h1 id="name">${esc(run.name)}</h1><span id="mode" class="note"></span><span id="clock" data-t="0">0s</span><span id="state"></span>
<button id="pause" type="button">pause</button><button id="step" type="button" disabled>step</button><select id="stepsize" title="step size">${steps}</select>
<label>speed <select id="speed">${speeds}</select></label><button id="replay" type="button" hidden>replay</button><span id="skipped" class="note"></span></header>
<p class="note">${esc(run.description ?? '')} Click a device for its detail. Orange lines: frames received; red dashed: frames lost.</p>
<div class="cols"><div><div id="map">${map}</div><h3>Timeline</h3><div class="lanes" id="lanes"></div></div>
<div><div id="detail"><p class="note">No device selected.</p></div><h3>Events</h3><ol id="log"></ol></div></div>
<script>${SCRIPT}</script></body></html>\n`;
}
