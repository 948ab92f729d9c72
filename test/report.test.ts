/**
 * report.html of two shipped scenarios (reset-han-rejoin, secmp0037-local-ppmid-pairing), run
 * in-process once: its sequence arrows name the capture frames tshark numbers (frame.number),
 * and in Chromium it loads with no console error, shows the expected lanes, arrows and
 * verdicts, scrolls to an expectation's deciding event on a click, and reads with scripts
 * off. `outputs.report: false` writes none. Screenshots go to out/screenshots/.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_EPOCH_US } from '@gbhan/radio-bus';
import { ROOT } from '@gbhan/testing/cli';
import { tsharkFields } from '@gbhan/testing/tshark';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from '../packages/scenario/src/runner.js';
import { loadScenario } from '../packages/scenario/src/schema.js';
import { consoleErrors, launchChromium, SCREENSHOTS } from './browser.js';
import '../packages/scenario/src/builtin.js';

const OUT = mkdtempSync(join(tmpdir(), 'gbhan-report-'));
const results = new Map<string, ScenarioResult>();
let browser: Browser;

beforeAll(async () => {
  for (const name of ['reset-han-rejoin', 'secmp0037-local-ppmid-pairing'])
    results.set(
      name,
      await runScenario(loadScenario(join(ROOT, `scenarios/${name}.yaml`)), { outRoot: OUT }),
    );
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

const reportOf = (name: string) => results.get(name)!.outputs.report!;

interface Tx {
  t: number;
  radio: string;
  frame: number;
  psdu: string;
}
function txFrames(name: string): Tx[] {
  return readFileSync(results.get(name)!.outputs.trace!, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"tx"'))
    .map((l) => JSON.parse(l) as Tx);
}

describe('report.html and the capture', () => {
  it('each arrow names the frame tshark numbers: the sender’s first frame on air at or after the exchange', () => {
    const name = 'reset-han-rejoin';
    const html = readFileSync(reportOf(name), 'utf8');
    const arrows = [
      ...html.matchAll(
        /<g class="msg [^"]*" id="msg-\d+" data-t="(\d+)" data-side="(\w+)" data-from="([^"]+)" data-to="[^"]+" data-frame="(\d+)"/g,
      ),
    ].map((m) => ({ t: Number(m[1]), side: m[2]!, from: m[3]!, frame: Number(m[4]) }));
    expect(arrows.length).toBeGreaterThan(50);
    const eui = new Map(results.get(name)!.radios.map((r) => [r.id, r.eui64]));
    const tx = txFrames(name);
    const rows = tsharkFields(join(OUT, name, 'capture.pcap'), [
      'frame.number',
      'frame.time_epoch',
      'wpan.seq_no',
    ]);
    const byNumber = new Map(rows.map((r) => [Number(r[0]), r]));
    expect(byNumber.size).toBe(tx.length);
    let senderSide = 0;
    for (const a of arrows) {
      const row = byNumber.get(a.frame)!;
      const f = tx[a.frame - 1]!;
      // tshark's frame n is the trace's tx frame n-1: same time, same sequence number
      expect(Math.round(Number(row[1]) * 1e6) - DEFAULT_EPOCH_US).toBe(f.t);
      if (row[2] !== '') expect(Number(row[2])).toBe(Number.parseInt(f.psdu.slice(4, 6), 16));
      if (a.side === 'sender') {
        senderSide++;
        expect(f.radio).toBe(eui.get(a.from));
        expect(f.t).toBeGreaterThanOrEqual(a.t);
      } else expect(f.t).toBeLessThanOrEqual(a.t); // the receiver's last frame heard
    }
    expect(senderSide).toBeGreaterThan(20);
  });

  it('outputs.report: false writes no report', async () => {
    const file = join(OUT, 'no-report.yaml');
    const text = readFileSync(join(ROOT, 'scenarios/reset-han-rejoin.yaml'), 'utf8');
    writeFileSync(file, `${text.replace(/^name: .*$/m, 'name: no-report')}\noutputs: { report: false }\n`);
    const r = await runScenario(loadScenario(file), { outRoot: OUT, durationUs: 5_000_000 });
    expect(r.outputs.report).toBeUndefined();
    expect(() => readFileSync(join(OUT, 'no-report', 'report.html'))).toThrow(/ENOENT/);
  });
});

describe('report.html in Chromium', () => {
  const cases = [
    {
      name: 'reset-han-rejoin',
      lanes: {
        'ch-a': ['power', 'Inter-PAN', 'WAN', 'tunnel'],
        esme: ['join', 'CBKE', 'Reset HAN', 'lock', 'verdicts'],
      },
      arrows: ['Association', 'Transport Key (network)', 'CBKE EphemeralData', 'TransferData', 'WAN alert'],
    },
    {
      name: 'secmp0037-local-ppmid-pairing',
      lanes: {
        'ch-a': ['Inter-PAN', 'CBKE', 'join'],
        'ppmid-a': ['Inter-PAN', 'CBKE', 'join'],
        'ppmid-b': ['Inter-PAN', 'join', 'CBKE', 'tunnel'],
        'rogue-a': ['attacks'],
      },
      arrows: [
        'Inter-PAN hand-over (PPMID)',
        'hand-over accepted',
        'CBKE InitiateKeyEstablishment',
        'attack: flood',
      ],
    },
  ] as const;

  for (const c of cases)
    it(`${c.name}: lanes, arrows and verdicts, no console error`, async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors = consoleErrors(page);
      await page.goto(pathToFileURL(reportOf(c.name)).href);
      const r = results.get(c.name)!;
      const devices = await page.$$eval('section.lane', (ls) => ls.map((l) => l.getAttribute('data-device')));
      for (const d of r.radios) expect(devices).toContain(d.id);
      for (const [device, tracks] of Object.entries(c.lanes)) {
        const names = await page.$$eval(`section.lane[data-device="${device}"] .track .tname`, (ts) =>
          ts.map((t) => t.textContent),
        );
        for (const t of tracks) expect(names, `${device} lanes`).toContain(t);
      }
      const labels = await page.$$eval('svg.sequence g.msg > text:not(.t)', (ts) =>
        ts.map((t) => t.textContent ?? ''),
      );
      for (const a of c.arrows)
        expect(
          labels.some((l) => l.startsWith(a)),
          a,
        ).toBe(true);
      expect(await page.locator('li.verdict.held').count()).toBe(r.held);
      expect(await page.locator('li.verdict').count()).toBe(r.total);
      expect(await page.locator('#figures svg').count()).toBeGreaterThanOrEqual(3);
      await page.screenshot({ path: join(SCREENSHOTS, `report-${c.name}.png`) });
      await page
        .locator('#timeline')
        .screenshot({ path: join(SCREENSHOTS, `report-${c.name}-timeline.png`) });
      await page.locator('#map').screenshot({ path: join(SCREENSHOTS, `report-${c.name}-map.png`) });
      expect(errors).toEqual([]);
      await page.close();
    });

  it('clicking an expectation scrolls to its deciding event on the timeline', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = consoleErrors(page);
    await page.goto(pathToFileURL(reportOf('reset-han-rejoin')).href);
    // expectation 31 (the GSME relocks on leaving the facility, on its lane) is far below the first screen
    const n = 31;
    const target = page.locator(`#decide-${n}`);
    expect(await target.isVisible()).toBe(true);
    const before = await target.boundingBox();
    expect(before!.y).toBeGreaterThan(900);
    await page.locator(`#exp-${n} a.goto`).click();
    await page.waitForFunction(`location.hash === '#decide-${n}'`);
    const after = await target.boundingBox();
    expect(after!.y).toBeGreaterThanOrEqual(0);
    expect(after!.y).toBeLessThan(900);
    expect(await target.evaluate((el) => el.matches(':target'))).toBe(true);
    // in sight, not under the sticky navigation bar
    const seen = await target.evaluate((el) => {
      const r = el.getBoundingClientRect();
      return el.contains(el.ownerDocument.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2));
    });
    expect(seen).toBe(true);
    // it sits on the lane of the device whose event decided it
    const lane = await target.evaluate((el) => el.closest('section.lane')?.getAttribute('data-device'));
    const summary = results.get('reset-han-rejoin')!.expectations[n]!.event!.summary;
    expect(summary.split(' ')[1]).toBe(lane);
    await page.screenshot({ path: join(SCREENSHOTS, 'report-clicked-expectation.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('reads with scripts off: lanes, arrows and figures are in the page itself', async () => {
    const ctx = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 1400, height: 900 },
    });
    const page = await ctx.newPage();
    await page.goto(pathToFileURL(reportOf('secmp0037-local-ppmid-pairing')).href);
    expect(await page.locator('section.lane').count()).toBeGreaterThan(3);
    expect(await page.locator('svg.sequence g.msg').count()).toBeGreaterThan(20);
    expect(await page.locator('#figures svg').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('.zoom button').count()).toBe(0); // the zoom buttons are the script's
    await ctx.close();
  });
});
