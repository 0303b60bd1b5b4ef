/**
 * The trial runner of `microbatch sweep` and `microbatch worker`: a trial is one `finetune` run —
 * exactly what `train` runs, with its ledger, metrics.jsonl, summary.json, report.html and final
 * checkpoint — in the trial's directory, evaluated after every epoch on its fold (or the fixed eval
 * file) with early stopping on the sweep's metric, keeping the best epoch's weights.
 *
 * Resuming is finetune's own: a run writes a resumable checkpoint (weights, optimizer moments, the
 * early-stopping state, the best weights so far) at every epoch end, and `finetune(…, outDir)`
 * continues it bit-identically. So a trial whose process was killed — a worker lost to SIGKILL, a
 * pre-empted machine — picks up at its last epoch end and ends exactly as if never interrupted.
 * A trial that had finished but whose record was not written (killed in between) is answered from
 * its summary.json without training again.
 *
 * Early stopping: finetune applies the same `EarlyStopping` class the sweep replays
 * (`checkTrialResult`): Keras' rule, ties keep the earlier epoch, a non-finite value never
 * improves. One difference in reporting only: when no epoch had a finite value, finetune keeps
 * the last epoch's weights and names it, while the policy has no best epoch; the trial reports
 * null then (its metric is not finite, the config is not eligible either way).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EpochMetrics, Metrics, RunnerRef, TrialContext, TrialResult, TrialRunner, TrialSpec } from '../../app/sweep/types.js';
import { recoverDirectory } from '../atomic.js';
import { finetune, STATE_FILE, SUMMARY_FILE, type FinetuneSummary } from '../finetune.js';
import { REPORT_FILE, writeReport } from '../report.js';
import { runnerRef } from './runner.js';
import { finetuneSettingsFor } from './settings.js';

/** Where finetune keeps a run's resumable checkpoint (`<out>/checkpoint/`, see finetune.ts). */
const CHECKPOINT_DIR = 'checkpoint';

/** Thrown at the next optimizer step once the trial is asked to stop; the last epoch-end checkpoint stays. */
class TrialAborted extends Error {
  constructor() {
    super('aborted: the trial stops here and resumes from its last checkpoint');
    this.name = 'TrialAborted';
  }
}

/** The runner factory (a `TrialRunnerFactory`): no options, every setting is in the trial. */
export function createFinetuneRunner(): TrialRunner {
  return {
    async run(trial: TrialSpec, context: TrialContext): Promise<TrialResult> {
      const settings = finetuneSettingsFor(trial, context.outDir, context.computeThreads);
      const log = (line: string) => process.stderr.write(line + '\n');
      if (context.resume) {
        const finished = await readFinishedSummary(context.outDir);
        if (finished !== undefined) {
          log(`trial ${trial.id}: finished in an earlier attempt; answering from its ${SUMMARY_FILE}`);
          if (!existsSync(path.join(context.outDir, REPORT_FILE))) await writeReport(context.outDir);
          return trialResult(trial, finished);
        }
      }
      const resumeAfter = context.resume ? await checkpointEpoch(context.outDir) : undefined;
      log(resumeAfter === undefined ? `trial ${trial.id}: starting` : `trial ${trial.id}: resuming from the checkpoint after epoch ${resumeAfter}`);
      if (context.signal.aborted) throw new TrialAborted();
      const { summary } = await finetune(
        settings,
        {
          log(line) {
            log(line);
            const epoch = parseEpochEvaluation(line);
            if (epoch !== undefined) context.onEpoch(epoch);
          },
          onStep() {
            if (context.signal.aborted) throw new TrialAborted();
          },
        },
        resumeAfter === undefined ? undefined : context.outDir,
      );
      return trialResult(trial, summary);
    },
  };
}

/**
 * The epochs finetune's resumable checkpoint in `outDir` holds, or undefined without one (a
 * checkpoint whose replacement was interrupted is repaired first, as finetune would).
 */
async function checkpointEpoch(outDir: string): Promise<number | undefined> {
  const dir = path.join(outDir, CHECKPOINT_DIR);
  await recoverDirectory(dir, async (candidate) => existsSync(path.join(candidate, STATE_FILE)));
  const file = path.join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(await readFile(file, 'utf8')) as { training?: { completed?: unknown[] } };
  return state.training?.completed?.length ?? 0;
}

/** summary.json of a run that finished (finetune writes it last and removes it when a run starts). */
async function readFinishedSummary(outDir: string): Promise<FinetuneSummary | undefined> {
  const file = path.join(outDir, SUMMARY_FILE);
  if (!existsSync(file)) return undefined;
  const summary = JSON.parse(await readFile(file, 'utf8')) as FinetuneSummary;
  return summary.stopped_early === true ? undefined : summary;
}

/** JSON has no NaN: summary.json writes a non-finite metric as null. */
function metricsOf(values: Record<string, unknown>): Metrics {
  const metrics: Metrics = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'number') metrics[name] = value;
    else if (value === null) metrics[name] = NaN;
  }
  return metrics;
}

/** What the sweep records of a finished finetune run (checked against the policy by `checkTrialResult`). */
export function trialResult(trial: TrialSpec, summary: FinetuneSummary): TrialResult {
  if (trial.split.kind === 'all') {
    // A refit validates nothing; its epochs carry the training loss (the ledger's item-weighted mean).
    return {
      epochs: summary.epochs.map((epoch) => ({ epoch: epoch.epoch, metrics: { train_loss: epoch.loss ?? NaN } })),
      bestEpoch: null,
      stoppedEarly: false,
    };
  }
  const epochs: EpochMetrics[] = (summary.evaluations ?? []).map((evaluation) => ({ epoch: evaluation.epoch, metrics: metricsOf(evaluation.metrics) }));
  const anyFinite = epochs.some((epoch) => Number.isFinite(epoch.metrics[trial.metric]));
  const stopping = summary.early_stopping;
  return {
    epochs,
    bestEpoch: anyFinite ? (stopping?.best_epoch ?? null) : null,
    stoppedEarly: stopping?.stopped_at_epoch !== undefined && stopping.stopped_at_epoch !== null,
  };
}

/**
 * finetune logs `eval after epoch 3: accuracy 0.8636, macro_f1 0.8571, loss 0.3154` after each
 * epoch's evaluation: the live progress a sweep shows (4 decimals; the record takes the exact
 * values from summary.json).
 */
export function parseEpochEvaluation(line: string): EpochMetrics | undefined {
  const match = /^eval after epoch (\d+): (.+)$/.exec(line);
  if (match === null) return undefined;
  const metrics: Metrics = {};
  for (const pair of match[2]!.split(', ')) {
    const [name, value] = pair.split(' ');
    if (name === undefined || value === undefined) return undefined;
    metrics[name] = Number(value);
  }
  return { epoch: Number(match[1]), metrics };
}

/** How a trial process finds this runner (`microbatch sweep` and `microbatch worker` use it). */
export function finetuneRunnerRef(): RunnerRef {
  return runnerRef(new URL(import.meta.url), 'createFinetuneRunner');
}
