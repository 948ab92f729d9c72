/**
 * report.html's inline stylesheet and its one optional script (zoom buttons for the timeline
 * and the sequence diagram). Without the script the page is complete, at zoom 1.
 */

export const REPORT_CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 3em;color:#1d2733;background:#fff}
header{border-bottom:1px solid #ddd;padding-bottom:.3em}
nav{position:sticky;top:0;background:#fff;z-index:5;padding:.3em 0;border-bottom:1px solid #eee}
h1{margin:.4em 0 0;font-size:1.5em}h2{margin-top:1.6em;border-bottom:2px solid #e5e9ef}
nav a{margin-right:1em}.meta{color:#556}.ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}
.note{color:#556;font-size:.9em}small{color:#667}
ol.verdicts{padding-left:2em}.verdict{margin:.15em 0}.verdict.held b{color:#1a7f37}.verdict.failed b{color:#c62828}
.verdict:target{background:#fff6c8}.verdict,a.decide,section{scroll-margin-top:150px}
.zoomable{overflow-x:auto;border:1px solid #e5e9ef;--zoom:1}
.timeline{width:calc(100% * var(--zoom));min-width:100%;position:relative}
.lane{border-top:1px solid #eef}.lane h4{margin:0;padding:2px 4px;font-size:12px;position:sticky;left:0;display:inline-block;background:#fff;z-index:2}
h3.group{margin:.6em 0 0;padding:2px 4px;background:#fdecea;color:#8a1c1c;font-size:13px}
.track,.ruler{display:flex;height:15px}
.tname{flex:none;width:72px;font-size:11px;color:#556;position:sticky;left:0;background:#fff;z-index:2;padding-left:4px}
.bar{position:relative;flex:1;border-left:1px solid #ddd}
.ruler{height:18px;border-bottom:1px solid #ccc}.tick{position:absolute;font-size:10px;color:#667;white-space:nowrap;border-left:1px solid #ccc;padding-left:2px}
.iv{position:absolute;top:3px;height:9px;border-radius:2px;opacity:.85}
.iv.power{background:#9bd19b}.iv.window{background:#f2c14e}.iv.wan{background:#e57373}.iv.join{background:#64b5f6}
.iv.cbke{background:#ba68c8}.iv.tunnel{background:#4db6ac}.iv.lock{background:#ffb74d}.iv.reset,.iv.alerts,.iv.attack{background:#999}
.m{position:absolute;top:1px;width:2px;height:13px;background:#2c3e50;margin-left:-1px}.m.bad{background:#d32f2f}
a.decide{position:absolute;top:-1px;transform:translateX(-50%);font-size:12px;text-decoration:none;line-height:15px;padding:0 2px;border-radius:3px;z-index:1}
a.decide.held{color:#1a7f37}a.decide.failed{color:#c62828}
a.decide:target{background:#ffe14d;outline:2px solid #f5a623;z-index:3}
.seqwrap{max-height:75vh;overflow:auto}
svg.sequence{zoom:var(--zoom);font:11px sans-serif}
svg.sequence .party text{font-weight:600}svg.sequence .party line{stroke:#bbb;stroke-dasharray:3 3}
svg.sequence .msg line,svg.sequence .msg path{stroke:#37474f;stroke-width:1.2}
svg.sequence .msg.cbke line{stroke:#7b1fa2}svg.sequence .msg.tunnel line{stroke:#00897b}svg.sequence .msg.gbcs line{stroke:#1565c0}
svg.sequence .msg.key line{stroke:#6d4c41}svg.sequence .msg.interpan line{stroke:#ef6c00}
svg.sequence .msg.bad line,svg.sequence .msg.bad path{stroke:#d32f2f}svg.sequence .msg.bad text{fill:#b71c1c}
svg.sequence text.t{fill:#778}svg.sequence text.fr{fill:#1565c0;text-decoration:underline}
svg.sequence .msg:hover{font-weight:600}
.mapwrap{overflow:auto}svg.map .floor{fill:#fafbfc}svg.map .walls line{stroke:#333;stroke-width:3}
svg.map .reach circle{fill-opacity:.05;stroke-dasharray:6 4;stroke-width:2}svg.map .reach .band-24{stroke:#1e88e5;fill:#1e88e5}svg.map .reach .band-868{stroke:#e53935;fill:#e53935}
svg.map .links line{stroke:#90a4ae;opacity:.6}svg.map .dev circle{fill:#455a64;stroke:#fff;stroke-width:2}
svg.map .dev.comms-hub circle{fill:#1565c0}svg.map .dev.attacker circle{fill:#d32f2f}svg.map .dev.esme circle,svg.map .dev.gsme circle{fill:#2e7d32}
svg.map .dev text{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px}
.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #dde;padding:2px 6px;font-size:12px;text-align:left}
.zoom button{font-size:12px;margin-left:.3em}
`;

/** Zoom buttons next to the timeline and sequence headings (optional: scripts off = zoom 1). */
export const ZOOM_SCRIPT = `
for (const span of document.querySelectorAll('.zoom[data-for]')) {
  const box = document.querySelector('.zoomable[data-zoom="' + span.dataset.for + '"]');
  if (!box) continue;
  let z = 1;
  const label = document.createElement('span');
  const set = (v) => { z = Math.min(256, Math.max(span.dataset.for === 'sequence' ? 0.25 : 1, v)); box.style.setProperty('--zoom', z); label.textContent = ' x' + z + ' '; };
  for (const [text, f] of [['−', 0.5], ['+', 2]]) {
    const b = document.createElement('button');
    b.textContent = text; b.type = 'button'; b.title = 'zoom ' + (f > 1 ? 'in' : 'out');
    b.addEventListener('click', () => set(z * f));
    span.append(b);
    if (f < 1) span.append(label);
  }
  set(1);
}
`;
