/**
 * Debian's Chromium driven by playwright-core for the browser tests (report.html and the live
 * view). CI installs the browser (.ci/run: apt-get install chromium); a machine without it
 * fails these tests loudly. CHROMIUM overrides the path. Screenshots go to out/screenshots/
 * (CI artefacts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@gbhan/testing';
import { type Browser, chromium, type Page } from 'playwright-core';

export const SCREENSHOTS = join(ROOT, 'out/screenshots');

export async function launchChromium(): Promise<Browser> {
  const path = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path))
    throw new Error(`${path} not found: run .ci/run or apt-get install chromium (see README)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: path, args: ['--no-sandbox', '--disable-gpu'] });
}

/** Console errors and uncaught page errors, collected from now on. */
export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}
