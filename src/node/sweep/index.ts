/** Sweeps in Node: trials in processes on this machine, or across machines through BullMQ on Redis. */
export * from './executor.js';
export * from './files.js';
export * from './finetune-runner.js';
export * from './local.js';
export * from './queue.js';
export * from './preflight.js';
export * from './runner.js';
export * from './settings.js';
