export * from './core/errors.js';
export * from './core/random.js';
export * from './plan/index.js';
export * from './optim/index.js';
export * from './train/index.js';
export * from './bert/index.js';
export * from './data/index.js';
export * from './backend/index.js';
