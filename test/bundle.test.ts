/**
 * `microbatch` (src/index.ts) is browser-safe: esbuild bundles it for `platform: 'browser'`, and
 * nothing in its graph is Node-only — no `node:` import, no Node built-in reached from our code,
 * no module of src/node or src/cli. (Dependencies may map their own Node code away through their
 * package.json `browser` fields; that is theirs to do and is allowed.)
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILTINS = new Set(builtinModules);

test('the package entry bundles for the browser without any Node built-in', async () => {
  const result = await build({
    entryPoints: [path.join(ROOT, 'src', 'index.ts')],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = result.metafile.inputs;
  const ours = Object.keys(inputs).filter((file) => file.startsWith('src/'));
  assert.ok(ours.length > 50, `the bundle holds the library (${ours.length} source files)`);
  assert.deepEqual(
    ours.filter((file) => file.startsWith('src/node/') || file.startsWith('src/cli/')),
    [],
    'no Node-only module is reachable from the entry',
  );
  const fromOurs = ours.flatMap((file) => inputs[file]!.imports.map((entry) => ({ file, path: entry.path })));
  const builtins = fromOurs.filter(({ path: imported }) => imported.startsWith('node:') || BUILTINS.has(imported) || imported.startsWith('(disabled)'));
  assert.deepEqual(builtins, []);
});

test('an entry that reaches a Node built-in does not bundle (the check can fail)', async () => {
  await assert.rejects(
    build({ entryPoints: [path.join(ROOT, 'src', 'node', 'index.ts')], absWorkingDir: ROOT, bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' }),
    /Could not resolve "(node:)?(fs|path|os|module|crypto|url|worker_threads|child_process|stream)/,
  );
});
