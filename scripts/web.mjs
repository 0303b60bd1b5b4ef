#!/usr/bin/env node
// `npm run web`: bundles the in-browser fine-tuning page (web/) with esbuild and serves it on
// 127.0.0.1, printing the URL. Everything is served from memory or read-only from a fixed set
// of files: the two bundles, the page's HTML and CSS, uPlot's files, TF.js's .wasm binaries, and
// the bundled pretrained default model (data/pretrained-model) and data (data/spam). Every response carries
// Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, so the
// page is cross-origin isolated: SharedArrayBuffer exists and TF.js loads its threaded wasm build.
//
//   node scripts/web.mjs [--port N] [--host 127.0.0.1]    (--port 0 picks a free port)
//
// The first line on stdout is `microbatch web: http://127.0.0.1:PORT/` (tests read it); the
// bundle sizes follow.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

const { values: flags } = parseArgs({
  options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, help: { type: 'boolean', default: false } },
});
if (flags.help) {
  process.stdout.write('Usage: npm run web -- [--port N]\nBuilds the fine-tuning page (web/) and serves it on 127.0.0.1 with cross-origin isolation.\n');
  process.exit(0);
}
const port = Number(flags.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`microbatch web: --port must be an integer in 0..65535, got ${JSON.stringify(flags.port)}\n`);
  process.exit(1);
}
// The page trains on the user's files: it is for this machine only.
if (!['127.0.0.1', 'localhost', '::1'].includes(flags.host)) {
  process.stderr.write(`microbatch web: --host must be a loopback address (127.0.0.1, localhost or ::1), got ${JSON.stringify(flags.host)}\n`);
  process.exit(1);
}

/** The page's two scripts: the UI (main thread) and the training worker. */
async function bundle() {
  const result = await build({
    entryPoints: { app: path.join(root, 'web', 'main.ts'), worker: path.join(root, 'web', 'worker.ts') },
    bundle: true,
    write: false,
    outdir: '/',
    // Classic scripts: the worker stays a classic worker, as TF.js's threaded wasm build expects.
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    logLevel: 'warning',
  });
  const files = new Map();
  for (const file of result.outputFiles) files.set(path.basename(file.path), file.contents);
  return files;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
};

/** Plain files of a directory (no subdirectories, nothing hidden): the only names served from it. */
function plainFiles(dir) {
  return readdirSync(dir).filter((name) => !name.startsWith('.') && statSync(path.join(dir, name)).isFile());
}

const DATA_DIRS = { 'pretrained-model': path.join(root, 'data', 'pretrained-model'), spam: path.join(root, 'data', 'spam') };
const WASM_DIR = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
const UPLOT_DIR = path.dirname(require.resolve('uplot/dist/uPlot.min.css'));

/** What the page offers preselected: the CLI's embedded default (src/cli/train.ts). */
function bundledManifest() {
  return {
    model: { source: 'pretrained-model', base: '/data/pretrained-model/', files: plainFiles(DATA_DIRS['pretrained-model']).filter((name) => name !== 'README.md' && name !== 'pretraining.json') },
    train: { file: 'train.jsonl', url: '/data/spam/train.jsonl' },
    eval: { file: 'eval.jsonl', url: '/data/spam/eval.jsonl' },
  };
}

const bundles = await bundle();
const staticFiles = {
  '/': path.join(root, 'web', 'index.html'),
  '/index.html': path.join(root, 'web', 'index.html'),
  '/styles.css': path.join(root, 'web', 'styles.css'),
  '/vendor/uPlot.min.css': path.join(UPLOT_DIR, 'uPlot.min.css'),
  '/vendor/uPlot.iife.min.js': path.join(UPLOT_DIR, 'uPlot.iife.min.js'),
};

/** The file (path on disk) or in-memory bytes for a URL path, or undefined: a fixed map, never a path joined from the request. */
function resolve(pathname) {
  if (Object.hasOwn(staticFiles, pathname)) return { file: staticFiles[pathname] };
  const parts = pathname.split('/').slice(1).map((part) => decodeURIComponent(part));
  if (parts.length === 1 && bundles.has(parts[0])) return { bytes: bundles.get(parts[0]), name: parts[0] };
  if (parts.length === 2 && parts[0] === 'wasm' && /^tfjs-backend-wasm[a-z-]*\.wasm$/.test(parts[1])) {
    return plainFiles(WASM_DIR).includes(parts[1]) ? { file: path.join(WASM_DIR, parts[1]) } : undefined;
  }
  if (parts.length === 3 && parts[0] === 'data' && Object.hasOwn(DATA_DIRS, parts[1])) {
    // Only a name that the directory lists is served: no separator, no "..", nothing hidden.
    return plainFiles(DATA_DIRS[parts[1]]).includes(parts[2]) ? { file: path.join(DATA_DIRS[parts[1]], parts[2]) } : undefined;
  }
  return undefined;
}

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

const server = http.createServer((request, response) => {
  const send = (status, type, body) => {
    response.writeHead(status, { ...ISOLATION, 'Content-Type': type, 'Content-Length': body.byteLength });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    send(405, 'text/plain; charset=utf-8', Buffer.from('method not allowed\n'));
    return;
  }
  let pathname;
  try {
    pathname = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    decodeURIComponent(pathname);
  } catch {
    send(400, 'text/plain; charset=utf-8', Buffer.from('bad request\n'));
    return;
  }
  if (pathname === '/bundled.json') {
    send(200, TYPES['.json'], Buffer.from(JSON.stringify(bundledManifest())));
    return;
  }
  const target = resolve(pathname);
  if (target === undefined) {
    send(404, 'text/plain; charset=utf-8', Buffer.from('not found\n'));
    return;
  }
  const name = target.name ?? target.file;
  const type = TYPES[path.extname(name)] ?? 'application/octet-stream';
  let body;
  try {
    body = target.bytes ?? readFileSync(target.file);
  } catch {
    send(404, 'text/plain; charset=utf-8', Buffer.from('not found\n'));
    return;
  }
  send(200, type, body);
});

server.listen(port, flags.host, () => {
  const address = server.address();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  // One write, the URL line first: whoever waits for the URL has the bundle sizes too.
  const sizes = [...bundles].filter(([name]) => name.endsWith('.js')).map(([name, bytes]) => `  ${name}: ${(bytes.byteLength / 1024).toFixed(0)} KiB\n`);
  process.stdout.write(`microbatch web: http://${host}:${address.port}/\n${sizes.join('')}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
