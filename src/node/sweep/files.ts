/**
 * The sweep's out dir:
 *
 *   OUT/sweep.json                         what defines the sweep (its input and id); a re-run must match it
 *   OUT/trials/<config>/seed-<s>/fold-<f>/  one trial: the runner's run files, ledger and checkpoint
 *              …/trial-result.json         the trial's record, written atomically when it ended
 *   OUT/refit/                             the refit of the best config (with its trial-result.json)
 *   OUT/sweep.jsonl                        one record per trial, in trial order
 *   OUT/summary.json                       per-config mean ± std and 95 % interval, the best config
 *   OUT/report.html                        the same as a page: table, interval plot, every trial's curve
 *
 * A trial-result.json is the trial's proof of completion: a re-run skips trials that have one and
 * resumes the others from their checkpoint. Every file here is written whole or not at all
 * (temporary file, fsync, rename), so a killed process never leaves half a record.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, DataError } from '../../core/errors.js';
import { selectBest, summarizeConfigs, sweepSummary, type ConfigSummary, type SweepSummary } from '../../app/sweep/aggregate.js';
import { parseSweepInput, planSweep, trialPath, type SweepPlan } from '../../app/sweep/plan.js';
import { formatRecord, parseRecord } from '../../app/sweep/record.js';
import { renderSweepReport } from '../../app/sweep/report.js';
import type { TrialRecord, TrialSpec } from '../../app/sweep/types.js';

export const SWEEP_FILE = 'sweep.json';
export const SWEEP_JSONL = 'sweep.jsonl';
export const SUMMARY_FILE = 'summary.json';
export const RESULT_FILE = 'trial-result.json';
export const SWEEP_REPORT_FILE = 'report.html';

/** Writes `data` to `file` so that readers see the old content or the new, never a part. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export function trialDir(outDir: string, trial: TrialSpec): string {
  return path.join(outDir, ...trialPath(trial));
}

/** The trial's record if it ended (completed or failed) in an earlier run, else undefined. */
export async function readTrialRecord(outDir: string, trial: TrialSpec): Promise<TrialRecord | undefined> {
  const file = path.join(trialDir(outDir, trial), RESULT_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const record = parseRecord(text.trim(), { file });
  if (record.trial !== trial.id) throw new DataError(`holds trial ${record.trial}, not ${trial.id}`, { file, field: 'trial' });
  return record;
}

export async function writeTrialRecord(outDir: string, trial: TrialSpec, record: TrialRecord): Promise<void> {
  await writeFileAtomic(path.join(trialDir(outDir, trial), RESULT_FILE), formatRecord(record) + '\n');
}

/** Removes a failed trial's record so that it runs again (its checkpoint, if any, is kept). */
export async function forgetTrialRecord(outDir: string, trial: TrialSpec): Promise<void> {
  await rm(path.join(trialDir(outDir, trial), RESULT_FILE), { force: true });
}

/**
 * Writes OUT/sweep.json for a new out dir, or checks that the one there is this sweep's: trials
 * of another sweep must not be mistaken for this one's.
 */
export async function claimOutDir(outDir: string, plan: SweepPlan): Promise<void> {
  const file = path.join(outDir, SWEEP_FILE);
  if (existsSync(file)) {
    const stored = await loadSweepPlan(outDir);
    if (stored.id !== plan.id) {
      throw new ConfigError(`${outDir} holds sweep ${stored.id} with other settings (see ${file}); use another out dir or the same flags`, { field: 'out' });
    }
    return;
  }
  await writeFileAtomic(file, JSON.stringify({ version: plan.version, id: plan.id, input: plan.input }, null, 2) + '\n');
}

/** The plan stored in OUT/sweep.json (to re-attach to a sweep knowing only its out dir). */
export async function loadSweepPlan(outDir: string): Promise<SweepPlan> {
  const file = path.join(outDir, SWEEP_FILE);
  let stored: { id?: unknown; input?: unknown };
  try {
    stored = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new DataError(`cannot be read as a sweep: ${(error as Error).message}`, { file });
  }
  const plan = planSweep(parseSweepInput(stored.input, { file }));
  if (stored.id !== plan.id) throw new DataError(`id ${String(stored.id)} does not match its input (${plan.id}): the file was edited`, { file, field: 'id' });
  return plan;
}

export interface SweepReport {
  /** Records present, in trial order. */
  records: TrialRecord[];
  summaries: ConfigSummary[];
  best: ConfigSummary | null;
  summary: SweepSummary;
}

/**
 * Aggregates `records` (any order) and writes sweep.jsonl (trial order), summary.json and
 * report.html (with the refit's record when there is one).
 */
export async function writeSweepReport(outDir: string, plan: SweepPlan, records: readonly TrialRecord[], refit?: TrialRecord): Promise<SweepReport> {
  const ordered = [...records].sort((a, b) => a.index - b.index);
  const summaries = summarizeConfigs(plan, ordered);
  const best = selectBest(summaries, plan.input.metric);
  const summary = sweepSummary(plan, summaries, best);
  await writeFileAtomic(path.join(outDir, SWEEP_JSONL), ordered.map((record) => formatRecord(record) + '\n').join(''));
  await writeFileAtomic(path.join(outDir, SUMMARY_FILE), JSON.stringify(summary, null, 2) + '\n');
  await writeFileAtomic(path.join(outDir, SWEEP_REPORT_FILE), renderSweepReport({ plan, records: ordered, summaries, best, ...(refit !== undefined ? { refit } : {}) }));
  return { records: ordered, summaries, best, summary };
}
