#!/usr/bin/env node
// Builds the optional native matMul addon (binding.gyp → build/Release/microbatch_native.node).
//
// Run as the package's `install` script, so it must never fail an install: without a
// compiler, Python or Node headers it prints ONE warning line and exits 0, and microbatch
// runs on its wasm kernels. MICROBATCH_NATIVE=0 skips the build.
//
//   node scripts/build-native.mjs            build quietly (one line of outcome)
//   node scripts/build-native.mjs --verbose  show node-gyp's output

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const verbose = process.argv.includes('--verbose');

function warn(reason) {
  console.warn(`microbatch: native matMul not built (${reason}); using the wasm kernels. See native/README.md.`);
  process.exit(0);
}

// node-gyp ships inside npm; npm tells lifecycle scripts where (npm_config_node_gyp).
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(createRequire(join(packageRoot, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a local dependency; try npm's own copy below
  }
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const npmRoot = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['root', '-g'], { encoding: 'utf8', shell: process.platform === 'win32' });
  if (npmRoot.status === 0) candidates.push(join(npmRoot.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((candidate) => candidate !== undefined && candidate !== '' && existsSync(candidate));
}

// Distribution packages of Node (Debian's nodejs, Homebrew …) install the headers next to
// the binary; pointing node-gyp there avoids downloading them (no network on many CI boxes).
function localNodeDir() {
  if (process.env.npm_config_nodedir) return undefined;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? prefix : undefined;
}

if (process.env.MICROBATCH_NATIVE === '0') warn('MICROBATCH_NATIVE=0');
const nodeGyp = findNodeGyp();
if (nodeGyp === undefined) warn('node-gyp not found');
const nodeDir = localNodeDir();
const args = [nodeGyp, 'rebuild', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])];
const result = spawnSync(process.execPath, args, { cwd: packageRoot, encoding: 'utf8', stdio: verbose ? 'inherit' : 'pipe' });
if (result.status !== 0) {
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  const firstError = output.split('\n').find((line) => /error/i.test(line) && !/^gyp info/.test(line));
  warn(result.error ? result.error.message : (firstError ?? `node-gyp exited with ${result.status}`).trim().slice(0, 200));
}
console.log('microbatch: native matMul built (build/Release/microbatch_native.node)');
