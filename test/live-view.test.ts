/**
 * The live view in Chromium: a short real-time run of reset-han-rejoin (`run --ui`'s
 * startLiveRun) fills the map, timeline and log, pause stops the virtual clock (the bus's
 * own time too), step runs one second, resume and speed go on, a device shows its detail on
 * click, and the finished run plays again on the same page; then `gbhan view`'s replay of the same run from its trace.jsonl. A bad command on the
 * socket gets an error, a directory without a run a one-line CliError. Screenshots go to
 * out/screenshots/.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gbhan, ROOT } from '@gbhan/testing/cli';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startLiveRun, startReplay } from '../packages/scenario/src/live-command.js';
import { consoleErrors, launchChromium, SCREENSHOTS } from './browser.js';

const OUT = mkdtempSync(join(tmpdir(), 'gbhan-live-'));
const SCENARIO = join(ROOT, 'scenarios/reset-han-rejoin.yaml');
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const clockOf = async (page: Page) => Number(await page.getAttribute('#clock', 'data-t'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the live view of a run', () => {
  it('fills in as the run goes; pause stops the clock, step runs a second, resume and speed go on', async () => {
    const lines: string[] = [];
    const { server, finished } = await startLiveRun(
      [SCENARIO],
      { out: OUT, port: '0', speed: '20', duration: '2m' },
      (l) => lines.push(l),
    );
    expect(lines[0]).toBe(`live view: ${server.url}`);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = consoleErrors(page);
    try {
      await page.goto(server.url);
      expect(await page.locator('svg.map g.dev').count()).toBe(4);
      // the ESME joins at 21.8 s of virtual time: about a second of wall time at x20
      await page.waitForFunction(`Number(document.querySelector('#clock').dataset.t) > 25e6`, null, {
        timeout: 20_000,
      });
      expect(await page.locator('#log li').count()).toBeGreaterThan(5);
      expect(await page.locator('#lanes .lane[data-device="esme"] i').count()).toBeGreaterThan(0);

      await page.click('#pause');
      await page.waitForFunction(`document.querySelector('#state').textContent === 'paused'`);
      const paused = await clockOf(page);
      await sleep(1200);
      expect(await clockOf(page)).toBe(paused);
      expect(await page.textContent('#pause')).toBe('resume');

      await page.click('#step'); // one second of virtual time, then paused again
      await page.waitForFunction(
        `Number(document.querySelector('#clock').dataset.t) >= ${paused + 1_000_000}`,
      );
      await sleep(600);
      const stepped = await clockOf(page);
      expect(stepped).toBe(paused + 1_000_000);
      await sleep(600);
      expect(await clockOf(page)).toBe(stepped);

      await page.click('#dev-esme');
      await page.waitForFunction(`document.querySelector('#detail h3')?.textContent === 'esme (esme)'`);
      expect(await page.textContent('#detail p')).toMatch(/frames sent [1-9]\d*, received [1-9]/);

      await page.click('#pause'); // resume
      await page.waitForFunction(`Number(document.querySelector('#clock').dataset.t) > ${stepped + 500_000}`);
      await page.screenshot({ path: join(SCREENSHOTS, 'live-view.png') });

      await page.selectOption('#speed', 'max');
      await finished;
      await page.waitForFunction(`document.querySelector('#state').textContent === 'finished'`);
      expect(await clockOf(page)).toBe(120_000_000);

      // the same page plays the finished run again from its trace
      await page.click('#replay');
      await page.waitForFunction(
        `document.querySelector('#mode').textContent === 'replay of a finished run'`,
      );
      await page.selectOption('#speed', 'max');
      await page.waitForFunction(`document.querySelector('#state').textContent === 'finished'`, null, {
        timeout: 20_000,
      });
      expect(await page.locator('#log li').count()).toBeGreaterThan(100);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  }, 90_000);

  it('answers a bad command on the socket with an error, and goes on', async () => {
    const { server, control } = await startReplay(join(OUT, 'reset-han-rejoin'), { port: '0', speed: '1' });
    try {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}ws`);
      const messages: { type: string; message?: string; paused?: boolean }[] = [];
      ws.on('message', (d) => messages.push(JSON.parse(String(d))));
      await new Promise((r) => ws.once('open', r));
      ws.send('{"cmd":"warp"}');
      ws.send('not json');
      ws.send('{"cmd":"pause"}');
      await sleep(400);
      expect(messages.filter((m) => m.type === 'error').map((m) => m.message)).toEqual([
        expect.stringMatching(/^bad command/),
        'not JSON',
      ]);
      expect(control.paused).toBe(true);
      ws.close();
    } finally {
      control.stop();
      await server.close();
    }
  });

  it('gbhan view replays the finished run from its trace, with the same controls', async () => {
    const { server, control } = await startReplay(join(OUT, 'reset-han-rejoin'), { port: '0', speed: '10' });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = consoleErrors(page);
    try {
      await page.goto(server.url);
      expect(await page.textContent('#mode')).toBe('replay of a finished run');
      await page.waitForFunction(`Number(document.querySelector('#clock').dataset.t) > 1e6`);
      await page.click('#pause');
      await page.waitForFunction(`document.querySelector('#state').textContent === 'paused'`);
      const paused = await clockOf(page);
      await sleep(800);
      expect(await clockOf(page)).toBe(paused);
      await page.selectOption('#speed', 'max');
      await page.click('#pause');
      await page.waitForFunction(`document.querySelector('#state').textContent === 'finished'`, null, {
        timeout: 20_000,
      });
      expect(await clockOf(page)).toBe(120_000_000);
      expect(await page.locator('#log li').count()).toBeGreaterThan(100);
      expect(await page.locator('#lanes .lane').count()).toBe(4);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      control.stop();
      await server.close();
    }
  });

  it('the command line: gbhan view serves until SIGINT; --ui takes one scenario; bad options exit 2', async () => {
    const proc = spawn(
      process.execPath,
      [join(ROOT, 'packages/scenario/bin/gbhan.js'), 'view', join(OUT, 'reset-han-rejoin'), '--port', '0'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exit = new Promise<number | null>((resolve) => proc.on('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (d) => {
        out += d;
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]!);
      });
      proc.on('exit', () => reject(new Error(`gbhan view exited: ${out}`)));
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>reset-han-rejoin · gbhan live</title>');
    expect((await fetch(`${url}nothing`)).status).toBe(404);
    proc.kill('SIGINT');
    expect(await exit).toBe(0);

    const two = await gbhan(['run', 'scenarios/reset-han-rejoin.yaml', 'scenarios/air-demo.yaml', '--ui']);
    expect(two).toEqual({ code: 2, out: 'gbhan: --ui shows one scenario; 2 were given\n' });
    const badSpeed = await gbhan(['run', 'scenarios/air-demo.yaml', '--ui', '--speed', 'fast']);
    expect(badSpeed).toMatchObject({ code: 2, out: expect.stringMatching(/^gbhan: --speed must be/) });
    const badPort = await gbhan(['view', join(OUT, 'reset-han-rejoin'), '--port', '70000']);
    expect(badPort).toEqual({ code: 2, out: 'gbhan: --port must be 0..65535, got 70000\n' });
  }, 60_000);

  it('refuses a directory that holds no run', async () => {
    await expect(startReplay(join(OUT, 'nothing-here'), { port: '0' })).rejects.toThrow(
      /is no run's output directory/,
    );
  });
});
