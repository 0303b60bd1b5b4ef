/**
 * Bad input in the page gets the CLI's message: a malformed data file (as soon as it is chosen),
 * a broken model folder and a model folder with PyTorch weights (when training starts), and an
 * impossible setting. Each is compared with `microbatch train` run on the same files, from the
 * directory that holds them so that both name them the same way.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, REPO_ROOT } from '../app/report-fixture.js';
import { tempDir } from '../helpers/tempdir.js';
import { runCli, startWebServer, watchPage, type WebServer } from './helpers.js';

let browser: Browser | undefined;
let server: WebServer | undefined;
before(async () => {
  [browser, server] = await Promise.all([launchChromium(), startWebServer()]);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const DEFAULT_MODEL = path.join(REPO_ROOT, 'data', 'default-model');
const TRAIN = path.join(REPO_ROOT, 'data', 'spam', 'train.jsonl');

async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser!.newPage();
  const problems = watchPage(page);
  await page.goto(server!.url);
  await page.waitForFunction(() => !(document.getElementById('train') as HTMLButtonElement).disabled, null, { timeout: 60_000 });
  return { page, problems };
}

/** The message the page shows (the library's, as the CLI prints it after `microbatch: error: `). */
async function pageError(page: Page): Promise<string> {
  await page.waitForSelector('#error:not([hidden])', { timeout: 60_000 });
  return (await page.locator('#error').getAttribute('data-message'))!;
}

/**
 * `microbatch train` on the files in `dir`, named relative to it; its one-line error. The CLI
 * names a model directory by its absolute path, the page by the folder's name: the message is
 * returned with `dir/` taken off.
 */
async function cliError(dir: string, args: string[]): Promise<string> {
  const result = await runCli(['train', ...args, '--out', path.join(dir, 'out'), '--epochs', '1'], dir, { MICROBATCH_NATIVE: '0' });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  const match = /^microbatch: error: (.*)\n$/.exec(result.stderr);
  assert.ok(match, result.stderr);
  return match[1]!.split(`${dir}${path.sep}`).join('');
}

test('a malformed data file gets the CLI\'s message, naming file, line and field, as soon as it is chosen', async () => {
  const dir = tempDir('web-bad-data');
  writeFileSync(path.join(dir, 'rows.csv'), 'text,label\n"a fine message",ham\n"a row without its label"\n');
  writeFileSync(path.join(dir, 'nulls.jsonl'), '{"text": "fine", "label": "ham"}\n{"text": "no label", "label": null}\n');
  const { page, problems } = await openPage();
  for (const name of ['rows.csv', 'nulls.jsonl']) {
    await page.setInputFiles('#data-input', path.join(dir, name));
    const shown = await pageError(page);
    assert.equal(shown, await cliError(dir, ['--data', name, '--model', DEFAULT_MODEL]));
    assert.ok(await page.locator('#train').isDisabled(), 'no training on a bad file');
  }
  assert.match(await page.locator('#error').innerText(), /^Data error\nnulls\.jsonl, line 2, field "label": label is null$/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a broken model folder and one with PyTorch weights get the CLI\'s messages when training starts', async () => {
  const dir = tempDir('web-bad-model');
  const noFamily = path.join(dir, 'no-family');
  mkdirSync(noFamily);
  writeFileSync(path.join(noFamily, 'config.json'), JSON.stringify({ hidden_size: 128, num_hidden_layers: 2 }));
  writeFileSync(path.join(noFamily, 'vocab.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n');
  const pytorch = path.join(dir, 'pytorch-only');
  cpSync(DEFAULT_MODEL, pytorch, { recursive: true });
  writeFileSync(path.join(pytorch, 'pytorch_model.bin'), new Uint8Array(64));
  cpSync(TRAIN, path.join(dir, 'train.jsonl'));

  const { page, problems } = await openPage();
  for (const folder of ['no-family', 'pytorch-only']) {
    await page.setInputFiles('#model-input', path.join(dir, folder));
    await page.waitForFunction((name) => document.querySelector('#model-info .name')?.textContent === name, folder);
    await page.click('#train');
    const shown = await pageError(page);
    assert.equal(shown, await cliError(dir, ['--data', 'train.jsonl', '--model', folder]));
    assert.match(await page.locator('#status').innerText(), /Stopped by an error/);
  }
  assert.match(await page.locator('#error').innerText(), /^Model folder error\npytorch-only\/pytorch_model\.bin: only safetensors weights are supported/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('an impossible setting is named by its field, with the CLI\'s words', async () => {
  const { page, problems } = await openPage();
  await page.fill('#micro-batch', '64');
  await page.click('#train');
  const shown = await pageError(page);
  const cli = await cliError(tempDir('web-bad-setting'), ['--data', TRAIN, '--model', DEFAULT_MODEL, '--micro-batch', '64']);
  assert.equal(cli, '--micro-batch (64) must be a positive integer not exceeding the batch (32)');
  assert.equal(shown, 'microBatch (64) must be a positive integer not exceeding the batch (32)');
  assert.equal(await page.locator('#error').innerText(), 'Setting error\nMicro-batch: (64) must be a positive integer not exceeding the batch (32)');
  assert.ok(await page.locator('#micro-batch').evaluate((input) => input.classList.contains('invalid')));
  // Fixing it clears the message and the page can train again.
  await page.fill('#micro-batch', '8');
  await page.waitForSelector('#error[hidden]', { state: 'attached' });
  assert.ok(await page.locator('#train').isEnabled());
  assert.deepEqual(problems, []);
  await page.close();
});
