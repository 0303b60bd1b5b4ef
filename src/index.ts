export * from './errors.js';
export * from './plan/index.js';
export * from './optim/index.js';
export * from './train/index.js';
