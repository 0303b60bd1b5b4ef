/**
 * The sweep's report: one self-contained HTML page (no script, no request — inline SVG and the
 * run report's stylesheet) with the verdict, the per-config table (mean ± std, 95 % interval), a
 * plot of each config's mean and interval over its trials' values, and every trial's validation
 * curve, linked to the trial's own run report. Browser-safe, like src/app/report, whose escaping
 * template, formats and styles it reuses.
 */
import { DASH, formatDuration, formatSettingNumber, plural } from '../report/format.js';
import { html, htmlDocument, type Html } from '../report/html.js';
import { REPORT_CSS } from '../report/styles.js';
import type { ConfigSummary } from './aggregate.js';
import { trialPath, type SweepPlan } from './plan.js';
import type { SettingValue, TrialRecord } from './types.js';
import { metricMode } from './types.js';

export interface SweepReportInput {
  plan: SweepPlan;
  /** Records present (any order). */
  records: readonly TrialRecord[];
  summaries: readonly ConfigSummary[];
  best: ConfigSummary | null;
  /** The refit's record, when `--refit` ran. */
  refit?: TrialRecord;
}

/** Each trial's run report, relative to the sweep's out dir (trials/<config>/seed-<s>/fold-<f>/report.html). */
export function trialReportLink(plan: SweepPlan, trialId: string): string | undefined {
  const trial = plan.trials.find((candidate) => candidate.id === trialId);
  return trial === undefined ? undefined : [...trialPath(trial), 'report.html'].join('/');
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

const SWEEP_CSS = `
.best td { background: var(--ok-bg); }
.best td:first-child { box-shadow: inset 3px 0 0 var(--ok); }
svg { display: block; max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
svg .axis { stroke: #94a3b8; stroke-width: 1; }
svg .grid { stroke: #e2e8f0; stroke-width: 1; }
svg text { fill: #64748b; }
svg .label { fill: #0f172a; font-weight: 600; }
.curves { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 18px; }
.curves figure { margin: 0; }
.curves figcaption { font-size: 13px; color: var(--ink); margin-bottom: 4px; }
.curves figcaption small { color: var(--muted); }
.failed { color: var(--err); }
`;

function settingText(value: SettingValue | undefined): string {
  if (value === undefined) return DASH;
  return typeof value === 'number' ? formatSettingNumber(value) : String(value);
}

function value4(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? DASH : value.toFixed(4);
}

/** Renders the report page. */
export function renderSweepReport(input: SweepReportInput): string {
  const { plan, summaries, best } = input;
  const records = [...input.records].sort((a, b) => a.index - b.index);
  const metric = plan.input.metric;
  const direction = metricMode(metric) === 'max' ? 'higher is better' : 'lower is better';
  const completed = records.filter((record) => record.status === 'completed').length;
  const failed = records.filter((record) => record.status === 'failed').length;
  const missing = plan.trials.length - records.length;
  const swept = plan.input.grid.map(([name]) => name);
  const split = plan.input.folds === null ? 'a fixed evaluation file' : `stratified ${plan.input.folds}-fold cross-validation (split seed ${plan.input.splitSeed})`;
  const status = missing > 0 ? html`<span class="badge warn">${missing} of ${plan.trials.length} trials not finished</span>` : failed > 0 ? html`<span class="badge warn">${failed} failed</span>` : html`<span class="badge ok">Complete</span>`;
  const body = html`
<main>
<header class="masthead"><div>
<div class="eyebrow">microbatch sweep</div>
<h1>Sweep ${plan.id}</h1>
<p class="subtitle"><span>${plural(plan.configs.length, 'config')} × ${plural(plan.input.seeds.length, 'seed')} × ${plan.input.folds === null ? '1 eval set' : plural(plan.input.folds, 'fold')} = ${plural(plan.trials.length, 'trial')}</span><span>${split}</span><span>${metric} (${direction})</span><span>${plan.input.patience === null ? 'every epoch, best kept' : `patience ${plan.input.patience}`}</span></p>
</div>${status}</header>
<div class="tiles">
${tile('Trials', `${completed} / ${plan.trials.length}`, failed > 0 ? `${failed} failed` : 'completed')}
${tile('Best config', best === null ? DASH : best.config, best === null ? 'no config is eligible' : swept.map((name) => `${name} ${settingText(best.settings[name])}`).join(', ') || 'seeds and folds only')}
${tile(`Best ${metric}`, best?.estimate ? value4(best.estimate.mean) : DASH, best?.estimate ? `± ${value4(best.estimate.std)} (std, n = ${best.estimate.n})` : '')}
${tile('95 % interval', best?.estimate && Number.isFinite(best.estimate.halfWidth) ? `± ${value4(best.estimate.halfWidth)}` : DASH, best?.estimate && Number.isFinite(best.estimate.halfWidth) ? `[${value4(best.estimate.low)}, ${value4(best.estimate.high)}]` : 'needs 2 values')}
</div>
${configSection(input, swept)}
${curvesSection(plan, records, summaries)}
${trialsSection(plan, records)}
${input.refit !== undefined ? refitSection(input.refit) : ''}
${settingsSection(plan)}
<footer>microbatch sweep report · made from sweep.jsonl and summary.json · this file makes no network request</footer>
</main>`;
  const csp = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";
  return htmlDocument({ csp, generator: 'microbatch sweep report', title: html`Sweep ${plan.id} · microbatch`, styles: [REPORT_CSS + SWEEP_CSS], body });
}

function tile(label: string, value: string, note: string): Html {
  return html`<div class="tile"><div class="label">${label}</div><div class="value">${value}</div><div class="note">${note}</div></div>`;
}

function configSection(input: SweepReportInput, swept: readonly string[]): Html {
  const { plan, summaries, best } = input;
  const metric = plan.input.metric;
  const rows = summaries.map((summary) => {
    const estimate = summary.estimate;
    const interval = estimate !== null && Number.isFinite(estimate.halfWidth) ? `[${value4(estimate.low)}, ${value4(estimate.high)}]` : DASH;
    const epochs = [...summary.bestEpochs].sort((a, b) => a - b);
    return html`<tr class="${summary === best ? 'best' : ''}"><td class="mono">${summary === best ? '★ ' : ''}${summary.config}</td>${swept.map(
      (name) => html`<td class="num">${settingText(summary.settings[name])}</td>`,
    )}<td class="num">${estimate?.n ?? 0} / ${summary.completed + summary.failed + summary.missing}</td><td class="num">${estimate === null ? DASH : `${value4(estimate.mean)} ± ${value4(estimate.std)}`}</td><td class="num">${interval}</td><td class="num">${
      epochs.length === 0 ? DASH : `${epochs[0]}–${epochs[epochs.length - 1]} (median ${epochs[Math.floor(epochs.length / 2)]})`
    }</td><td>${summary.eligible ? '' : summary.reason}</td></tr>`;
  });
  return html`<section class="card feature" id="configs"><header><h2>Configs</h2><p>${metric} at each trial's kept epoch: mean ± sample std, Student's t 95 % interval of the mean</p></header>
<div class="table-scroll"><table><thead><tr><th>config</th>${swept.map((name) => html`<th class="num">${name}</th>`)}<th class="num">n</th><th class="num">${metric} mean ± std</th><th class="num">95 % CI</th><th class="num">best epochs</th><th></th></tr></thead>
<tbody>${rows}</tbody></table></div>
${intervalPlot(input)}
</section>`;
}

interface Scale {
  low: number;
  high: number;
  at(value: number): number;
  ticks: number[];
}

function linearScale(values: readonly number[], from: number, to: number): Scale {
  const finite = values.filter(Number.isFinite);
  let low = finite.length > 0 ? Math.min(...finite) : 0;
  let high = finite.length > 0 ? Math.max(...finite) : 1;
  if (high - low < 1e-9) {
    low -= 0.01;
    high += 0.01;
  }
  const pad = (high - low) * 0.06;
  low -= pad;
  high += pad;
  const step = niceStep((high - low) / 5);
  const ticks: number[] = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high + 1e-12; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return { low, high, ticks, at: (value) => from + ((value - low) / (high - low)) * (to - from) };
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function tickText(value: number, step: number): string {
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  return value.toFixed(Math.min(digits, 6));
}

/** Each config's trial values (dots), mean (bar) and 95 % interval (whisker), on one axis. */
function intervalPlot(input: SweepReportInput): Html {
  const { plan, summaries, best } = input;
  const rowHeight = 30;
  const left = 130;
  const width = 760;
  const right = width - 20;
  const height = 40 + summaries.length * rowHeight;
  const everything = summaries.flatMap((summary) => [...summary.values, ...(summary.estimate && Number.isFinite(summary.estimate.halfWidth) ? [summary.estimate.low, summary.estimate.high] : [])]);
  const x = linearScale(everything, left, right);
  const step = x.ticks.length > 1 ? x.ticks[1]! - x.ticks[0]! : 1;
  const rows = summaries.map((summary, row) => {
    const y = 20 + row * rowHeight + rowHeight / 2;
    const estimate = summary.estimate;
    const color = summary === best ? '#15803d' : '#2563eb';
    return html`<g><text class="label" x="${left - 10}" y="${y + 4}" text-anchor="end">${summary === best ? '★ ' : ''}${summary.config}</text>
${summary.values.filter(Number.isFinite).map((value) => html`<circle cx="${x.at(value).toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}" fill-opacity="0.35"><title>${value4(value)}</title></circle>`)}
${estimate !== null && Number.isFinite(estimate.halfWidth) ? html`<line x1="${x.at(estimate.low).toFixed(1)}" x2="${x.at(estimate.high).toFixed(1)}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"/><line x1="${x.at(estimate.low).toFixed(1)}" x2="${x.at(estimate.low).toFixed(1)}" y1="${y - 6}" y2="${y + 6}" stroke="${color}" stroke-width="2"/><line x1="${x.at(estimate.high).toFixed(1)}" x2="${x.at(estimate.high).toFixed(1)}" y1="${y - 6}" y2="${y + 6}" stroke="${color}" stroke-width="2"/>` : ''}
${estimate !== null && Number.isFinite(estimate.mean) ? html`<rect x="${(x.at(estimate.mean) - 2).toFixed(1)}" y="${y - 9}" width="4" height="18" fill="${color}"><title>mean ${value4(estimate.mean)}</title></rect>` : ''}</g>`;
  });
  const axisY = height - 20;
  return html`<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${plan.input.metric} per config: trial values, mean and 95 % interval">
${x.ticks.map((tick) => html`<line class="grid" x1="${x.at(tick).toFixed(1)}" x2="${x.at(tick).toFixed(1)}" y1="10" y2="${axisY}"/><text x="${x.at(tick).toFixed(1)}" y="${axisY + 14}" text-anchor="middle">${tickText(tick, step)}</text>`)}
<line class="axis" x1="${left}" x2="${right}" y1="${axisY}" y2="${axisY}"/>
${rows}
</svg>
<p class="muted">Dots: each trial's ${plan.input.metric} at its kept epoch. Bar: the mean. Whiskers: the 95 % interval of the mean.${best !== null ? ' ★ the best config.' : ''}</p>`;
}

/** One small chart per config: every trial's validation metric by epoch, its kept epoch circled. */
function curvesSection(plan: SweepPlan, records: readonly TrialRecord[], summaries: readonly ConfigSummary[]): Html {
  const metric = plan.input.metric;
  const values = records.flatMap((record) => record.epochs.map((epoch) => epoch.metrics[metric] ?? NaN));
  const maxEpoch = Math.max(1, ...records.map((record) => record.epochs.length));
  const width = 380;
  const height = 220;
  const left = 46;
  const right = width - 12;
  const top = 10;
  const bottom = height - 30;
  const y = linearScale(values, bottom, top);
  const yStep = y.ticks.length > 1 ? y.ticks[1]! - y.ticks[0]! : 1;
  const xAt = (epoch: number) => (maxEpoch === 1 ? (left + right) / 2 : left + ((epoch - 1) / (maxEpoch - 1)) * (right - left));
  const xTicks = Array.from({ length: maxEpoch }, (_, index) => index + 1).filter((epoch) => maxEpoch <= 12 || epoch % Math.ceil(maxEpoch / 12) === 0 || epoch === 1);
  const figures = summaries.map((summary) => {
    const own = records.filter((record) => record.config === summary.config);
    const lines = own.map((record, position) => {
      const color = PALETTE[position % PALETTE.length]!;
      const points = record.epochs.filter((epoch) => Number.isFinite(epoch.metrics[metric])).map((epoch) => `${xAt(epoch.epoch).toFixed(1)},${y.at(epoch.metrics[metric]!).toFixed(1)}`);
      const kept = record.bestEpoch === null ? undefined : record.epochs.find((epoch) => epoch.epoch === record.bestEpoch);
      const name = `seed ${record.seed}${record.fold === null ? '' : `, fold ${record.fold}`}`;
      return html`<g><title>${record.trial} (${name}): kept epoch ${record.bestEpoch ?? DASH}, ${metric} ${value4(record.metrics?.[metric])}</title>
<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="1.5" stroke-opacity="0.85"/>
${kept !== undefined && Number.isFinite(kept.metrics[metric]) ? html`<circle cx="${xAt(kept.epoch).toFixed(1)}" cy="${y.at(kept.metrics[metric]!).toFixed(1)}" r="4" fill="none" stroke="${color}" stroke-width="2"/>` : ''}</g>`;
    });
    return html`<figure><figcaption><span class="mono">${summary.config}</span> <small>${
      plan.input.grid.map(([name]) => `${name} ${settingText(summary.settings[name])}`).join(', ') || 'the only config'
    } · ${plural(own.length, 'trial')}</small></figcaption>
<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="validation ${metric} by epoch, config ${summary.config}">
${y.ticks.map((tick) => html`<line class="grid" x1="${left}" x2="${right}" y1="${y.at(tick).toFixed(1)}" y2="${y.at(tick).toFixed(1)}"/><text x="${left - 6}" y="${(y.at(tick) + 4).toFixed(1)}" text-anchor="end">${tickText(tick, yStep)}</text>`)}
${xTicks.map((epoch) => html`<text x="${xAt(epoch).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${epoch}</text>`)}
<line class="axis" x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/>
<text x="${right}" y="${height - 2}" text-anchor="end">epoch</text>
${lines}
</svg></figure>`;
  });
  return html`<section class="card" id="curves"><header><h2>Validation curves</h2><p>${metric} after every epoch, one line per trial (seed × fold); a circle marks the kept epoch. Hover a line for its trial.</p></header>
<div class="curves">${figures}</div></section>`;
}

function trialsSection(plan: SweepPlan, records: readonly TrialRecord[]): Html {
  const metric = plan.input.metric;
  const rows = records.map((record) => {
    const link = trialReportLink(plan, record.trial);
    return html`<tr><td class="mono">${link !== undefined && record.status === 'completed' ? html`<a href="${link}">${record.trial}</a>` : record.trial}</td><td class="num">${record.seed}</td><td class="num">${record.fold ?? DASH}</td><td class="${record.status === 'failed' ? 'failed' : ''}">${record.status}</td><td class="num">${record.epochs.length}${record.stoppedEarly ? ' (stopped early)' : ''}</td><td class="num">${record.bestEpoch ?? DASH}</td><td class="num">${value4(record.metrics?.[metric])}</td><td class="num">${formatDuration(record.durationMs / 1000)}</td><td>${record.error ?? ''}</td></tr>`;
  });
  return html`<section class="card" id="trials"><header><h2>Trials</h2><p>${plural(records.length, 'record')} of ${plural(plan.trials.length, 'planned trial')}; each links to its run report</p></header>
<div class="table-scroll"><table><thead><tr><th>trial</th><th class="num">seed</th><th class="num">fold</th><th>status</th><th class="num">epochs</th><th class="num">kept</th><th class="num">${metric}</th><th class="num">time</th><th></th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

function refitSection(refit: TrialRecord): Html {
  return html`<section class="card" id="refit"><header><h2>Refit</h2><p>the best config retrained on all the training data</p></header>
<p>Config <span class="mono">${refit.config}</span>, seed ${refit.seed}, ${plural(refit.epochs.length, 'epoch')}: ${refit.status === 'completed' ? html`the model is in <a href="refit/report.html">refit/</a>.` : html`<span class="failed">failed: ${refit.error}</span>`}</p></section>`;
}

function settingsSection(plan: SweepPlan): Html {
  const base = Object.entries(plan.input.base);
  return html`<section class="card" id="settings"><header><h2>Fixed settings</h2><p>given once, the same in every trial</p></header>
<p>Seeds ${plan.input.seeds.join(', ')}.</p>
<details class="settings"><summary>All ${plural(base.length, 'setting')}</summary><table><tbody>${base.map(([name, value]) => html`<tr><td>${name}</td><td>${settingText(value)}</td></tr>`)}</tbody></table></details></section>`;
}
