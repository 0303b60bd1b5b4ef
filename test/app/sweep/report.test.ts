/**
 * The sweep report page: self-contained (no script, no URL, a CSP that forbids every fetch), every
 * config's mean ± std and interval as in summary.json, one curve per trial, user text escaped.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { selectBest, summarizeConfigs } from '../../../src/app/sweep/aggregate.js';
import { planSweep } from '../../../src/app/sweep/plan.js';
import { completedRecord, failedRecord } from '../../../src/app/sweep/record.js';
import { renderSweepReport, trialReportLink } from '../../../src/app/sweep/report.js';
import type { TrialRecord } from '../../../src/app/sweep/types.js';

const plan = planSweep({
  grid: [['schedule', ['linear', '<b>cosine</b>']]],
  base: { data: '/data/"train".jsonl' },
  seeds: [0, 1],
  folds: 2,
  metric: 'accuracy',
  patience: 2,
});

function records(): TrialRecord[] {
  return plan.trials.map((trial, position) => {
    if (position === 7) return failedRecord(trial, 'trial process was killed by SIGKILL <oops>', 10);
    const base = trial.configId === plan.configs[0]!.id ? 0.8 : 0.6;
    const epochs = [1, 2, 3].map((epoch) => ({ epoch, metrics: { accuracy: base + 0.01 * ((position + epoch) % 3), loss: 0.5 } }));
    const best = epochs.reduce((top, epoch) => (epoch.metrics.accuracy > top.metrics.accuracy ? epoch : top));
    return completedRecord(trial, { epochs, bestEpoch: best.epoch, stoppedEarly: false }, 1000 + position);
  });
}

test('renderSweepReport: a self-contained page with each config\'s estimate, each trial\'s curve and link, everything escaped', () => {
  const all = records();
  const summaries = summarizeConfigs(plan, all);
  const best = selectBest(summaries, 'accuracy');
  assert.equal(best?.config, plan.configs[0]!.id);
  const page = renderSweepReport({ plan, records: all, summaries, best });
  assert.match(page, /^<!DOCTYPE html>/);
  assert.match(page, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'/);
  assert.doesNotMatch(page, /<script|https?:\/\//);
  assert.ok(!page.includes('<b>cosine</b>') && page.includes('&lt;b&gt;cosine&lt;/b&gt;'), 'setting values are text');
  assert.ok(page.includes('killed by SIGKILL &lt;oops&gt;'));
  assert.ok(page.includes('/data/&quot;train&quot;.jsonl'));
  for (const summary of summaries) {
    const estimate = summary.estimate!;
    assert.ok(page.includes(`${estimate.mean.toFixed(4)} ± ${estimate.std.toFixed(4)}`), summary.config);
    assert.ok(page.includes(`[${estimate.low.toFixed(4)}, ${estimate.high.toFixed(4)}]`), summary.config);
  }
  assert.match(page, /not eligible|1 of 4 trials failed|failed/);
  assert.equal((page.match(/<polyline /g) ?? []).length, 8, 'a curve per trial (the failed one empty)');
  const link = trialReportLink(plan, plan.trials[0]!.id)!;
  assert.equal(link, `trials/${plan.trials[0]!.configId}/seed-0/fold-0/report.html`);
  assert.ok(page.includes(`href="${link}"`));
  assert.ok(!page.includes(`href="${trialReportLink(plan, plan.trials[7]!.id)}"`), 'a failed trial has no report to link');
});

test('renderSweepReport: an unfinished sweep says so; the refit is linked when it ran', () => {
  const some = records().slice(0, 3);
  const summaries = summarizeConfigs(plan, some);
  const page = renderSweepReport({ plan, records: some, summaries, best: selectBest(summaries, 'accuracy') });
  assert.match(page, /5 of 8 trials not finished/);
  const all = records();
  const full = summarizeConfigs(plan, all);
  const refit = completedRecord({ ...plan.trials[0]!, id: `${plan.configs[0]!.id}-refit`, split: { kind: 'all', epochs: 2 }, patience: null }, { epochs: [{ epoch: 1, metrics: { train_loss: 0.4 } }, { epoch: 2, metrics: { train_loss: 0.3 } }], bestEpoch: null, stoppedEarly: false }, 5);
  assert.match(renderSweepReport({ plan, records: all, summaries: full, best: selectBest(full, 'accuracy'), refit }), /href="refit\/report\.html"/);
});
