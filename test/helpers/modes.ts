/**
 * The ways the nn layers run, for tests that must hold on each: TF.js ops on the cpu backend,
 * TF.js ops on wasm (stock kernels), and wasm with the native host kernels — host weights and
 * dW, fused elementwise kernels, bf16 GEMM — on 2 threads (skipped when the addon is not built).
 */
import { fastKernelsInstalled, installFastKernels, uninstallFastKernels } from '../../src/backend/fastKernels.js';
import { hostWeightsUsable } from '../../src/backend/host.js';
import { fusedKernelsUsable } from '../../src/backend/hostLayers.js';
import { installNativeKernels, nativeAvailable, nativeStatus, uninstallNativeKernels } from '../../src/node/native.js';
import { useBackend } from './backend.js';

export type Mode = 'cpu' | 'wasm' | 'wasm+native';
export const MODES: readonly Mode[] = ['cpu', 'wasm', 'wasm+native'];

/** node:test `skip` for a mode: a reason when the native addon is unavailable. */
export function modeSkip(mode: Mode): string | false {
  return mode === 'wasm+native' && !nativeAvailable() ? `native addon unavailable: ${nativeStatus().reason}` : false;
}

export async function useMode(mode: Mode, options: { threads?: number; fused?: boolean } = {}): Promise<void> {
  if (mode !== 'wasm+native') {
    uninstallNativeKernels();
    await useBackend(mode);
    if (mode === 'wasm') uninstallFastKernels();
    return;
  }
  await useBackend('wasm');
  if (!fastKernelsInstalled()) installFastKernels();
  if (!installNativeKernels({ threads: options.threads ?? 2, fused: options.fused ?? true })) throw new Error('native kernels did not install');
  if (!hostWeightsUsable() || (options.fused !== false && !fusedKernelsUsable())) throw new Error('native kernels installed but not usable by the layers');
}
