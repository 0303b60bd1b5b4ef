/**
 * The fused layer kernels of the host (src/core/host.ts `FusedKernels`: in Node, the native
 * addon) as TF.js wasm kernels over heap views: bias + GELU, residual + LayerNorm (and its
 * affine output), scale + mask + softmax, bias + dropout — each with its gradient. The nn
 * layers call them only while `fusedKernelsUsable()`; everywhere else (browsers, the cpu
 * backend, Node without the addon) they run the same math as chains of TF.js ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostKernels, type FusedKernels } from '../core/host.js';
import { biasDropoutConfigs } from './kernels/biasDropout.js';
import { biasGeluConfigs } from './kernels/biasGelu.js';
import { layerNormConfigs } from './kernels/layerNorm.js';
import { softmaxConfigs } from './kernels/softmax.js';
import { onWasm } from './transfer.js';

const BACKEND = 'wasm';

function layerKernelConfigs(fused: FusedKernels): tf.KernelConfig[] {
  return [...biasGeluConfigs(fused), ...layerNormConfigs(fused), ...softmaxConfigs(fused), ...biasDropoutConfigs(fused)];
}

let installed: { fused: FusedKernels; names: string[] } | undefined;

/**
 * Registers the fused layer kernels for the wasm backend from the installed host kernels.
 * Returns false, changing nothing, when the host has none. Idempotent; a new set of host
 * kernels replaces the previous registration.
 */
export function installHostLayerKernels(): boolean {
  const fused = hostKernels()?.fused;
  if (fused === undefined) return false;
  if (installed?.fused === fused && hostLayerKernelsInstalled()) return true;
  uninstallHostLayerKernels();
  const configs = layerKernelConfigs(fused);
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, BACKEND) !== undefined) tf.unregisterKernel(config.kernelName, BACKEND);
    tf.registerKernel(config);
  }
  installed = { fused, names: configs.map((config) => config.kernelName) };
  return true;
}

/** Unregisters them. A no-op when not installed. */
export function uninstallHostLayerKernels(): void {
  if (installed === undefined) return;
  for (const name of installed.names) if (tf.getKernel(name, BACKEND) !== undefined) tf.unregisterKernel(name, BACKEND);
  installed = undefined;
}

/** Registered (possibly wrapped, e.g. by a profiler). */
export function hostLayerKernelsInstalled(): boolean {
  return installed !== undefined && installed.names.every((name) => tf.getKernel(name, BACKEND) !== undefined);
}

/** Layers may use the fused kernels: wasm is active and they are registered. */
export function fusedKernelsUsable(): boolean {
  return onWasm() && hostLayerKernelsInstalled();
}
