export { installFastKernels, uninstallFastKernels, fastKernelsInstalled } from './fastKernels.js';
export { registerMissingKernels } from './missingKernels.js';
export { installHostMatMul, uninstallHostMatMul, hostMatMulInstalled, hostWeightsUsable } from './host.js';
export { tensorValues, addTensorInto, tensorFromHost, onWasm } from './transfer.js';
