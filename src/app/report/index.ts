/**
 * Run reports: `renderReport` turns a run's files into one self-contained HTML page, and
 * `createRunCharts` draws the same per-step charts on any page (updated live with `addStep`).
 * Browser-safe: nothing here imports `node:` (the files are read by src/node/report.ts).
 */
export { renderReport } from './render.js';
export { createRunCharts, RUN_CHARTS_CSS, type RunCharts, type RunChartsOptions } from './charts.js';
export { parseMetrics, parseSummary, validateMetricsLine, validateRunRecord, validateSummary, METRICS_FILE, SUMMARY_FILE } from './validate.js';
export { accountsFor, ledgerRows, ledgerVerdict, meanLoss, type LedgerRow, type Verdict, type WindowStatus } from './ledger.js';
export type { EntityMetrics, EpochRecord, EvalRecord, MaskedLmEvalRecord, MetricsLine, ReportAssets, RunRecord, RunSummary, Scores } from './types.js';
