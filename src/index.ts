/**
 * `microbatch`: the browser-safe library — the exact-accumulation engine, layers, model
 * families, task heads, tokenizers and run logic. Nothing in this entry's import graph uses a
 * Node built-in (a test bundles it for the browser). Files, checkpoints on disk, worker threads
 * and the native addon are in `microbatch/node`.
 */
export * from './core/errors.js';
export * from './core/random.js';
export * from './core/safetensors.js';
export { setHostKernels, hostKernels, type HostKernels, type Sgemm } from './core/host.js';
export * from './plan/index.js';
export * from './optim/index.js';
export * from './backend/index.js';
export * from './train/index.js';
export * from './nn/index.js';
export * from './models/index.js';
export * from './tasks/index.js';
export * from './tokenizers/index.js';
export * from './app/index.js';
