/**
 * `renderReport`: one self-contained HTML page that shows a run at a glance — what ran, the
 * sample ledger of every epoch (the product's promise: every sample counted), the per-step
 * charts, and the evaluation. Browser-safe (no `node:` import): a web page can call it too.
 *
 * The page makes no request of any kind: uPlot's files, the chart code (charts.ts, bundled
 * into CHARTS_SCRIPT at build time) and the run's data are inline, and a Content-Security-Policy
 * forbids every fetch and every script but the page's own (they carry a per-render nonce), so
 * even markup smuggled in by a hostile label could neither run nor load anything. Everything
 * user-controlled is escaped (see html.ts), and the data block is JSON with `<`, `>`, `&` escaped.
 */
import { ConfigError } from '../../core/errors.js';
import { CHARTS_SCRIPT } from './charts.bundle.js';
import { RUN_CHARTS_CSS } from './charts.js';
import {
  baseName,
  DASH,
  formatCount,
  formatDate,
  formatDuration,
  formatLoss,
  formatPercent,
  formatScore,
  formatSettingNumber,
  inlineScript,
  jsonForScript,
  plural,
} from './format.js';
import { html, htmlDocument, type Html } from './html.js';
import { accountsFor, ledgerRows, ledgerVerdict, type LedgerRow, type Verdict } from './ledger.js';
import { REPORT_CSS } from './styles.js';
import type { EvalRecord, MaskedLmEvalRecord, MetricsLine, ReportAssets, RunRecord, RunSummary, Scores } from './types.js';
import { validateRunRecord } from './validate.js';

type Level = 'ok' | 'warn' | 'error' | 'none';
type Settings = Record<string, unknown>;

/** Renders `run` as one HTML document; throws a DataError (file, line, field) if `run` is malformed. */
export function renderReport(run: RunRecord, assets: ReportAssets): string {
  const record = validateRunRecord(run);
  if (typeof assets?.uplotJs !== 'string' || typeof assets.uplotCss !== 'string' || !assets.uplotJs.includes('uPlot')) {
    throw new ConfigError("renderReport needs uPlot's IIFE build and its CSS as text (assets.uplotJs, assets.uplotCss)");
  }
  const view = buildView(record);
  const nonce = makeNonce();
  const body = html`
<main>
${masthead(view)}
${notices(view)}
${whatRanSection(view)}
${ledgerSection(view)}
${chartsSection(view)}
${evaluationSection(view)}
<footer>microbatch run report · made from ${view.summary ? 'summary.json' : DASH}${view.run.metrics.length > 0 ? ' and metrics.jsonl' : ''} · charts by uPlot (MIT) · this file makes no network request</footer>
</main>`;
  const scripts =
    view.run.metrics.length === 0
      ? ''
      : `<script nonce="${nonce}">${inlineScript(assets.uplotJs)}</script>
<script nonce="${nonce}">${inlineScript(CHARTS_SCRIPT)}</script>
<script type="application/json" id="run-data">${jsonForScript(chartData(view))}</script>
<script nonce="${nonce}">${inlineScript(BOOT_SCRIPT)}</script>`;
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'`;
  return htmlDocument({
    csp,
    generator: 'microbatch report',
    title: html`${view.title} · microbatch run report`,
    styles: [assets.uplotCss, REPORT_CSS + RUN_CHARTS_CSS],
    body,
    after: scripts,
  });
}

/** Starts the charts from the data block; `window.microbatchReport.charts` is the live handle (see charts.ts). */
const BOOT_SCRIPT = `(function () {
  var data = JSON.parse(document.getElementById('run-data').textContent);
  var charts = MicrobatchCharts.createRunCharts(document.getElementById('run-charts'), {
    uPlot: uPlot, metrics: data.metrics, totalSteps: data.totalSteps, clipNorm: data.clipNorm
  });
  window.microbatchReport = { charts: charts };
})();`;

function makeNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------------------------
// What the page shows, derived once.

interface View {
  run: RunRecord;
  summary: RunSummary | undefined;
  settings: Settings;
  rows: LedgerRow[];
  verdict: Verdict;
  samples: number | undefined;
  title: string;
  status: { level: Level; text: string };
  trainSeconds: number | undefined;
  resumes: number;
  plannedEpochs: number | undefined;
  warnings: string[];
}

