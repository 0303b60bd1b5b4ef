/**
 * Run reports on disk: reads a `train` run's directory (summary.json, metrics.jsonl and the
 * settings), renders it with src/app/report and writes `report.html` next to them atomically.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DataError } from '../core/errors.js';
import { METRICS_FILE, parseMetrics, parseSummary, renderReport, SUMMARY_FILE, type ReportAssets, type RunRecord } from '../app/report/index.js';

export const REPORT_FILE = 'report.html';
/** A stopped run's settings live in its resumable checkpoint's state (see src/train/finetune.ts). */
const CHECKPOINT_STATE = path.join('checkpoint', 'training_state.json');

async function readIfPresent(file: string): Promise<{ text: string; modified: Date } | undefined> {
  try {
    const [text, stats] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    return { text, modified: stats.mtime };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DataError(`cannot read it (${(error as Error).message})`, { file });
  }
}

/**
 * uPlot's IIFE build and CSS from node_modules. Its license banner names uPlot's home page
 * with a scheme; the scheme is dropped so that the report contains no URL at all (it makes
 * no request, and a reader checking that should not have to tell a comment from a fetch).
 */
export async function loadReportAssets(): Promise<ReportAssets> {
  const require = createRequire(import.meta.url);
  const [uplotJs, uplotCss] = await Promise.all([
    fs.readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    fs.readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  ]);
  return { uplotJs: uplotJs.replace(/^\/\*![\s\S]*?\*\//, (banner) => banner.replace(/https?:\/\//g, '')), uplotCss };
}

/** A run directory's files as a RunRecord; DataError (file, line, field) on malformed files. */
export async function readRunRecord(runDir: string): Promise<RunRecord> {
  let stats;
  try {
    stats = await fs.stat(runDir);
  } catch {
    throw new DataError('no such directory (give the --out directory of a microbatch train run)', { file: runDir });
  }
  if (!stats.isDirectory()) throw new DataError('not a directory (give the --out directory of a microbatch train run)', { file: runDir });

  const summaryFile = path.join(runDir, SUMMARY_FILE);
  const metricsFile = path.join(runDir, METRICS_FILE);
  const [summaryText, metricsText] = await Promise.all([readIfPresent(summaryFile), readIfPresent(metricsFile)]);
  if (summaryText === undefined && metricsText === undefined) {
    throw new DataError(`neither ${SUMMARY_FILE} nor ${METRICS_FILE} here: is it the --out directory of a microbatch train run?`, { file: runDir });
  }
  const record: RunRecord = { metrics: [] };
  const warnings: string[] = [];
  if (summaryText !== undefined) record.summary = parseSummary(summaryText.text, summaryFile);
  if (metricsText !== undefined) {
    const parsed = parseMetrics(metricsText.text, metricsFile);
    record.metrics = parsed.metrics;
    warnings.push(...parsed.warnings);
  }
  const settings = record.summary?.settings ?? (await checkpointSettings(runDir, warnings));
  if (settings !== undefined) record.settings = settings;
  record.finishedAt = (summaryText ?? metricsText)!.modified.toISOString();
  if (warnings.length > 0) record.warnings = warnings;
  return record;
}

/** The settings saved with a stopped run's resumable checkpoint, if there is one (a report can do without them). */
async function checkpointSettings(runDir: string, warnings: string[]): Promise<Record<string, unknown> | undefined> {
  const file = path.join(runDir, CHECKPOINT_STATE);
  const state = await readIfPresent(file);
  if (state === undefined) return undefined;
  try {
    const settings = (JSON.parse(state.text) as { settings?: unknown }).settings;
    if (typeof settings === 'object' && settings !== null && !Array.isArray(settings)) return settings as Record<string, unknown>;
    warnings.push(`${file}: no settings object; the report shows the run without its settings`);
  } catch (error) {
    warnings.push(`${file}: not valid JSON (${(error as Error).message}); the report shows the run without its settings`);
  }
  return undefined;
}

/** Writes `file` through a temporary file in the same directory, so that readers see the old or the new report, never part of one. */
async function writeFileAtomic(file: string, text: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`);
  try {
    await fs.writeFile(temporary, text);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

export interface WriteReportOptions {
  /** Where to write the report (default: `<runDir>/report.html`). */
  out?: string;
}

/** Renders the run in `runDir` to `<runDir>/report.html` (or `options.out`); returns the path written. */
export async function writeReport(runDir: string, options: WriteReportOptions = {}): Promise<string> {
  const [run, assets] = await Promise.all([readRunRecord(runDir), loadReportAssets()]);
  const out = options.out ?? path.join(runDir, REPORT_FILE);
  await writeFileAtomic(out, renderReport(run, assets));
  return out;
}
