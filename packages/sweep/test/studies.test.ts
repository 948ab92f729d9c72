/**
 * The shipped studies' --quick variants, as CI runs them: every run ok, the numbers that
 * can be worked out by hand, and the report (self-contained HTML with inline SVG figures,
 * the same figures as .svg and .png files beside it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '@gbhan/testing/cli';
import { afterAll, describe, expect, it } from 'vitest';
import { runSweep, type SummaryRow, summarize } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gbhan-sweep-studies-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mean = (summary: SummaryRow[], metric: string, params: Record<string, string>) =>
  summary.find((s) => s.metric === metric && Object.entries(params).every(([k, v]) => s.params[k] === v))
    ?.mean;

describe('shipped studies, --quick', () => {
  it('attack-window: exposure per band and window, the attacker-caused cut reopens every window', async () => {
    const r = await runSweep(join(ROOT, 'studies/attack-window.yaml'), {
      quick: true,
      out: dir,
      workers: 2,
      log: () => {},
    });
    expect(r.rows).toHaveLength(8);
    expect(r.errors).toBe(0);
    expect(r.rows.every((x) => x.held === x.total)).toBe(true);
    const s = summarize(r.study, r.rows);
    // 4 hubs, 60-minute window from 0 and again from the 1 s cut at 2 h: 4 x 120 min
    expect(mean(s, 'open_hub_min_2g4', { bands: '2.4GHz', window: '60m' })).toBe(480);
    expect(mean(s, 'open_hub_min_868', { bands: '2.4GHz', window: '60m' })).toBe(0);
    expect(mean(s, 'open_hub_min_868', { bands: 'dual', window: '60m' })).toBe(480);
    // unlimited: 4 x (4 h less the 1 s cut)
    expect(mean(s, 'open_hub_min_2g4', { bands: '2.4GHz', window: 'unlimited' })).toBe(
      Math.round(4 * (240 - 1 / 60) * 1e6) / 1e6,
    );
    // the attacker stands at (8, 10): the 4 hubs (x = 0, 5.5, 11, 16.5) are 10.3 to 13.1 m away, all within class 15 m
    expect(mean(s, 'attackable_max_r15', { bands: '2.4GHz', window: '60m' })).toBe(4);
    // 60 min: the attempts at 15 and 45 min, the 5-frame flood after the cut and 2h15, 2h45 get in;
    // 1h15, 1h45, 3h15, 3h45 are dropped
    expect(mean(s, 'attacker_processed', { bands: '2.4GHz', window: '60m' })).toBe(9);
    expect(mean(s, 'attacker_dropped', { bands: '2.4GHz', window: '60m' })).toBe(4);
    expect(mean(s, 'attacker_dropped', { bands: '2.4GHz', window: 'unlimited' })).toBe(0);
    const html = readFileSync(r.files.report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src="http|href="http/);
    expect(r.files.figures).toHaveLength(4);
    for (const f of r.files.figures.filter((x) => x.endsWith('.png')))
      expect(readFileSync(f).subarray(1, 4).toString()).toBe('PNG');
  });

  it('secmp0037-tradeoff: the share of posted PPMIDs that pair grows with the window', async () => {
    const r = await runSweep(join(ROOT, 'studies/secmp0037-tradeoff.yaml'), {
      quick: true,
      out: dir,
      workers: 2,
      log: () => {},
    });
    expect(r.rows).toHaveLength(6);
    expect(r.errors).toBe(0);
    const s = summarize(r.study, r.rows);
    // PPMIDs arrive at 15, 25, 35, 45 min: a 20-minute window lets 1 pair, 60 minutes all 4
    expect(mean(s, 'ppmid_paired_share', { window: '20m' })).toBe(0.25);
    expect(mean(s, 'ppmid_paired_share', { window: '60m' })).toBe(1);
    expect(mean(s, 'ppmid_paired_share', { window: 'unlimited' })).toBe(1);
    // and the exposure: 4 hubs x the window (the run lasts 70 min)
    expect(mean(s, 'open_hub_min', { window: '20m' })).toBe(80);
    expect(mean(s, 'open_hub_min', { window: '60m' })).toBe(240);
    expect(mean(s, 'open_hub_min', { window: 'unlimited' })).toBe(280);
    expect(readFileSync(r.files.report, 'utf8')).toContain('SECMP0037 trade-off');
  });
});
