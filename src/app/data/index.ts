export { parseLabelledText, formatOfFileName } from './labelled.js';
export type { DataFormat, LabelledData, LabelledRow, ReadOptions, ReadReport } from './labelled.js';
export { buildLabelMap } from './labels.js';
export type { LabelMap } from './labels.js';
export { encodeRows, lengthStats } from './encode.js';
export type { EncodedRow, EncodeRowsOptions, LengthStats, TextEncoder } from './encode.js';