function buildView(run: RunRecord): View {
  const summary = run.summary;
  const settings: Settings = { ...(summary?.settings ?? {}), ...(run.settings ?? {}) };
  const rows = ledgerRows(run);
  const samples = summary?.samples;
  const verdict = ledgerVerdict(rows, samples);
  const model = stringSetting(settings, 'model');
  const data = stringSetting(settings, 'data');
  const title = model !== undefined && data !== undefined ? `${baseName(model)} on ${baseName(data)}` : model !== undefined ? baseName(model) : 'Training run';
  const segments = elapsedSegments(run.metrics);
  const warnings = [...(run.warnings ?? [])];
  if (summary === undefined) {
    warnings.push(
      run.metrics.length > 0
        ? 'No summary.json: the run was stopped (or is still running). The ledger below is rebuilt from metrics.jsonl.'
        : 'Neither summary.json nor metrics lines: there is nothing to report yet.',
    );
  } else if (run.metrics.length === 0) {
    warnings.push('No metrics.jsonl lines: the per-step charts are missing; the ledger comes from summary.json.');
  }
  return {
    run,
    summary,
    settings,
    rows,
    verdict,
    samples,
    title,
    status: runStatus(summary, verdict),
    trainSeconds: trainingSeconds(summary?.train_seconds, segments),
    resumes: Math.max(0, segments.length - 1),
    plannedEpochs: numberSetting(settings, 'epochs'),
    warnings,
  };
}

function runStatus(summary: RunSummary | undefined, verdict: Verdict): { level: Level; text: string } {
  if (verdict.level === 'error') return { level: 'error', text: 'Ledger does not add up' };
  if (summary === undefined) return { level: 'warn', text: 'Stopped or running' };
  if (summary.stopped_early) return { level: 'warn', text: 'Stopped early' };
  return { level: 'ok', text: 'Finished' };
}

/** Training seconds of each process that ran the steps: elapsed_s restarts from 0 when a run is resumed. */
function elapsedSegments(metrics: readonly MetricsLine[]): number[] {
  const segments: number[] = [];
  let last: number | undefined;
  for (const line of metrics) {
    if (line.elapsed_s === undefined) continue;
    if (last === undefined || line.elapsed_s < last) segments.push(0);
    segments[segments.length - 1] = line.elapsed_s;
    last = line.elapsed_s;
  }
  return segments;
}

/**
 * Training time over every process of the run: summary.json's train_seconds counts only the
 * process that finished it, so the earlier ones (before each resume) come from metrics.jsonl.
 */
function trainingSeconds(finalProcess: number | undefined, segments: readonly number[]): number | undefined {
  const sum = (values: readonly number[]) => values.reduce((total, seconds) => total + seconds, 0);
  if (finalProcess !== undefined) return sum(segments.slice(0, -1)) + finalProcess;
  return segments.length > 0 ? sum(segments) : undefined;
}

