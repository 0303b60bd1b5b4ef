export { installFastKernels, uninstallFastKernels, fastKernelsInstalled } from './fastKernels.js';
export { registerMissingKernels } from './missingKernels.js';
export { installHostMatMul, uninstallHostMatMul, hostMatMulInstalled, hostWeightsUsable, hostBf16Usable } from './host.js';
export { installHostLayerKernels, uninstallHostLayerKernels, hostLayerKernelsInstalled, fusedKernelsUsable } from './hostLayers.js';
export { tensorValues, addTensorInto, tensorFromHost, onWasm } from './transfer.js';
