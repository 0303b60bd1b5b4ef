/**
 * `npm run web`'s server: it prints its URL on 127.0.0.1, sends the cross-origin isolation
 * headers with every response, serves only its fixed set of files (the bundles, the page,
 * uPlot, TF.js's wasm binaries, the bundled model and data) read-only, refuses everything else,
 * and listens on loopback only. The page's preselected settings are the CLI's embedded default.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EMBEDDED_DEFAULT, trainCommand } from '../../src/cli/train.js';
import { DEFAULT_SETTINGS } from '../../web/defaults.js';
import { REPO_ROOT } from '../app/report-fixture.js';
import { startWebServer, type WebServer } from './helpers.js';

let server: WebServer | undefined;
before(async () => {
  server = await startWebServer();
});
after(async () => {
  await server?.close();
});

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A raw request: the path is sent as written (no normalisation of `..`, unlike fetch). */
function request(rawPath: string, method = 'GET'): Promise<Response> {
  const { hostname, port } = new URL(server!.url);
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ hostname, port, path: rawPath, method }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode!, headers: incoming.headers, body: Buffer.concat(chunks) }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

test('prints its URL on 127.0.0.1 and the bundle sizes', async () => {
  assert.match(server!.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  // The sizes are in the URL's write; a pipe may still hand them over in a later chunk.
  for (let waited = 0; !/worker\.js/.test(server!.output) && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.match(server!.output, /^ {2}app\.js: \d+ KiB$/m);
  assert.match(server!.output, /^ {2}worker\.js: \d+ KiB$/m);
});

test('serves the page, its bundles, uPlot, the wasm binaries and the bundled model and data, each with the isolation headers', async () => {
  const expected: [string, RegExp, string?][] = [
    ['/', /^text\/html/],
    ['/app.js', /^text\/javascript/],
    ['/worker.js', /^text\/javascript/],
    ['/styles.css', /^text\/css/],
    ['/vendor/uPlot.iife.min.js', /^text\/javascript/],
    ['/wasm/tfjs-backend-wasm-simd.wasm', /^application\/wasm$/],
    ['/wasm/tfjs-backend-wasm-threaded-simd.wasm', /^application\/wasm$/],
    ['/data/pretrained-model/config.json', /^application\/json/, path.join(REPO_ROOT, 'data', 'pretrained-model', 'config.json')],
    ['/data/spam/eval.jsonl', /^text\/plain/, path.join(REPO_ROOT, 'data', 'spam', 'eval.jsonl')],
    ['/bundled.json', /^application\/json/],
  ];
  for (const [url, type, file] of expected) {
    const response = await request(url);
    assert.equal(response.status, 200, url);
    assert.match(String(response.headers['content-type']), type, url);
    assert.equal(response.headers['cross-origin-opener-policy'], 'same-origin', url);
    assert.equal(response.headers['cross-origin-embedder-policy'], 'require-corp', url);
    assert.equal(response.headers['cross-origin-resource-policy'], 'same-origin', url);
    if (file !== undefined) assert.deepEqual(response.body, readFileSync(file), url);
  }
  const bundled = JSON.parse((await request('/bundled.json')).body.toString()) as { model: { files: string[] }; train: { url: string } };
  assert.deepEqual(bundled.model.files.sort(), ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt']);
  assert.equal(bundled.train.url, '/data/spam/train.jsonl');
});

test('nothing outside its fixed files: traversal, other directories and other methods are refused', async () => {
  for (const url of ['/data/spam/../../package.json', '/data/spam/..%2F..%2Fpackage.json', '/data/pretrained-model/%2E%2E', '/data/../package.json', '/wasm/../../package.json', '/package.json', '/src/index.ts', '/node_modules/uplot/package.json', '/data/spam', '/data/other/x', '/web/main.ts', '/%E0%A4%A']) {
    const response = await request(url);
    assert.ok(response.status === 404 || response.status === 400, `${url}: ${response.status}`);
    assert.equal(response.headers['cross-origin-embedder-policy'], 'require-corp', url);
  }
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const response = await request('/', method);
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.allow, 'GET, HEAD');
  }
});

test('listens on loopback only and checks --port', () => {
  const script = path.join(REPO_ROOT, 'scripts', 'web.mjs');
  const open = spawnSync(process.execPath, [script, '--host', '0.0.0.0'], { encoding: 'utf8' });
  assert.equal(open.status, 1);
  assert.equal(open.stderr, 'microbatch web: --host must be a loopback address (127.0.0.1, localhost or ::1), got "0.0.0.0"\n');
  const port = spawnSync(process.execPath, [script, '--port', 'eighty'], { encoding: 'utf8' });
  assert.equal(port.status, 1);
  assert.equal(port.stderr, 'microbatch web: --port must be an integer in 0..65535, got "eighty"\n');
});

test("the page's preselected settings are the CLI's embedded default", () => {
  // Commander holds every flag's default (a --no-x flag's is true) before anything is parsed.
  const flagDefaults: Record<string, unknown> = trainCommand().opts();
  const expected: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULT_SETTINGS)) {
    assert.ok(key in flagDefaults, `the train command has a flag for ${key}`);
    expected[key] = flagDefaults[key];
  }
  // A flag whose value is not the setting's own: --loss-scale off|dynamic.
  expected.lossScale = flagDefaults.lossScale === 'dynamic';
  Object.assign(expected, EMBEDDED_DEFAULT.overrides);
  assert.deepEqual({ ...DEFAULT_SETTINGS }, expected);
});