function stringSetting(settings: Settings, key: string): string | undefined {
  const value = settings[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function numberSetting(settings: Settings, key: string): number | undefined {
  const value = settings[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function chartData(view: View): { metrics: MetricsLine[]; totalSteps?: number; clipNorm?: number } {
  const { metrics } = view.run;
  const perEpoch = metrics[0]?.windows;
  const totalSteps = view.plannedEpochs !== undefined && perEpoch !== undefined ? view.plannedEpochs * perEpoch : undefined;
  const clipNorm = numberSetting(view.settings, 'clipNorm');
  return {
    metrics,
    ...(totalSteps !== undefined && totalSteps >= (metrics[metrics.length - 1]?.step ?? 0) ? { totalSteps } : {}),
    ...(clipNorm !== undefined && clipNorm > 0 ? { clipNorm } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Header: title, status, headline numbers.

function masthead(view: View): Html {
  const { summary, rows, run } = view;
  const task = summary?.task?.replace(/[-_]/g, ' ');
  const labels = summary?.labels;
  const evaluation = summary?.eval;
  const subtitle = [
    task,
    summary?.model_type,
    view.samples !== undefined ? plural(view.samples, 'training sample') : undefined,
    labels !== undefined && labels.length > 0 ? plural(labels.length, 'label') : undefined,
    run.finishedAt !== undefined ? formatDate(run.finishedAt) : undefined,
  ].filter((part): part is string => part !== undefined);
  const completeRows = rows.filter((row) => row.complete);
  const lastLoss = [...completeRows].reverse().find((row) => row.loss !== null)?.loss ?? null;
  const firstLoss = completeRows.find((row) => row.loss !== null)?.loss ?? null;
  const applied = rows.reduce((total, row) => total + row.steps, 0);
  const skipped = rows.reduce((total, row) => total + row.skippedSteps, 0);
  const trainedSamples = run.metrics.reduce((total, line) => total + (line.window_size ?? 0), 0);
  const rate = view.trainSeconds !== undefined && view.trainSeconds > 0 && trainedSamples > 0 ? trainedSamples / view.trainSeconds : undefined;
  const epochsDone = completeRows.length;
  const stepsPerEpoch = rows[0]?.status.length;
  const tiles: Html[] = [
    ledgerTile(view),
    tile(
      'Epochs',
      view.plannedEpochs !== undefined ? `${epochsDone} / ${view.plannedEpochs}` : String(epochsDone),
      `${plural(applied + skipped, 'step')}${skipped > 0 ? `, ${skipped} skipped` : stepsPerEpoch !== undefined ? `, ${stepsPerEpoch} per epoch` : ''}`,
    ),
    tile('Final loss', formatLoss(lastLoss), firstLoss !== null && epochsDone > 1 ? `epoch 1: ${formatLoss(firstLoss)}` : 'last finished epoch'),
  ];
  const maskedLm = summary?.masked_lm_eval;
  if (maskedLm !== undefined) tiles.push(tile('Perplexity', formatPerplexity(maskedLm.perplexity), `masked-LM loss ${formatLoss(maskedLm.loss)}`));
  if (evaluation !== undefined) {
    tiles.push(tile('Accuracy', formatPercent(evaluation.accuracy), `${formatCount(evaluation.correct)} / ${formatCount(evaluation.samples)} correct`));
    tiles.push(tile('Macro-F1', formatScore(evaluation.macro_f1), evaluation.entities ? `entity micro-F1 ${formatScore(evaluation.entities.micro.f1)}` : 'mean of per-label F1'));
  }
  tiles.push(tile('Training time', formatDuration(view.trainSeconds), rate !== undefined ? `${rate.toFixed(1)} samples/s` : view.resumes > 0 ? `resumed ${view.resumes}×` : ''));
  const sections = [
    ['run', 'What ran'],
    ['ledger', 'Sample ledger'],
    ['curves', 'Training curves'],
    ['evaluation', 'Evaluation'],
  ];
  return html`<header class="masthead">
  <div>
    <div class="eyebrow">microbatch · run report</div>
    <h1>${view.title}</h1>
    <p class="subtitle">${subtitle.map((part) => html`<span>${part}</span>`)}</p>
  </div>
  <span class="badge ${view.status.level}" id="run-status">${view.status.text}</span>
</header>
<nav class="toc">${sections.map(([id, name]) => html`<a href="#${id}">${name}</a>`)}</nav>
<div class="tiles">${tiles}</div>`;
}

/**
 * The ledger's headline: samples accounted for (trained, skipped or dropped) in every finished
 * epoch out of N — green when all were trained, amber when some were skipped or dropped.
 */
function ledgerTile(view: View): Html {
  const complete = view.rows.filter((row) => row.complete);
  const { level } = view.verdict;
  if (complete.length === 0) return tile('Samples counted', DASH, view.rows.length > 0 ? 'no finished epoch yet' : 'no step recorded');
  if (view.samples === undefined) return tile('Samples trained', formatCount(Math.max(...complete.map((row) => row.samplesSeen))), 'per epoch (N unknown)');
  if (level === 'error') return tile('Samples counted', '✗ mismatch', 'the ledger does not add up', 'error');
  const skipped = complete.reduce((total, row) => total + row.skippedSamples, 0);
  const dropped = complete.reduce((total, row) => total + (row.dropped ?? 0), 0);
  const note =
    skipped > 0 && dropped > 0
      ? `${formatCount(skipped)} skipped, ${formatCount(dropped)} dropped`
      : skipped > 0
        ? `${formatCount(skipped)} skipped, not trained`
        : dropped > 0
          ? `${plural(dropped, 'sample')} dropped (all epochs)`
          : 'all trained, every epoch';
  return tile('Samples counted', `${level === 'ok' ? '✓ ' : ''}${formatCount(view.samples)} / ${formatCount(view.samples)}`, note, level === 'none' ? undefined : level);
}

function tile(label: string, value: string, note: string, level?: Level): Html {
  return html`<div class="tile${level !== undefined ? ` ${level}` : ''}"><div class="label">${label}</div><div class="value" title="${value}">${value}</div><div class="note" title="${note}">${note}</div></div>`;
}

function labelList(labels: readonly string[], shown: number): string {
  const head = labels.slice(0, shown).join(', ');
  return labels.length > shown ? `${head} +${labels.length - shown}` : head;
}

function notices(view: View): Html {
  if (view.warnings.length === 0) return html``;
  return html`<div class="notice" role="note">${view.warnings.map((warning) => html`<p>${warning}</p>`)}</div>`;
}

// ---------------------------------------------------------------------------------------------
// The ledger.

function ledgerSection(view: View): Html {
  const { rows, verdict, samples } = view;
  const marks: Record<Level, string> = { ok: '✓', warn: '!', error: '✗', none: '–' };
  const verdictBox = html`<div class="verdict ${verdict.level}" id="ledger-verdict"><span class="mark">${marks[verdict.level]}</span><div><strong>${verdict.title}</strong>${
    verdict.details.length > 0 ? html`<ul>${verdict.details.map((detail) => html`<li>${detail}</li>`)}</ul>` : ''
  }</div></div>`;
  const windowsPerEpoch = rows[0]?.windows.length;
  const lead =
    samples !== undefined && view.summary?.batch !== undefined
      ? `${plural(samples, 'sample')} per epoch, cut into windows of up to ${view.summary.batch} (one optimizer step each)${windowsPerEpoch !== undefined ? `: ${plural(windowsPerEpoch, 'window')}` : ''}.`
      : 'Where every sample of every epoch went: an applied step, a skipped step, or dropped.';
  if (rows.length === 0) {
    return html`<section class="card feature" id="ledger"><header><h2>Sample ledger</h2><p>${lead}</p></header>${verdictBox}</section>`;
  }
  const total = (pick: (row: LedgerRow) => number | undefined) => rows.reduce((sum, row) => sum + (pick(row) ?? 0), 0);
  const zeroAware = (value: number | undefined, bad = false) =>
    value === undefined ? html`<span class="zero">${DASH}</span>` : value === 0 ? html`<span class="zero">0</span>` : bad ? html`<span class="bad">${formatCount(value)}</span>` : formatCount(value);
  const body = rows.map((row) => {
    const accounted = accountsFor(row, samples);
    const check = !row.complete
      ? html`<td class="check open" title="epoch not finished">…</td>`
      : accounted === undefined
        ? html`<td class="check open" title="dataset size unknown">?</td>`
        : accounted
          ? html`<td class="check ok" title="${`${row.samplesSeen} trained + ${row.skippedSamples} skipped + ${row.dropped} dropped = ${samples}`}">✓</td>`
          : html`<td class="check error" title="${`${row.samplesSeen} trained + ${row.skippedSamples} skipped + ${row.dropped ?? 0} dropped ≠ ${samples}`}">✗</td>`;
    return html`<tr>
  <td class="epoch">Epoch ${row.epoch}${row.complete ? '' : html` <small class="muted">(unfinished)</small>`}</td>
  <td class="windows-cell"><div class="windows">${windowSizes(row)}</div>${sampleStrip(row)}</td>
  <td class="num seen"><strong>${formatCount(row.samplesSeen)}</strong>${samples !== undefined ? html` <span class="muted">/ ${formatCount(samples)}</span>` : ''}</td>
  <td class="num">${formatCount(row.steps)}</td>
  <td class="num">${zeroAware(row.skippedSteps, true)}${row.skippedSteps > 0 ? html` <small class="muted">(${row.skippedSamples} samples)</small>` : ''}</td>
  <td class="num">${zeroAware(row.dropped, true)}</td>
  <td class="num">${formatLoss(row.loss)}</td>
  ${check}
</tr>`;
  });
  return html`<section class="card feature" id="ledger">
<header><h2>Sample ledger</h2><p>${lead}</p></header>
${verdictBox}
<div class="table-scroll"><table class="ledger">
<thead><tr><th>Epoch</th><th>Windows: samples per step</th><th class="num">Samples trained / N</th><th class="num">Steps</th><th class="num">Skipped steps</th><th class="num">Dropped</th><th class="num">Epoch loss</th><th class="check" title="trained + skipped + dropped = N">Adds up</th></tr></thead>
<tbody>${body}</tbody>
<tfoot><tr><td>Total</td><td></td><td class="num">${formatCount(total((row) => row.samplesSeen))}</td><td class="num">${formatCount(total((row) => row.steps))}</td><td class="num">${formatCount(total((row) => row.skippedSteps))}</td><td class="num">${rows.every((row) => row.dropped !== undefined) ? formatCount(total((row) => row.dropped)) : DASH}</td><td></td><td></td></tr></tfoot>
</table></div>
<div class="legend"><span class="applied">applied step</span><span class="skipped">skipped step (not trained)</span><span class="dropped">dropped (--remainder drop)</span>${
    rows.some((row) => row.status.includes('pending')) ? html`<span class="pending">not run yet</span>` : ''
  }${rows.some((row) => row.status.includes('unknown')) ? html`<span class="unknown">applied or skipped (no metrics.jsonl)</span>` : ''}</div>
</section>`;
}

function windowSizes(row: LedgerRow): Html {
  const sizes = row.windows.map((size, index) => {
    const status = row.status[index];
    return status === 'skipped' ? html`<span class="skipped" title="window ${index + 1}: skipped">${size}</span>` : html`<span>${size}</span>`;
  });
  const pending = row.status.filter((status) => status === 'pending').length;
  const parts: Html[] = sizes.flatMap((size, index) => (index === 0 ? [size] : [html`, `, size]));
  if (pending > 0) parts.push(html`<span class="pending">${row.windows.length > 0 ? ', ' : ''}+${pending} to go</span>`);
  return html`${parts}`;
}

/** One bar per epoch: a segment per window (width ∝ its samples), then the dropped samples. */
function sampleStrip(row: LedgerRow): Html {
  const known = row.windows.reduce((sum, size) => sum + size, 0);
  const pendingCount = row.status.filter((status) => status === 'pending').length;
  // Windows not run yet have no known size: shown as the mean size of those that ran.
  const pendingSize = row.windows.length > 0 ? known / row.windows.length : 1;
  const segments: Html[] = row.windows.map((size, index) => {
    const status = row.status[index] ?? 'applied';
    return html`<span class="${status}" style="flex-grow: ${size}" title="window ${index + 1}: ${size} samples, ${status}"></span>`;
  });
  for (let index = 0; index < pendingCount; index++) segments.push(html`<span class="pending" style="flex-grow: ${pendingSize}" title="not run yet"></span>`);
  if (row.dropped !== undefined && row.dropped > 0) segments.push(html`<span class="dropped" style="flex-grow: ${row.dropped}" title="${row.dropped} samples dropped"></span>`);
  return html`<div class="strip" role="img" aria-label="${`epoch ${row.epoch}: ${row.samplesSeen} trained, ${row.skippedSamples} skipped, ${row.dropped ?? 0} dropped`}">${segments}</div>`;
}

// ---------------------------------------------------------------------------------------------
// Charts (drawn by the inline script).

function chartsSection(view: View): Html {
  const { metrics } = view.run;
  if (metrics.length === 0) {
    return html`<section class="card" id="curves"><header><h2>Training curves</h2></header><p class="empty">No per-step metrics (metrics.jsonl is missing or empty), so there is nothing to chart.</p></section>`;
  }
  const skipped = metrics.filter((line) => line.skipped).length;
  const retried = metrics.filter((line) => !line.skipped && (line.retries ?? 0) > 0).length;
  const notes = [
    plural(metrics.length, 'optimizer step'),
    'dashed lines mark epoch boundaries',
    skipped > 0 ? `red bands: ${plural(skipped, 'skipped step')} (no loss)` : undefined,
    retried > 0 ? `amber bands: ${plural(retried, 'retried step')}` : undefined,
    'drag to zoom, double-click to reset',
  ].filter((note): note is string => note !== undefined);
  return html`<section class="card" id="curves">
<header><h2>Training curves</h2><p>${notes.join(' · ')}</p></header>
<div id="run-charts"></div>
<noscript><p class="empty">The charts are drawn by the page's inline script; enable JavaScript to see them.</p></noscript>
</section>`;
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

interface NamedScores {
  name: string;
  scores: Scores;
}

/** per_label / per_type in either form, in `order` first (then any others). */
function namedScores<K extends 'label' | 'type'>(
  table: Record<string, Scores> | (Scores & { [key in K]: string })[] | undefined,
  key: K,
  order: readonly string[],
): NamedScores[] {
  if (table === undefined) return [];
  const entries: NamedScores[] = Array.isArray(table)
    ? table.map((entry) => ({ name: entry[key], scores: entry }))
    : Object.entries(table).map(([name, scores]) => ({ name, scores }));
  const rank = (name: string) => {
    const index = order.indexOf(name);
    return index === -1 ? order.length : index;
  };
  return entries.sort((a, b) => rank(a.name) - rank(b.name));
}

function scoreCell(value: number): Html {
  const width = Math.max(0, Math.min(1, value)) * 100;
  return html`<td class="num score">${formatScore(value)}<span class="bar"><i style="width: ${width.toFixed(1)}%"></i></span></td>`;
}

function scoresTable(rows: NamedScores[], nameHeader: string, footer: NamedScores[] = []): Html {
  const line = (entry: NamedScores, head: boolean) =>
    html`<tr>${head ? html`<th>${entry.name}</th>` : html`<td class="label-name">${entry.name}</td>`}${scoreCell(entry.scores.precision)}${scoreCell(entry.scores.recall)}${scoreCell(entry.scores.f1)}<td class="num">${formatCount(entry.scores.support)}</td></tr>`;
  return html`<div class="table-scroll"><table class="scores">
<thead><tr><th>${nameHeader}</th><th class="num">Precision</th><th class="num">Recall</th><th class="num">F1</th><th class="num">Support</th></tr></thead>
<tbody>${rows.map((entry) => line(entry, false))}</tbody>
${footer.length > 0 ? html`<tfoot>${footer.map((entry) => line(entry, true))}</tfoot>` : ''}
</table></div>`;
}

/** Rows: true label; columns: predicted. Colour: share of the row (blue on the diagonal, red off it). */
function confusionTable(matrix: number[][], labels: readonly string[]): Html {
  const header = html`<tr><th class="axis">true ↓ / predicted →</th>${labels.map((label) => html`<th title="${`predicted ${label}`}">${label}</th>`)}<th class="axis">total</th></tr>`;
  const body = matrix.map((row, t) => {
    const total = row.reduce((sum, count) => sum + count, 0);
    const cells = row.map((count, p) => {
      const share = total > 0 ? count / total : 0;
      const alpha = count === 0 ? 0 : 0.12 + 0.78 * share;
      const rgb = t === p ? '37, 99, 235' : '220, 38, 38';
      const style = count === 0 ? '' : `background: rgba(${rgb}, ${alpha.toFixed(3)}); color: ${alpha > 0.55 ? '#fff' : '#0f172a'}`;
      return html`<td style="${style}" title="${`true ${labels[t]}, predicted ${labels[p]}: ${count} (${formatPercent(share)} of ${labels[t]})`}">${formatCount(count)}<small>${total > 0 ? formatPercent(share, 0) : ''}</small></td>`;
    });
    return html`<tr><th>${labels[t]}</th>${cells}<td class="total">${formatCount(total)}</td></tr>`;
  });
  return html`<div class="table-scroll"><table class="confusion"><thead>${header}</thead><tbody>${body}</tbody></table></div>
<p class="confusion-note">Cells: count and share of the true label's samples; blue = correct, red = confused.</p>`;
}

function formatPerplexity(value: number | null): string {
  return value === null ? '—' : value.toFixed(value < 100 ? 2 : 1);
}

/** A masked-LM run's evaluation: loss and perplexity over the masked tokens of fixed masks. */
function maskedLmSection(evaluation: MaskedLmEvalRecord): Html {
  const tiles = [
    tile('Perplexity', formatPerplexity(evaluation.perplexity), 'exp of the loss'),
    tile('Masked-LM loss', formatLoss(evaluation.loss), 'mean over every masked token'),
    tile('Masked tokens', formatCount(evaluation.masked_tokens), 'fixed masks: the same in every epoch and run with this seed'),
  ];
  return html`<section class="card" id="evaluation">
<header><h2>Evaluation</h2><p>${evaluation.file !== undefined ? html`on <code title="${evaluation.file}">${baseName(evaluation.file)}</code> · ` : ''}${plural(evaluation.samples, 'sample')}</p></header>
<div class="tiles eval">${tiles}</div>
</section>`;
}

function evaluationSection(view: View): Html {
  const evaluation: EvalRecord | undefined = view.summary?.eval;
  if (view.summary?.masked_lm_eval !== undefined) return maskedLmSection(view.summary.masked_lm_eval);
  if (evaluation === undefined) {
    const why = view.summary === undefined || view.summary.stopped_early ? 'the run stopped before its evaluation' : 'the run had no --eval file';
    return html`<section class="card" id="evaluation"><header><h2>Evaluation</h2></header><p class="empty">No evaluation: ${why}.</p></section>`;
  }
  const labels = evaluation.labels ?? view.summary?.labels ?? [];
  const perLabel = namedScores(evaluation.per_label, 'label', labels);
  const matrix = evaluation.confusion_matrix;
  const matrixLabels = matrix === undefined ? [] : labels.length === matrix.length ? labels : matrix.map((_, index) => String(index));
  const entities = evaluation.entities;
  const tiles = [
    tile('Accuracy', formatPercent(evaluation.accuracy, 2), `${formatCount(evaluation.correct)} of ${formatCount(evaluation.samples)} correct`),
    tile('Macro-F1', formatScore(evaluation.macro_f1), 'unweighted mean over labels'),
  ];
  if (entities !== undefined) {
    tiles.push(tile('Entity micro-F1', formatScore(entities.micro.f1), `P ${formatScore(entities.micro.precision)} · R ${formatScore(entities.micro.recall)}`));
    tiles.push(tile('Entity macro-F1', formatScore(entities.macro.f1), 'mean over entity types'));
  }
  const detail =
    perLabel.length > 0 || matrix !== undefined
      ? html`<div class="eval-grid">
${perLabel.length > 0 ? html`<div><h3>Per label</h3>${scoresTable(perLabel, 'Label')}</div>` : ''}
${matrix !== undefined ? html`<div><h3>Confusion matrix</h3>${confusionTable(matrix, matrixLabels)}</div>` : ''}
</div>`
      : html`<p class="empty">summary.json has no per-label scores or confusion matrix for this run.</p>`;
  const entitySection =
    entities === undefined
      ? ''
      : html`<div class="entities" id="entities"><h3>Entities (exact span and type, as seqeval)</h3>${scoresTable(namedScores(entities.per_type, 'type', []), 'Entity type', [
          { name: 'micro average', scores: entities.micro },
          { name: 'macro average', scores: entities.macro },
        ])}</div>`;
  return html`<section class="card" id="evaluation">
<header><h2>Evaluation</h2><p>${evaluation.file !== undefined ? html`on <code title="${evaluation.file}">${baseName(evaluation.file)}</code> · ` : ''}${plural(evaluation.samples, 'sample')}</p></header>
<div class="tiles eval">${tiles}</div>
${detail}
${entitySection ? html`<div style="margin-top: 24px">${entitySection}</div>` : ''}
</section>`;
}

// ---------------------------------------------------------------------------------------------
// What ran: the run's configuration.

function whatRanSection(view: View): Html {
  const { summary, settings } = view;
  const facts: [string, Html | string][] = [];
  const add = (name: string, value: Html | string | undefined) => {
    if (value !== undefined && value !== '') facts.push([name, value]);
  };
  const text = (key: string) => stringSetting(settings, key);
  const number = (key: string) => numberSetting(settings, key);
  const path = (value: string | undefined, note?: string) => (value === undefined ? undefined : html`<code>${value}</code>${note !== undefined ? html` <small>(${note})</small>` : ''}`);
  add('Task', summary?.task?.replace(/[-_]/g, ' '));
  add('Model', path(text('model'), summary?.model_type));
  add('Data', path(text('data'), view.samples !== undefined ? plural(view.samples, 'sample') : undefined));
  add('Labels', summary?.labels !== undefined && summary.labels.length > 0 ? labelList(summary.labels, 12) : undefined);
  add('Evaluation', path(text('eval') ?? summary?.eval?.file));
  add('Output', path(text('out')));
  add('Backend', summary?.backend_detail?.replace(/^backend\s+/, '') ?? summary?.backend ?? text('backend'));
  add('Workers', summary?.workers !== undefined ? String(summary.workers) : number('workers') !== undefined ? String(number('workers')) : undefined);
  const micro = summary?.micro_batch ?? number('microBatch');
  const batch = summary?.batch ?? number('batch');
  add(
    'Batch',
    batch === undefined
      ? undefined
      : micro === undefined
        ? `${batch} per step`
        : `micro-batch ${micro} · batch ${batch} (${plural(Math.ceil(batch / micro), 'micro-batch', 'micro-batches')} per step)`,
  );
  add('Epochs', view.plannedEpochs !== undefined ? `${view.plannedEpochs} planned · ${view.rows.filter((row) => row.complete).length} finished` : undefined);
  const optimizer = text('optimizer');
  const lr = number('lr');
  if (optimizer !== undefined || lr !== undefined) {
    const parts = [optimizer, lr !== undefined ? `lr ${formatSettingNumber(lr)}` : undefined];
    const decay = number('weightDecay');
    if (decay !== undefined && decay > 0) parts.push(`weight decay ${formatSettingNumber(decay)}`);
    const momentum = number('momentum');
    if (momentum !== undefined) parts.push(`momentum ${formatSettingNumber(momentum)}`);
    add('Optimizer', parts.filter(Boolean).join(' · '));
  }
  const schedule = text('schedule');
  const warmup = number('warmupSteps');
  if (schedule !== undefined) add('Schedule', warmup ? `${schedule} · warm-up ${plural(warmup, 'step')}` : schedule);
  const clip = number('clipNorm');
  if (clip !== undefined) add('Clip norm', clip > 0 ? formatSettingNumber(clip) : 'off');
  add('Remainder', text('remainder'));
  const seed = number('seed');
  if (seed !== undefined) add('Seed', settings.shuffle === false ? `${seed} · file order` : `${seed} · shuffled`);
  const maxLength = number('maxLength');
  if (maxLength !== undefined) add('Max length', `${maxLength} tokens`);
  if (typeof settings.lossScale === 'boolean') add('Loss scale', settings.lossScale ? `dynamic · on overflow ${text('onOverflow') ?? 'retry'}` : 'off');
  add(summary !== undefined ? 'Finished' : 'Last written', view.run.finishedAt !== undefined ? formatDate(view.run.finishedAt) : undefined);
  add('Training time', view.trainSeconds !== undefined ? `${formatDuration(view.trainSeconds)}${view.resumes > 0 ? ` (resumed ${view.resumes}×)` : ''}` : undefined);

  const settingRows = Object.entries(settings).filter(([, value]) => value !== undefined);
  return html`<section class="card" id="run">
<header><h2>What ran</h2><p>${Object.keys(settings).length > 0 ? 'from the run’s settings and summary.json' : 'from summary.json (the run’s settings were not recorded)'}</p></header>
<dl class="facts">${facts.map(([name, value]) => html`<div><dt>${name}</dt><dd>${value}</dd></div>`)}</dl>
${commandLine(settings)}
${
  settingRows.length > 0
    ? html`<details class="settings"><summary>All ${plural(settingRows.length, 'setting')}</summary><table><tbody>${settingRows.map(
        ([key, value]) => html`<tr><td>${key}</td><td>${settingValue(value)}</td></tr>`,
      )}</tbody></table></details>`
    : ''
}
</section>`;
}

function settingValue(value: unknown): string {
  if (typeof value === 'number') return formatSettingNumber(value);
  if (typeof value === 'string') return value;
  if (value === null) return 'null';
  return JSON.stringify(value);
}

/**
 * The `train` command line that reproduces the settings (flags are the settings' names in
 * kebab-case; `settings.command`, when the run recorded its own, is shown instead).
 */
function commandLine(settings: Settings): Html {
  const recorded = settings.command;
  let command: string | undefined;
  let note = 'equivalent command, rebuilt from the run’s settings';
  if (typeof recorded === 'string') {
    command = recorded;
    note = 'command as recorded by the run';
  } else if (Array.isArray(recorded) && recorded.every((part) => typeof part === 'string')) {
    command = recorded.map(shellQuote).join(' ');
    note = 'command as recorded by the run';
  } else if (Object.keys(settings).length > 0) {
    const flags: string[] = [];
    const ordered = ['data', 'model', 'eval', 'out'];
    const keys = [...ordered.filter((key) => key in settings), ...Object.keys(settings).filter((key) => !ordered.includes(key))];
    for (const key of keys) {
      const value = settings[key];
      const flag = `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
      if (value === undefined || value === null || typeof value === 'object') continue;
      if (key === 'lossScale') {
        if (value === true) flags.push('--loss-scale dynamic');
      } else if (key === 'onOverflow' && settings.lossScale !== true) {
        continue;
      } else if (typeof value === 'boolean') {
        if (!value) flags.push(`--no-${flag.slice(2)}`);
        else if (key !== 'shuffle') flags.push(flag);
      } else {
        flags.push(`${flag} ${shellQuote(typeof value === 'number' ? formatSettingNumber(value) : String(value))}`);
      }
    }
    command = ['microbatch train', ...flags].join(' ');
  }
  if (command === undefined) return html``;
  return html`<pre class="command" id="run-command"><span class="prompt">$ </span>${command}</pre><p class="command-note">${note}</p>`;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
