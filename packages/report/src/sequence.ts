/**
 * The sequence diagram: one column per party (scenario ids, the WAN side at the left), one
 * arrow per application exchange in time order, each labelled with its capture frame number
 * (tshark `frame.number`) and linked to capture.pcap. Generated SVG rather than a diagram
 * library: a run has thousands of arrows and each needs its own id, frame and tooltip, which
 * Mermaid-style text diagrams cannot carry and which would need a browser to lay out.
 */
import type { Arrow } from './exchanges.js';
import { WAN } from './exchanges.js';
import { esc, formatTime, num } from './html.js';

const ROW = 20;
const COL = 130;
const LEFT = 90;
const TOP = 40;
export const MAX_COLUMNS = 24;

/** Columns in order of first appearance, the WAN first; past the cap, one `others` column. */
function columns(arrows: readonly Arrow[]): { names: string[]; col: (name: string) => number } {
  const seen: string[] = [];
  const add = (n: string) => {
    if (!seen.includes(n)) seen.push(n);
  };
  if (arrows.some((a) => a.from === WAN || a.to === WAN)) add(WAN);
  for (const a of arrows) {
    add(a.from);
    if (a.to !== '*') add(a.to);
  }
  if (arrows.some((a) => a.to === '*')) add('(anyone)');
  let names = seen;
  if (seen.length > MAX_COLUMNS) names = [...seen.slice(0, MAX_COLUMNS - 1), 'others'];
  const index = new Map(names.map((n, i) => [n, i]));
  const col = (n: string) => index.get(n === '*' ? '(anyone)' : n) ?? names.length - 1;
  return { names, col };
}

export function renderSequence(
  arrows: readonly Arrow[],
  over: ReadonlyMap<string, number>,
  capture: string | null,
): string {
  if (arrows.length === 0) return '<p class="note">No application exchanges in this run.</p>';
  const { names, col } = columns(arrows);
  const width = LEFT + names.length * COL;
  const height = TOP + arrows.length * ROW + 10;
  const x = (i: number) => LEFT + i * COL + COL / 2;
  const out: string[] = [
    `<svg class="sequence" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="sequence diagram">`,
    '<defs><marker id="ah" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker></defs>',
  ];
  names.forEach((n, i) => {
    out.push(
      `<g class="party" data-party="${esc(n)}"><text x="${num(x(i))}" y="16" text-anchor="middle">${esc(n)}</text><line x1="${num(x(i))}" y1="24" x2="${num(x(i))}" y2="${height}"/></g>`,
    );
  });
  arrows.forEach((a, i) => {
    const y = TOP + i * ROW;
    const c1 = col(a.from);
    const c2 = col(a.to);
    const x1 = x(c1);
    const self = c1 === c2;
    const x2 = self ? x1 + 40 : x(c2);
    const frame = a.frame === undefined ? '' : ` frame ${a.frame}`;
    const title = `${formatTime(a.t)} ${a.from} → ${a.to === '*' ? '(anyone)' : a.to}: ${a.label}${frame}`;
    const line = self
      ? `<path d="M${num(x1)},${y - 4}h40v8h-38" fill="none" marker-end="url(#ah)"/>`
      : `<line x1="${num(x1)}" y1="${y}" x2="${num(x2 + (x2 > x1 ? -3 : 3))}" y2="${y}" marker-end="url(#ah)"/>`;
    const mid = self ? x1 + 46 : (x1 + x2) / 2;
    // without a capture file the numbers would name frames nobody can open
    const fr =
      a.frame === undefined || capture === null
        ? ''
        : `<a href="${esc(capture)}"><text class="fr" x="${num(Math.max(x1, x2) + 4)}" y="${y + 4}">#${a.frame}</text></a>`;
    out.push(
      `<g class="msg ${a.kind}${a.bad ? ' bad' : ''}" id="msg-${i}" data-t="${a.t}" data-side="${a.side}" data-from="${esc(a.from)}" data-to="${esc(a.to)}"${a.frame === undefined ? '' : ` data-frame="${a.frame}"`}><title>${esc(title)}</title><text class="t" x="4" y="${y + 4}">${esc(formatTime(a.t))}</text>${line}<text x="${num(mid)}" y="${y - 3}" text-anchor="${self ? 'start' : 'middle'}">${esc(a.label)}</text>${fr}</g>`,
    );
  });
  out.push('</svg>');
  let overNote = '';
  if (over.size > 0) {
    const rows = [...over]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 30)
      .map(([k, n]) => {
        const [from, to, what] = k.split('\t');
        return `<tr><td>${esc(from)}</td><td>${esc(to)}</td><td>${esc(what)}</td><td>${n}</td></tr>`;
      });
    const total = [...over.values()].reduce((s, n) => s + n, 0);
    overNote = `<p class="note">The diagram stops at ${arrows.length} arrows; ${total} later exchanges are counted here instead (top 30 by count).</p><table><tr><th>from</th><th>to</th><th>what</th><th>count</th></tr>${rows.join('')}</table>`;
  }
  return `<div class="zoomable seqwrap" data-zoom="sequence">${out.join('\n')}</div>${overNote}`;
}
