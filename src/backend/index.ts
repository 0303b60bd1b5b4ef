export { selectBackend, parseBackendChoice, backendCandidates, BACKEND_CHOICES } from './select.js';
export type { BackendChoice, BackendName, SelectBackendOptions, SelectedBackend } from './select.js';
export { installFastKernels, uninstallFastKernels, fastKernelsInstalled } from './fastKernels.js';
export { registerMissingKernels } from './missingKernels.js';
export { installNativeMatMul, uninstallNativeMatMul, nativeAvailable, nativeStatus, nativeMatMulInstalled, nativeThreads, type NativeStatus, type NativeMatMulOptions } from './native.js';
