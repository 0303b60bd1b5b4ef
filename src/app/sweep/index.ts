/** Sweeps over seeds × folds × settings: the browser-safe part (planning, folds, statistics, records). */
export * from './aggregate.js';
export * from './early-stopping.js';
export * from './folds.js';
export * from './grid.js';
export * from './lists.js';
export * from './plan.js';
export * from './record.js';
export * from './report.js';
export * from './stats.js';
export * from './types.js';
