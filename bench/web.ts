/**
 * `node dist/bench/web.js [--epochs N] [--repeats N]`: the web page's numbers for BENCHMARKS.md,
 * printed as markdown.
 *
 *   1. Bundle sizes: the page's two scripts as `npm run web` builds them (minified), raw and gzip,
 *      and the wasm binary each build loads.
 *   2. Training speed on the demo model (data/pretrained-model on data/spam/train.jsonl, the embedded
 *      default's settings): the page in headless Chromium — cross-origin isolated (threaded SIMD
 *      build) and not isolated (?threads=1 has no effect there: the plain SIMD build) — against the
 *      CLI on Node wasm without the native addon, one worker and two. Training seconds as each
 *      reports them (the page: its status line's data-train-seconds; the CLI: summary.json).
 *
 * Median of --repeats runs (default 3), each in a fresh page or process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { launchChromium } from '../test/app/report-fixture.js';
import { startWebServer } from '../test/web/helpers.js';
import { median } from './profile-kernels.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const epochs = argument('epochs', 3);
const repeats = argument('repeats', 3);
const SAMPLES = 110;

const server = await startWebServer();
const browser = await launchChromium();
const lines: string[] = [];
try {
  lines.push('### Bundle sizes', '', '| file | minified | gzip |', '| --- | ---: | ---: |');
  for (const name of ['app.js', 'worker.js']) {
    const bytes = Buffer.from(await (await fetch(new URL(name, server.url))).arrayBuffer());
    lines.push(`| \`${name}\` | ${(bytes.byteLength / 1024).toFixed(0)} KiB | ${(gzipSync(bytes).byteLength / 1024).toFixed(0)} KiB |`);
  }
  const wasmDir = path.join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  for (const name of ['tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm-simd.wasm']) {
    const bytes = readFileSync(path.join(wasmDir, name));
    lines.push(`| \`${name}\` | ${(statSync(path.join(wasmDir, name)).size / 1024).toFixed(0)} KiB | ${(gzipSync(bytes).byteLength / 1024).toFixed(0)} KiB |`);
  }

  /** Training seconds of one page run; `isolated: false` loads the page in a way that is not cross-origin isolated. */
  const pageRun = async (isolated: boolean): Promise<{ seconds: number; backend: string }> => {
    const context = await browser.newContext();
    // Without the COOP/COEP headers the page is not isolated: TF.js loads its single-threaded SIMD build.
    if (!isolated) {
      await context.route('**/*', async (route) => {
        const response = await route.fetch();
        const headers = { ...response.headers() };
        delete headers['cross-origin-opener-policy'];
        delete headers['cross-origin-embedder-policy'];
        await route.fulfill({ response, headers });
      });
    }
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => !(document.getElementById('train') as HTMLButtonElement).disabled, null, { timeout: 60_000 });
    await page.fill('#epochs', String(epochs));
    await page.click('#train');
    await page.waitForFunction(() => /^Done:/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 900_000 });
    const seconds = Number(await page.locator('#status').getAttribute('data-train-seconds'));
    const backend = (await page.locator('#env').innerText()).replace(/\n/g, ', ');
    await context.close();
    return { seconds, backend };
  };

  const cliRun = (workers: number): { seconds: number; backend: string } => {
    const out = mkdtempSync(path.join(tmpdir(), 'microbatch-bench-web-'));
    const result = spawnSync(
      process.execPath,
      [path.join(root, 'bin', 'microbatch.mjs'), 'train', '--data', path.join(root, 'data', 'spam', 'train.jsonl'), '--model', path.join(root, 'data', 'pretrained-model'), '--out', out, '--epochs', String(epochs), '--lr', '3e-4', '--warmup-steps', '4', '--weight-decay', '0.01', '--workers', String(workers), '--backend', 'wasm'],
      { encoding: 'utf8', env: { ...process.env, MICROBATCH_NATIVE: '0' } },
    );
    if (result.status !== 0) throw new Error(result.stderr);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { train_seconds: number; backend_detail: string };
    return { seconds: summary.train_seconds, backend: summary.backend_detail };
  };

  const runs: [string, () => Promise<{ seconds: number; backend: string }> | { seconds: number; backend: string }][] = [
    ['page, cross-origin isolated (threaded SIMD build)', () => pageRun(true)],
    ['page, not isolated (SIMD build)', () => pageRun(false)],
    ['Node CLI, wasm, 1 worker, MICROBATCH_NATIVE=0', () => cliRun(1)],
    ['Node CLI, wasm, 2 workers, MICROBATCH_NATIVE=0', () => cliRun(2)],
  ];
  lines.push('', `### Training speed, demo model, ${epochs} epochs of ${SAMPLES} samples (median of ${repeats})`, '', '| run | training s | samples/s | backend |', '| --- | ---: | ---: | --- |');
  const load = loadavg()[0]!.toFixed(1);
  for (const [name, run] of runs) {
    const results = [];
    for (let repeat = 0; repeat < repeats; repeat++) results.push(await run());
    const seconds = median(results.map((result) => result.seconds));
    lines.push(`| ${name} | ${seconds.toFixed(2)} | ${((epochs * SAMPLES) / seconds).toFixed(1)} | ${results[0]!.backend} |`);
  }
  lines.push('', `${cpus().length} cores; load average ${load} at the start of the speed runs.`);
} finally {
  await browser.close();
  await server.close();
}
process.stdout.write(lines.join('\n') + '\n');
