/**
 * `microbatch report RUN_DIR` end to end: the file it writes, its errors, a stopped run — and
 * the page in a real browser (Debian's Chromium through playwright-core): the charts draw,
 * nothing errors, nothing is fetched, the ledger is on screen, the charts update live.
 *
 * MICROBATCH_REPORT_SCREENSHOT=docs/images/report.png also saves the fixture's screenshot
 * there (relative paths from the repository root); it is always saved to a temp dir.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { copyFixture, fixtureText, launchChromium, openReport, REPO_ROOT, runCli, tableRows, visibleText, waitForCharts } from '../app/report-fixture.js';
import { tempDir } from '../helpers/tempdir.js';

let browser: Browser | undefined;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Writes the report of a copy of the fixture run (changed by `edit`), returns its path. */
async function reportOf(prefix: string, edit?: (dir: string) => void): Promise<string> {
  const dir = copyFixture(prefix);
  edit?.(dir);
  const { code, stdout, stderr } = await runCli(['report', dir]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, `wrote ${path.join(dir, 'report.html')}\n`);
  return path.join(dir, 'report.html');
}

test('report --help describes the command', async () => {
  const { code, stdout } = await runCli(['report', '--help']);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: microbatch report \[options\] <run-dir>/);
  assert.match(stdout, /--out <file>/);
  assert.match(stdout, /report\.html/);
});

