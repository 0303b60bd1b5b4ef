export * from './config.js';
export * from '../core/safetensors.js';
export * from './weights.js';
export * from './model.js';
export * from './checkpoint.js';
export * from './tokenizer.js';
