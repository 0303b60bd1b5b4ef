/**
 * Backend selection: `auto` prefers the native TensorFlow binding (@tensorflow/tfjs-node,
 * an optional peer dependency) when it is installed, then wasm (with microbatch's fast
 * kernels), then the pure-JS cpu backend.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
// TF.js's gradient functions, for models trained through its autodiff (tfjs-core's Node bundle
// registers none; tfjs-layers' Node bundle registers all of them): the Node platform set-up.
import '@tensorflow/tfjs-layers';
import { ConfigError } from '../core/errors.js';
import { fastKernelsInstalled, installFastKernels, uninstallFastKernels } from '../backend/fastKernels.js';
import { registerMissingKernels } from '../backend/missingKernels.js';
import { installNativeKernels, nativeStatus, nativeThreads, uninstallNativeKernels } from './native.js';

export type BackendChoice = 'auto' | 'node' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendChoice, 'auto'>;

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'node', 'wasm', 'cpu'];

const TFJS_NODE = '@tensorflow/tfjs-node';
/** The name @tensorflow/tfjs-node registers its backend under. */
const TFJS_NODE_BACKEND = 'tensorflow';

export interface SelectBackendOptions {
  /** wasm: XNNPACK thread count (must be set before the backend starts; Node runs wasm single-threaded). */
  threads?: number;
  /** Receives the one-line summary; default: stderr. */
  log?: (line: string) => void;
  /** wasm: install the fast kernels (default true); false gives stock TF.js, for comparisons. */
  fastKernels?: boolean;
  /**
   * wasm with fast kernels: threads of the native matMul (the optional C++ addon, see
   * native/README.md) when it is built; default 1. One per core in all: a pool of N workers
   * wants 1 each.
   */
  nativeThreads?: number;
  /** Whether a module can be resolved; injectable so tests need not install tfjs-node. */
  isResolvable?: (specifier: string) => boolean;
  /** Loads a module (default: dynamic `import()`); injectable for the same reason. */
  importModule?: (specifier: string) => Promise<unknown>;
}

export interface SelectedBackend {
  name: BackendName;
  /** One human-readable line: backend, SIMD, threads, kernels. */
  detail: string;
  threads: number;
  fastKernels: boolean;
  /** The native matMul addon is in use. */
  native: boolean;
}

export function parseBackendChoice(value: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new ConfigError(`backend: unknown value "${value}", expected one of ${BACKEND_CHOICES.join(', ')}`);
}

function defaultIsResolvable(specifier: string): boolean {
  try {
    createRequire(import.meta.url).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

/** The backends to try, in order, for `choice` (only `auto` has fall-backs). */
export function backendCandidates(choice: BackendChoice, nodeResolvable: boolean): BackendName[] {
  if (choice !== 'auto') return [choice];
  return nodeResolvable ? ['node', 'wasm', 'cpu'] : ['wasm', 'cpu'];
}

function nodeMissing(): ConfigError {
  return new ConfigError(
    `backend "node" needs ${TFJS_NODE}, which is not installed: run \`npm install ${TFJS_NODE}\` (or use --backend wasm)`,
  );
}

async function activate(name: BackendName, options: SelectBackendOptions): Promise<SelectedBackend> {
  const fastKernels = options.fastKernels ?? true;
  if (name === 'node') {
    const isResolvable = options.isResolvable ?? defaultIsResolvable;
    if (!isResolvable(TFJS_NODE)) throw nodeMissing();
    await (options.importModule ?? ((specifier: string) => import(specifier)))(TFJS_NODE);
    if (!(await tf.setBackend(TFJS_NODE_BACKEND))) throw new ConfigError(`backend "node": ${TFJS_NODE} failed to initialise`);
    await tf.ready();
    return { name, detail: `backend node (${TFJS_NODE}, native TensorFlow, its own thread pool)`, threads: 0, fastKernels: false, native: false };
  }
  if (name === 'wasm') {
    if (options.threads !== undefined) setThreadsCount(options.threads);
    if (!(await tf.setBackend('wasm'))) throw new ConfigError('backend "wasm" failed to initialise');
    await tf.ready();
    registerMissingKernels();
    // The native matMul wraps the fast kernel, so it goes on last and comes off first.
    uninstallNativeKernels();
    if (fastKernels) installFastKernels();
    else uninstallFastKernels();
    // Read before the native kernel goes on top of the fast BatchMatMul.
    const fast = fastKernelsInstalled();
    const native = fast && installNativeKernels({ threads: options.nativeThreads ?? 1 });
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = getThreadsCount();
    const kernels = fast ? 'fast kernels' : 'stock kernels';
    const status = nativeStatus();
    const nativeDetail = !fastKernels
      ? ''
      : native
        ? `, native matMul ${status.isa} × ${nativeThreads()} thread${nativeThreads() === 1 ? '' : 's'}`
        : `, native matMul off: ${status.reason}`;
    return {
      name,
      detail: `backend wasm (SIMD ${simd ? 'on' : 'off'}, ${threads} thread${threads === 1 ? '' : 's'}, ${kernels}${nativeDetail})`,
      threads,
      fastKernels: fast,
      native,
    };
  }
  if (!(await tf.setBackend('cpu'))) throw new ConfigError('backend "cpu" failed to initialise');
  await tf.ready();
  return { name, detail: 'backend cpu (pure JavaScript, 1 thread)', threads: 1, fastKernels: false, native: false };
}

/**
 * Activates the chosen backend and logs one line saying which it is. An explicit choice
 * that cannot start is a ConfigError; `auto` falls through its candidates and says why.
 */
export async function selectBackend(choice: BackendChoice, options: SelectBackendOptions = {}): Promise<SelectedBackend> {
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new ConfigError(`threads: expected a positive integer, got ${options.threads}`);
  }
  const log = options.log ?? ((line: string) => console.error(line));
  // PROD silences TF.js's console banner urging tfjs-node on every Node process: we log the
  // backend actually chosen (and tfjs-node's availability) ourselves.
  tf.env().set('PROD', true);
  const candidates = backendCandidates(choice, (options.isResolvable ?? defaultIsResolvable)(TFJS_NODE));
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      const selected = await activate(candidate, options);
      const skipped = failures.length > 0 ? ` (${failures.join('; ')})` : '';
      log(selected.detail + skipped);
      return { ...selected, detail: selected.detail + skipped };
    } catch (error) {
      if (choice !== 'auto') throw error;
      failures.push(`${candidate} unavailable: ${(error as Error).message}`);
    }
  }
  throw new ConfigError(`no TF.js backend could start: ${failures.join('; ')}`);
}
