export { readLabelledFile } from './read.js';
export type { DataFormat, LabelledData, LabelledRow, ReadOptions, ReadReport } from './read.js';
export { buildLabelMap } from './labels.js';
export type { LabelMap } from './labels.js';
export { encodeRows, lengthStats } from './encode.js';
export type { EncodedRow, EncodeOptions, LengthStats } from './encode.js';
