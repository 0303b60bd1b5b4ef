/**
 * The web page in a real browser (Debian's Chromium through playwright-core, served by
 * `npm run web`'s script): it fine-tunes the bundled default for one epoch — stopped after a
 * step and resumed — and the result is checked against the CLI run with the same settings on
 * Node: every weight, the ledger, the evaluation, and predictions of the downloaded checkpoint
 * through `microbatch eval` and `microbatch predict`. The report the page makes renders too.
 *
 * Node runs the same library path on TF.js wasm with the fast kernels and one worker, without
 * the native addon (MICROBATCH_NATIVE=0): the addon's AVX-512 SGEMM sums in another order than
 * XNNPACK's wasm GEMM, and two workers add a window's micro-batch gradients in another order,
 * so those runs differ from the page by float32 rounding (the test reports by how much).
 *
 * Screenshots go to a temp dir; MICROBATCH_WEB_SCREENSHOT=docs/images/web.png also runs the
 * full default (12 epochs) and saves the page there, and its report as web-report.png next to
 * it (paths from the repository root).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { parseSafetensors } from '../../src/core/safetensors.js';
import { launchChromium, openReport, REPO_ROOT, waitForCharts } from '../app/report-fixture.js';
import { tempDir } from '../helpers/tempdir.js';
import { compareWeights, runCli, startWebServer, watchPage, type WebServer } from './helpers.js';

let browser: Browser | undefined;
let server: WebServer | undefined;
before(async () => {
  [browser, server] = await Promise.all([launchChromium(), startWebServer()]);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const DEFAULT_MODEL = path.join(REPO_ROOT, 'data', 'pretrained-model');
const TRAIN = path.join(REPO_ROOT, 'data', 'spam', 'train.jsonl');
const EVAL = path.join(REPO_ROOT, 'data', 'spam', 'eval.jsonl');
/** The embedded default's settings (src/cli/train.ts) as flags, for a CLI run given --data and --model. */
const EMBEDDED_FLAGS = ['--lr', '3e-4', '--warmup-steps', '4', '--weight-decay', '0.01'];
/** Node on the page's kernels: TF.js wasm with the fast kernels, one worker, no native addon. */
const WASM_ONLY = { MICROBATCH_NATIVE: '0' };
const PREDICT_TEXT = 'Subject: WIN a FREE cruise!!! Click now to claim your prize, limited offer';

async function openPage(query = ''): Promise<{ page: Page; problems: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = watchPage(page);
  await page.goto(server!.url + query);
  await page.waitForFunction(() => !(document.getElementById('train') as HTMLButtonElement).disabled, null, { timeout: 60_000 });
  return { page, problems };
}

async function waitForStatus(page: Page, pattern: RegExp, timeout = 240_000): Promise<string> {
  await page.waitForFunction((source) => new RegExp(source).test(document.getElementById('status')!.textContent ?? ''), pattern.source, { timeout });
  return page.locator('#status').innerText();
}

/** The downloaded file's bytes, after clicking `selector`. */
async function downloadOf(page: Page, selector: string, target: string): Promise<{ name: string; file: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  await download.saveAs(target);
  return { name: download.suggestedFilename(), file: target };
}