test('report RUN_DIR writes RUN_DIR/report.html in one piece, and --out elsewhere', async () => {
  const file = await reportOf('report-cli');
  const dir = path.dirname(file);
  assert.deepEqual(readdirSync(dir).sort(), ['metrics.jsonl', 'report.html', 'summary.json'], 'no temporary file is left behind');
  const html = readFileSync(file, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  assert.equal(tableRows(html, 'ledger')[1]![2], '78 / 110');
  assert.doesNotMatch(html, /https?:\/\//);

  const other = path.join(tempDir('report-out'), 'elsewhere.html');
  const { code, stdout, stderr } = await runCli(['report', dir, '--out', other]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, `wrote ${other}\n`);
  assert.ok(statSync(other).size > 50_000, 'uPlot is inlined');
});

test('report fails with one line naming the file, line and field', async () => {
  const missing = path.join(tempDir('report-missing'), 'nope');
  let result = await runCli(['report', missing]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `microbatch: error: ${missing}: no such directory (give the --out directory of a microbatch train run)\n`);

  const empty = tempDir('report-empty');
  result = await runCli(['report', empty]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /: neither summary\.json nor metrics\.jsonl here: is it the --out directory of a microbatch train run\?\n$/);

  const dir = copyFixture('report-bad');
  const lines = fixtureText('metrics.jsonl').split('\n');
  lines[4] = lines[4]!.replace('"loss":0.9412', '"loss":"abc"');
  writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n'));
  result = await runCli(['report', dir]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `microbatch: error: ${path.join(dir, 'metrics.jsonl')}, line 5, field "loss": expected a number or null, got "abc"\n`);
  assert.ok(!existsSync(path.join(dir, 'report.html')));

  writeFileSync(path.join(dir, 'summary.json'), '{\n  "samples": 110,\n  "epochs": [],\n}\n');
  result = await runCli(['report', dir]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `microbatch: error: ${path.join(dir, 'summary.json')}, line 4: not valid JSON: Expected double-quoted property name\n`);
});

test('a stopped run (no summary.json, a checkpoint, a cut-off last line) gets a report with its settings and a warning', async () => {
  const file = await reportOf('report-stopped', (dir) => {
    const summary = JSON.parse(fixtureText('summary.json')) as { settings: Record<string, unknown> };
    rmSync(path.join(dir, 'summary.json'));
    mkdirSync(path.join(dir, 'checkpoint'));
    writeFileSync(path.join(dir, 'checkpoint', 'training_state.json'), JSON.stringify({ format: 'microbatch-training-state', version: 2, settings: summary.settings }));
    writeFileSync(path.join(dir, 'metrics.jsonl'), fixtureText('metrics.jsonl').split('\n').slice(0, 6).join('\n') + '\n{"step":7,"epo');
  });
  const html = readFileSync(file, 'utf8');
  const text = visibleText(html);
  assert.match(html, /<h1>bert-mini on train\.jsonl<\/h1>/);
  assert.match(html, /id="run-status">Stopped or running</);
  assert.match(text, /metrics\.jsonl, line 7: incomplete last line ignored/);
  assert.deepEqual(
    tableRows(html, 'ledger').map((row) => row.slice(0, 4)),
    [
      ['Epoch 1', '32 , 32 , 32 , 14', '110', '4'],
      ['Epoch 2 (unfinished)', '32 , 32 , +2 to go', '32', '1'],
    ],
  );
});

test('in Chromium: the charts draw, nothing errors or is fetched, the ledger is on screen; screenshot', async () => {
  const file = await reportOf('report-browser');
  const { page, problems, requests } = await openReport(browser!, file);
  // Loss, learning rate, gradient norm, and loss scale (it changed at the skipped step).
  await waitForCharts(page, 4);
  assert.equal(await page.locator('.mbc-panel').count(), 4);
  assert.deepEqual(await page.locator('.mbc-panel figcaption').evaluateAll((captions) => captions.map((caption) => caption.firstChild?.textContent)), [
    'Loss',
    'Learning rate',
    'Gradient norm',
    'Loss scale',
  ]);
  // The loss line was drawn: the canvas holds pixels of its colour (#2563eb).
  const lossPixels = await page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('.mbc-panel canvas')!;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let at = 0; at < data.length; at += 4) if (Math.abs(data[at]! - 37) < 30 && Math.abs(data[at + 1]! - 99) < 30 && Math.abs(data[at + 2]! - 235) < 30 && data[at + 3]! > 200) count++;
    return count;
  });
  assert.ok(lossPixels > 200, `loss line pixels: ${lossPixels}`);
  // Idle legends show the latest values.
  assert.match(await page.locator('.mbc-panel').first().locator('.u-legend').innerText(), /0\.6371/);

  const ledger = page.locator('#ledger');
  assert.ok(await ledger.isVisible());
  const ledgerText = await ledger.innerText();
  assert.match(ledgerText, /All 110 samples accounted for in each of the 3 finished epochs/);
  assert.match(ledgerText, /Epoch 2\s+32, 32, 32, 14\s+78 \/ 110\s+3\s+1 \(32 samples\)/);
  assert.match(await page.locator('#evaluation').innerText(), /80\.00%/);

  const screenshots = [path.join(tempDir('report-shot'), 'report.png')];
  const requested = process.env.MICROBATCH_REPORT_SCREENSHOT;
  if (requested) screenshots.push(path.resolve(REPO_ROOT, requested));
  for (const target of screenshots) {
    mkdirSync(path.dirname(target), { recursive: true });
    await page.screenshot({ path: target, fullPage: true });
    assert.deepEqual([...readFileSync(target).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${target} is a PNG`);
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(requests, [], 'the report makes no request');
  await page.close();
});

test('in Chromium: the same charts update live with addStep (as a training page would use them)', async () => {
  const file = await reportOf('report-live', (dir) => {
    // A run whose loss scale never changed: no loss-scale chart until it does.
    const metrics = fixtureText('metrics.jsonl').replace(/"loss_scale":\d+/g, '"loss_scale":65536');
    writeFileSync(path.join(dir, 'metrics.jsonl'), metrics);
  });
  const { page, problems, requests } = await openReport(browser!, file);
  await waitForCharts(page, 3);
  assert.equal(await page.locator('.mbc-panel').count(), 3);
  const after = await page.evaluate(() => {
    const { charts } = (window as unknown as { microbatchReport: { charts: import('../../src/app/report/charts.js').RunCharts } }).microbatchReport;
    charts.addStep({ step: 13, epoch: 4, window: 1, windows: 4, window_size: 32, items: 32, loss: 0.61, lr: 0, grad_norm: null, loss_scale: 65536, skipped: true });
    charts.addStep({ step: 14, epoch: 4, window: 2, windows: 4, window_size: 32, items: 32, loss: 0.58, lr: 0, grad_norm: 0.8, loss_scale: 32768, skipped: false });
    return { steps: charts.steps, plots: charts.plots.length, lengths: charts.plots.map((plot) => plot.data[0].length), loss: charts.plots[0]!.data[1]!.slice(-2), mean: charts.plots[0]!.data[2]!.slice(-2) };
  });
  assert.deepEqual(after, { steps: 14, plots: 4, lengths: [14, 14, 14, 14], loss: [0.61, 0.58], mean: [0.58, 0.58] });
  await waitForCharts(page, 4);
  assert.equal(await page.locator('.mbc-panel').count(), 4);
  // Zooming one chart zooms them all to the same steps.
  const zoomed = await page.evaluate(async () => {
    const { charts } = (window as unknown as { microbatchReport: { charts: import('../../src/app/report/charts.js').RunCharts } }).microbatchReport;
    charts.plots[1]!.setScale('x', { min: 4.5, max: 8.5 });
    // uPlot commits scale changes in a microtask; the other charts follow in their own.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return charts.plots.map((plot) => [plot.scales.x!.min, plot.scales.x!.max]);
  });
  assert.deepEqual(zoomed, [[4.5, 8.5], [4.5, 8.5], [4.5, 8.5], [4.5, 8.5]]);
  assert.deepEqual(problems, []);
  assert.deepEqual(requests, []);
  await page.close();
});

test('in Chromium: hostile labels stay text, no script runs, and a phone-width page does not overflow', async () => {
  const hostile = ['<img src=x onerror=alert(1)>', '</script><script>alert(2)</script>', '"><b>bold</b>'];
  const file = await reportOf('report-hostile', (dir) => {
    const summary = JSON.parse(fixtureText('summary.json')) as { labels: string[]; eval: { labels: string[]; per_label: Record<string, unknown> } };
    summary.labels = hostile;
    summary.eval.labels = hostile;
    summary.eval.per_label = Object.fromEntries(Object.values(summary.eval.per_label).map((scores, index) => [hostile[index]!, scores]));
    writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary));
  });
  const { page, problems, requests } = await openReport(browser!, file, { width: 420, height: 900 });
  await waitForCharts(page, 4);
  assert.deepEqual(await page.locator('table.confusion tbody th').allInnerTexts(), hostile);
  assert.equal(await page.locator('main img, main b, main iframe').count(), 0);
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 420, 'nothing wider than the screen');
  const chartWidths = await page.locator('.uplot').evaluateAll((plots) => plots.map((plot) => plot.getBoundingClientRect().right));
  assert.ok(chartWidths.every((right) => right <= 420), String(chartWidths));
  assert.deepEqual(problems, []);
  assert.deepEqual(requests, []);
  await page.close();
});
