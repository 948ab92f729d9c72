/**
 * Small helpers the report and the live page share: HTML escaping, times as the CLI prints
 * them, and numbers for SVG attributes.
 */

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe inside HTML elements and quoted attributes. */
export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** Virtual microseconds as `1m11.910s` / `96h00m00s` (the CLI's format). */
export function formatTime(us: number): string {
  const ms = Math.round(us / 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${s % 1 === 0 ? s.toFixed(0) : s.toFixed(3)}s`;
  const padded = sec.padStart(s < 10 ? sec.length + 1 : sec.length, '0');
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${padded}`;
  if (m > 0) return `${m}m${padded}`;
  return sec;
}

/** A number for an SVG attribute: at most 2 decimals, so big diagrams stay small. */
export function num(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Percent of `t` along a run of `durationUs` (0..100), for timeline positions. */
export function pct(t: number, durationUs: number): number {
  return durationUs <= 0 ? 0 : Math.max(0, Math.min(100, (100 * t) / durationUs));
}