test('the page fine-tunes the bundled default for one epoch, stops and resumes without losing a sample, and ends with the CLI\'s weights', async (t) => {
  const { page, problems } = await openPage();
  // Cross-origin isolated: SharedArrayBuffer, and TF.js's threaded SIMD wasm build.
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  const environment = await page.locator('#env').innerText();
  assert.match(environment, /TF\.js wasm · SIMD on/);
  assert.match(environment, /cross-origin isolated/);
  assert.match(environment, /WebGPU: /);
  // The bundled default is preselected, with the embedded default's settings.
  assert.match(await page.locator('#model-info').innerText(), /pretrained-model · bundled default[\s\S]*bert[\s\S]*2 layers, hidden 128/);
  assert.equal(await page.locator('#train-name').innerText(), 'train.jsonl');
  assert.equal(await page.locator('#eval-name').innerText(), 'eval.jsonl');
  assert.match(await page.locator('#train-info').innerText(), /110 rows · (ham 55, spam 55|spam 55, ham 55)/);
  assert.equal(await page.inputValue('#lr'), '0.0003');
  assert.equal(await page.inputValue('#epochs'), '12');
  assert.match(await page.locator('#plan').innerText(), /110 samples → windows \[32, 32, 32, 14\] each epoch, 4 optimizer steps/);

  await page.fill('#epochs', '1');
  await page.click('#train');
  // Stop once the first step is in: the stop takes effect at the next window boundary.
  await page.waitForSelector('#ledger tr[data-epoch="1"] .window.done', { timeout: 120_000 });
  await page.click('#stop');
  const stopped = await waitForStatus(page, /^Stopped after step \d/);
  const stoppedAt = Number(/^Stopped after step (\d+)/.exec(stopped)![1]);
  assert.ok(stoppedAt >= 1 && stoppedAt < 4, stopped);
  assert.equal(await page.locator('#ledger tr[data-epoch="1"] .window.done').count(), stoppedAt);
  assert.equal(await page.locator('#ledger tr[data-epoch="1"] .check').innerText(), '', 'the epoch is not finished');
  assert.ok(await page.locator('#resume').isEnabled());
  await page.click('#resume');
  const done = await waitForStatus(page, /^Done: 1 epoch in/);
  t.diagnostic(`page: ${done}; stopped after step ${stoppedAt} and resumed`);

  // The ledger: every window of the epoch trained, all 110 samples, as the CLI prints it.
  const ledger = await page.locator('#ledger tbody tr').evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => (cell as HTMLElement).innerText.replace(/\s+/g, ' ').trim())));
  assert.equal(ledger.length, 1);
  assert.deepEqual(ledger[0]!.filter((_, index) => index !== 4), ['Epoch 1', '32 32 32 14', '110 / 110', '4', '✓']);
  assert.match(ledger[0]![4]!, /^0\.\d{4}$/);
  assert.equal(await page.locator('#ledger .window.done').count(), 4);
  assert.equal(await page.locator('#ledger-lines').textContent(), 'epoch 1: 110/110 samples in 4 steps [32, 32, 32, 14]\n');
  assert.match(await page.locator('#verdict').innerText(), /Every sample counted: all 110 samples trained exactly once/);

  // The evaluation on eval.jsonl: accuracy, macro-F1, per-label scores and the confusion matrix.
  const accuracy = await page.locator('#accuracy .value').innerText();
  const macroF1 = Number(await page.locator('#macro-f1 .value').innerText());
  const confusion = (await page.locator('#confusion tbody tr').evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => Number(cell.firstChild!.textContent))))) as number[][];
  assert.equal(confusion.flat().reduce((sum, count) => sum + count, 0), 440);
  assert.equal(await page.locator('.scores tbody tr').count(), 2);

  // A prediction in the page.
  await page.fill('#predict-text', PREDICT_TEXT);
  await page.click('#predict');
  await page.waitForSelector('#prediction[data-probabilities]');
  const pageProbabilities = JSON.parse((await page.locator('#prediction').getAttribute('data-probabilities'))!) as number[];

  // The checkpoint: config, model.safetensors and the tokenizer files, in one folder of a zip.
  const dir = tempDir('web-page');
  const zip = await downloadOf(page, '#download-checkpoint', path.join(dir, 'checkpoint.zip'));
  assert.equal(zip.name, 'pretrained-model-finetuned.zip');
  const entries = unzipSync(readFileSync(zip.file));
  assert.deepEqual(Object.keys(entries).sort(), ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt'].map((name) => `pretrained-model-finetuned/${name}`));
  const checkpoint = path.join(dir, 'pretrained-model-finetuned');
  mkdirSync(checkpoint);
  for (const [name, bytes] of Object.entries(entries)) writeFileSync(path.join(dir, name), bytes);
  const report = await downloadOf(page, '#download-report', path.join(dir, 'report.html'));
  assert.equal(report.name, 'report.html');

  await page.screenshot({ path: path.join(dir, 'web.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();

  // Node: the same run through the CLI, uninterrupted.
  const out = path.join(dir, 'cli');
  const cli = await runCli(['train', '--data', TRAIN, '--model', DEFAULT_MODEL, '--out', out, '--epochs', '1', ...EMBEDDED_FLAGS, '--workers', '1', '--backend', 'wasm'], undefined, WASM_ONLY);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stderr, /backend wasm \(SIMD on, 1 thread, fast kernels, native matMul off: disabled by MICROBATCH_NATIVE=0\)/);
  assert.match(cli.stdout, /^epoch 1: 110\/110 samples in 4 steps \[32, 32, 32, 14\]$/m);
  const nodeWeights = parseSafetensors(new Uint8Array(readFileSync(path.join(out, 'model.safetensors'))), 'cli').tensors;
  const pageWeights = parseSafetensors(entries['pretrained-model-finetuned/model.safetensors']!, 'page').tensors;
  const difference = compareWeights(nodeWeights, pageWeights, 1e-6);
  t.diagnostic(`page vs Node (wasm, 1 worker, no native addon): ${difference.identical} of ${difference.parameters} parameters bit-identical, max |Δ| ${difference.maxAbsolute}, max relative ${difference.maxRelative}`);
  assert.ok(difference.maxRelative <= 1e-5, `max relative difference ${difference.maxRelative} at ${difference.worst}`);

  // The downloaded checkpoint loads in Node and predicts what the page predicted: the same
  // evaluation of eval.jsonl, and the same probabilities for the text typed into the page.
  const evaluated = await runCli(['eval', '--model', checkpoint, '--data', EVAL, '--backend', 'wasm', '--json'], undefined, WASM_ONLY);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const evalJson = JSON.parse(evaluated.stdout) as { accuracy: number; macro_f1: number; confusion: number[][] };
  assert.equal(accuracy, `${(evalJson.accuracy * 100).toFixed(2)}%`);
  assert.equal(macroF1, Number(evalJson.macro_f1.toFixed(4)));
  assert.deepEqual(evalJson.confusion, confusion);
  const texts = path.join(dir, 'texts.jsonl');
  writeFileSync(texts, JSON.stringify({ text: PREDICT_TEXT }) + '\n');
  const predicted = await runCli(['predict', '--model', checkpoint, '--data', texts, '--backend', 'wasm'], undefined, WASM_ONLY);
  assert.equal(predicted.code, 0, predicted.stderr);
  const prediction = JSON.parse(predicted.stdout) as { probabilities: Record<string, number> };
  assert.deepEqual(Object.values(prediction.probabilities), pageProbabilities);

  // The page's report renders in Chromium like the CLI's: charts, ledger, evaluation.
  const opened = await openReport(browser!, report.file);
  await waitForCharts(opened.page, 3);
  assert.match(await opened.page.locator('#ledger').innerText(), /Every sample counted: all 110 samples trained exactly once/);
  assert.match(await opened.page.locator('#evaluation').innerText(), new RegExp(accuracy.replace('.', '\\.')));
  await opened.page.screenshot({ path: path.join(dir, 'report.png'), fullPage: true });
  assert.deepEqual(opened.problems, []);
  assert.deepEqual(opened.requests, [], 'the report makes no request');
  await opened.page.close();

  // The README's screenshot: the whole default run (12 epochs), as a person sees it at the end.
  const requested = process.env.MICROBATCH_WEB_SCREENSHOT;
  if (requested) {
    const full = await openPage();
    await full.page.click('#train');
    await waitForStatus(full.page, /^Done: 12 epochs in/, 600_000);
    await full.page.fill('#predict-text', PREDICT_TEXT);
    await full.page.click('#predict');
    await full.page.waitForSelector('#prediction[data-probabilities]');
    await full.page.locator('details.log').evaluate((details) => ((details as HTMLDetailsElement).open = true));
    const target = path.resolve(REPO_ROOT, requested);
    mkdirSync(path.dirname(target), { recursive: true });
    await full.page.screenshot({ path: target, fullPage: true });
    const fullReport = await downloadOf(full.page, '#download-report', path.join(dir, 'full-report.html'));
    assert.deepEqual(full.problems, []);
    await full.page.close();
    const shown = await openReport(browser!, fullReport.file);
    await waitForCharts(shown.page, 3);
    await shown.page.screenshot({ path: path.join(path.dirname(target), 'web-report.png'), fullPage: true });
    assert.deepEqual(shown.problems, []);
    await shown.page.close();
  }
});
