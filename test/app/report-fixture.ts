/**
 * Shared by the report tests: the hand-written run in test/app/fixtures/run (110 samples,
 * micro-batch 8, batch 32, 3 epochs of windows 32, 32, 32, 14; step 6 skipped on a loss-scale
 * overflow; a 3-label evaluation), the CLI as a child process, and Debian's Chromium driven
 * by playwright-core (never a downloaded browser).
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseMetrics, parseSummary, type RunRecord } from '../../src/app/report/index.js';
import { REPO_ROOT } from '../cli/helpers.js';
import { tempDir } from '../helpers/tempdir.js';

export { REPO_ROOT };
export const FIXTURE_DIR = path.join(REPO_ROOT, 'test', 'app', 'fixtures', 'run');

export function fixtureText(name: 'summary.json' | 'metrics.jsonl'): string {
  return readFileSync(path.join(FIXTURE_DIR, name), 'utf8');
}

/** The fixture as a RunRecord (a fresh copy each call, so tests may edit it). */
export function fixtureRecord(): RunRecord {
  return { summary: parseSummary(fixtureText('summary.json')), metrics: parseMetrics(fixtureText('metrics.jsonl')).metrics, finishedAt: '2025-03-14T09:26:53.000Z' };
}

/** A copy of the fixture run directory in a fresh temp dir. */
export function copyFixture(prefix: string): string {
  const dir = path.join(tempDir(prefix), 'run');
  cpSync(FIXTURE_DIR, dir, { recursive: true });
  return dir;
}

/** The text of an HTML fragment as a reader sees it: tags dropped, entities decoded, spaces collapsed. */
export function visibleText(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The cells' visible text of every body row of the first table with `className`. */
export function tableRows(html: string, className: string): string[][] {
  const table = new RegExp(`<table class="${className}"[\\s\\S]*?</table>`).exec(html);
  assert.ok(table, `no table.${className} in the report`);
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table[0])!;
  return [...body[1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<t[hd]\b[^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) => visibleText(cell[1]!)));
}

/** The CLI as the CLI tests run it (test/cli/helpers.ts). */
export { runCli, type CliResult } from '../cli/helpers.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Debian's Chromium, headless; fails (never skips) when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: the report's browser tests need Debian's Chromium (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export interface OpenedReport {
  page: Page;
  /** Console errors (CSP violations among them), uncaught page errors, and dialogs (alert/confirm/prompt) opened by the page. */
  problems: string[];
  /** Every request the page made other than loading its own file. */
  requests: string[];
}

/** Opens `file` in a new page of `browser` and waits until every uPlot canvas has a size. */
export async function openReport(browser: Browser, file: string, viewport = { width: 1280, height: 900 }): Promise<OpenedReport> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  const requests: string[] = [];
  const url = pathToFileURL(file).href;
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('request', (request) => {
    if (request.url() !== url) requests.push(request.url());
  });
  await page.goto(url);
  return { page, problems, requests };
}

/** Waits until the charts have drawn: at least `count` uPlot canvases with a non-zero size. */
export async function waitForCharts(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (expected) => {
      const canvases = [...document.querySelectorAll<HTMLCanvasElement>('.uplot canvas')];
      return canvases.length >= expected && canvases.every((canvas) => canvas.width > 0 && canvas.height > 0 && canvas.getBoundingClientRect().width > 0);
    },
    count,
    { timeout: 15_000 },
  );
}
