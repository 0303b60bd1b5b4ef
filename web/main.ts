/**
 * The page: picks a model folder and labelled data (the bundled default preselected), sets the
 * CLI's settings, and drives the training worker (worker.ts), drawing every optimizer step live
 * with the run report's own charts (src/app/report/charts.ts), the sample ledger of every epoch,
 * and the evaluation. Downloads: the fine-tuned checkpoint as a zip, and the run's report.
 * Imports only browser-safe modules of the library.
 */
import uPlot from 'uplot';
import { parse as parseCsv } from 'csv-parse/browser/esm/sync';
import { formatOfFileName, parseLabelledText } from '../src/app/data/labelled.js';
import { createRunCharts, RUN_CHARTS_CSS, type RunCharts } from '../src/app/report/charts.js';
import { ledgerRows, ledgerVerdict } from '../src/app/report/ledger.js';
import { renderReport } from '../src/app/report/render.js';
import type { MetricsLine, RunSummary } from '../src/app/report/types.js';
import { stepsPerEpoch, windowSizes } from '../src/plan/plan.js';
import type { ClassificationEvaluation } from '../src/app/prepare.js';
import { DEFAULT_SETTINGS } from './defaults.js';
import { errorInfo } from './errors.js';
import type { BackendInfo, DataChoice, ErrorInfo, FromWorker, ModelChoice, PageSettings, RunPlan, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, options: { className?: string; text?: string; title?: string } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (options.className !== undefined) node.className = options.className;
  if (options.text !== undefined) node.textContent = options.text;
  if (options.title !== undefined) node.title = options.title;
  node.append(...children);
  return node;
}

const chartStyle = document.createElement('style');
chartStyle.textContent = RUN_CHARTS_CSS;
document.head.append(chartStyle);

// ---------------------------------------------------------------------------------------------
// State

interface Bundled {
  model: { source: string; base: string; files: string[] };
  train: { file: string; url: string };
  eval: { file: string; url: string };
}

type Phase = 'loading' | 'idle' | 'training' | 'stopping' | 'stopped' | 'evaluating' | 'done';

const state: {
  phase: Phase;
  backend?: BackendInfo;
  bundled?: Bundled;
  model?: ModelChoice;
  train?: DataChoice;
  eval?: DataChoice;
  plan?: RunPlan;
  metrics: MetricsLine[];
  summary?: RunSummary;
  charts?: RunCharts;
  started: number;
  samplesTimed: number;
  secondsTimed: number;
} = { phase: 'loading', metrics: [], started: 0, samplesTimed: 0, secondsTimed: 0 };

// The page's query string goes to the worker: `?threads=N` sets TF.js's wasm threads.
const worker = new Worker(`/worker.js${location.search}`);
const send = (message: ToWorker) => worker.postMessage(message);

// ---------------------------------------------------------------------------------------------
// Environment: backend, isolation, WebGPU

async function describeWebGpu(): Promise<{ text: string; level: 'ok' | 'warn' | '' }> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string } } | null> } }).gpu;
  if (gpu === undefined) return { text: 'WebGPU: not in this browser', level: '' };
  try {
    const adapter = await gpu.requestAdapter();
    if (adapter === null) return { text: 'WebGPU: no adapter', level: '' };
    const name = [adapter.info?.vendor, adapter.info?.architecture].filter((part) => part).join(' ');
    // The TF.js WebGPU backend is not part of this build: training stays on wasm (exact, and the same kernels as Node).
    return { text: `WebGPU: adapter${name ? ` ${name}` : ''} found, not used (no TF.js WebGPU backend in this build)`, level: '' };
  } catch (error) {
    return { text: `WebGPU: unavailable (${(error as Error).message})`, level: '' };
  }
}

async function showEnvironment(backend: BackendInfo): Promise<void> {
  const chips: { text: string; level: 'ok' | 'warn' | ''; title?: string }[] = [
    { text: `TF.js ${backend.name}${backend.name === 'wasm' ? ` · SIMD ${backend.simd ? 'on' : 'off'}` : ''}`, level: backend.name === 'wasm' ? 'ok' : 'warn', title: backend.detail },
    {
      text: `${backend.threads} thread${backend.threads === 1 ? '' : 's'}`,
      level: backend.threads > 1 ? 'ok' : '',
      title: backend.crossOriginIsolated
        ? `TF.js's threaded wasm build; it uses at most half of the ${navigator.hardwareConcurrency} logical cores`
        : 'the single-threaded wasm build (the page is not cross-origin isolated)',
    },
    backend.crossOriginIsolated
      ? { text: 'cross-origin isolated', level: 'ok', title: 'SharedArrayBuffer and wasm threads are available' }
      : { text: 'not cross-origin isolated: 1 thread', level: 'warn', title: 'serve the page with COOP/COEP headers (npm run web does) for wasm threads' },
    await describeWebGpu(),
  ];
  $('env').replaceChildren(...chips.map((chip) => element('li', { className: `chip ${chip.level}`, text: chip.text, ...(chip.title !== undefined ? { title: chip.title } : {}) })));
}

// ---------------------------------------------------------------------------------------------
// Model folder

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A short description of a model folder from its config.json (the worker does the full checks). */
function showModel(source: string, configText: string | undefined, names: readonly string[], sizes: Map<string, number>, bundled: boolean): void {
  const rows: [string, string][] = [];
  let config: Record<string, unknown> | undefined;
  try {
    if (configText !== undefined) config = JSON.parse(configText) as Record<string, unknown>;
  } catch {
    config = undefined;
  }
  if (configText === undefined) rows.push(['config.json', 'missing']);
  else if (config === undefined) rows.push(['config.json', 'not valid JSON']);
  else {
    rows.push(['family', String(config.model_type ?? 'unknown')]);
    const size = ['num_hidden_layers', 'hidden_size', 'num_attention_heads'].every((key) => typeof config![key] === 'number')
      ? `${String(config.num_hidden_layers)} layers, hidden ${String(config.hidden_size)}, ${String(config.num_attention_heads)} heads`
      : config.n_layers !== undefined
        ? `${String(config.n_layers)} layers, dim ${String(config.dim)}`
        : '—';
    rows.push(['size', size]);
    const labels = config.id2label !== null && typeof config.id2label === 'object' ? Object.values(config.id2label as Record<string, unknown>).map(String) : [];
    if (labels.length > 0) rows.push(['labels', labels.join(', ')]);
  }
  const weights = names.find((name) => name === 'model.safetensors' || name === 'model.safetensors.index.json');
  rows.push(['weights', weights !== undefined ? `${weights}${sizes.has(weights) ? ` (${formatBytes(sizes.get(weights)!)})` : ''}` : 'none: a new model is initialised from config.json with the seed']);
  const tokenizer = names.filter((name) => ['vocab.txt', 'tokenizer.json', 'vocab.json', 'merges.txt'].includes(name));
  rows.push(['tokenizer', tokenizer.length > 0 ? tokenizer.join(', ') : 'missing']);
  const info = $('model-info');
  info.replaceChildren(
    element('div', { className: 'name', text: source }, bundled ? element('span', { className: 'muted', text: ' · bundled default' }) : ''),
    element('dl', {}, ...rows.flatMap(([term, value]) => [element('dt', { text: term }), element('dd', { text: value })])),
  );
  $('model-default').hidden = bundled;
}

async function useBundledModel(): Promise<void> {
  const bundled = state.bundled!;
  state.model = { kind: 'bundled', source: bundled.model.source, base: bundled.model.base, names: bundled.model.files };
  const config = bundled.model.files.includes('config.json') ? await (await fetch(`${bundled.model.base}config.json`)).text() : undefined;
  showModel(bundled.model.source, config, bundled.model.files, new Map(), true);
  updateControls();
}

/** The top-level files of a chosen folder (sub-folders are not part of an HF checkpoint). */
async function useModelFiles(files: File[], relativePaths: string[]): Promise<void> {
  const top = new Map<string, File>();
  let source = 'model';
  files.forEach((file, index) => {
    const parts = relativePaths[index]!.split('/').filter((part) => part !== '');
    if (parts.length >= 2) source = parts[0]!;
    if (parts.length <= 2) top.set(file.name, file);
  });
  if (top.size === 0) {
    showError({ message: 'the chosen folder has no files', name: 'DataError' });
    return;
  }
  hideError();
  state.model = { kind: 'files', source, files: [...top.values()] };
  const config = top.get('config.json');
  showModel(source, config !== undefined ? await config.text() : undefined, [...top.keys()], new Map([...top].map(([name, file]) => [name, file.size])), false);
  updateControls();
}

// ---------------------------------------------------------------------------------------------
// Data files and field pickers

/** Field names of a data file: JSONL keys of the first rows, or the CSV/TSV header. */
function fieldsOf(data: DataChoice): string[] {
  const format = formatOfFileName(data.file);
  if (format === 'jsonl') {
    const keys = new Set<string>();
    for (const line of data.content.split('\n').slice(0, 50)) {
      try {
        const row = JSON.parse(line) as unknown;
        if (row !== null && typeof row === 'object' && !Array.isArray(row)) for (const key of Object.keys(row)) keys.add(key);
      } catch {
        // The row's error is reported by the full parse.
      }
    }
    return [...keys];
  }
  if (format === 'csv' || format === 'tsv') {
    try {
      const [header] = parseCsv(data.content.replace(/^\ufeff/, ''), { delimiter: format === 'csv' ? ',' : '\t', to_line: 1, relax_quotes: true, relax_column_count: true }) as string[][];
      return header ?? [];
    } catch {
      return [];
    }
  }
  return [];
}

function fillFieldPickers(): void {
  const fields = state.train !== undefined ? fieldsOf(state.train) : [];
  const pick = (select: HTMLSelectElement, wanted: string, fallback: number) => {
    const current = select.value;
    select.replaceChildren(...fields.map((field) => element('option', { text: field })));
    const choice = [current, wanted].find((name) => fields.includes(name)) ?? fields[Math.min(fallback < 0 ? fields.length + fallback : fallback, fields.length - 1)];
    if (choice !== undefined) select.value = choice;
  };
  pick($<HTMLSelectElement>('text-field'), DEFAULT_SETTINGS.textField, 0);
  pick($<HTMLSelectElement>('label-field'), DEFAULT_SETTINGS.labelField, -1);
}

/** Parses the chosen files as the worker will and shows rows and labels, or the CLI's error. */
function checkData(): void {
  const fields = { textField: $<HTMLSelectElement>('text-field').value, labelField: $<HTMLSelectElement>('label-field').value };
  const describe = (data: DataChoice | undefined, nameId: string, infoId: string) => {
    $(nameId).textContent = data?.file ?? '—';
    if (data === undefined) {
      $(infoId).textContent = '';
      return undefined;
    }
    const parsed = parseLabelledText(data.content, data.file, fields);
    const labels = Object.entries(parsed.report.labels).map(([label, count]) => `${label} ${count}`).join(', ');
    $(infoId).textContent = `${parsed.report.rowsRead} rows · ${labels}`;
    return parsed.report.rowsRead;
  };
  try {
    const rows = describe(state.train, 'train-name', 'train-info');
    describe(state.eval, 'eval-name', 'eval-info');
    hideError();
    showPlan(rows);
  } catch (error) {
    showError(errorInfo(error));
    showPlan(undefined);
  }
  updateControls();
}

async function readDataFile(file: File): Promise<DataChoice> {
  return { file: file.name, content: await file.text() };
}

// ---------------------------------------------------------------------------------------------
// Settings

const SETTING_INPUTS: Record<string, keyof PageSettings> = {
  'micro-batch': 'microBatch',
  batch: 'batch',
  epochs: 'epochs',
  lr: 'lr',
  remainder: 'remainder',
  seed: 'seed',
  'max-length': 'maxLength',
  'weight-decay': 'weightDecay',
  'warmup-steps': 'warmupSteps',
  'clip-norm': 'clipNorm',
  schedule: 'schedule',
};
/** Setting names (as errors name them) → the form's labels. */
const SETTING_LABELS: Record<string, string> = {
  microBatch: 'Micro-batch',
  batch: 'Batch',
  epochs: 'Epochs',
  lr: 'Learning rate',
  remainder: 'Remainder',
  seed: 'Seed',
  maxLength: 'Max length',
  weightDecay: 'Weight decay',
  warmupSteps: 'Warm-up steps',
  clipNorm: 'Clip norm',
};

function fillSettings(): void {
  for (const [id, key] of Object.entries(SETTING_INPUTS)) ($<HTMLInputElement>(id)).value = String(DEFAULT_SETTINGS[key]);
}

function readSettings(): PageSettings {
  const settings: PageSettings = { ...DEFAULT_SETTINGS, textField: $<HTMLSelectElement>('text-field').value, labelField: $<HTMLSelectElement>('label-field').value };
  const record = settings as unknown as Record<string, unknown>;
  for (const [id, key] of Object.entries(SETTING_INPUTS)) {
    const input = $<HTMLInputElement>(id);
    const text = input.value.trim();
    record[key] = typeof DEFAULT_SETTINGS[key] === 'number' ? (text === '' ? Number.NaN : Number(text)) : text;
  }
  return settings;
}

function showPlan(rows: number | undefined): void {
  const settings = readSettings();
  const plan = $('plan');
  if (rows === undefined || !(settings.batch >= 1) || !Number.isInteger(settings.batch)) {
    plan.textContent = '';
    return;
  }
  const policy = ['step', 'balance', 'drop'].includes(settings.remainder) ? settings.remainder : 'step';
  const windows = windowSizes(rows, settings.batch, policy);
  const microBatches = settings.microBatch >= 1 ? Math.ceil(settings.batch / settings.microBatch) : undefined;
  plan.textContent =
    `${rows} samples → windows [${windows.join(', ')}] each epoch, ${stepsPerEpoch(rows, settings.batch, policy)} optimizer steps` +
    (microBatches !== undefined ? `; up to ${microBatches} micro-batches per step` : '');
}

// ---------------------------------------------------------------------------------------------
// Errors and status

function showError(error: ErrorInfo): void {
  const box = $('error');
  const field = error.field !== undefined && error.file === undefined ? SETTING_LABELS[error.field] : undefined;
  const text = field !== undefined && error.message.startsWith(`${error.field} `) ? `${field}: ${error.message.slice(error.field!.length + 1)}` : error.message;
  box.replaceChildren(element('strong', { text: error.name === 'ConfigError' ? 'Setting error' : error.name === 'CheckpointError' ? 'Model folder error' : error.name === 'DataError' ? 'Data error' : 'Error' }), element('span', { text }));
  box.dataset.message = error.message;
  box.hidden = false;
  for (const [id, key] of Object.entries(SETTING_INPUTS)) $(id).classList.toggle('invalid', error.file === undefined && error.field === key);
}

function hideError(): void {
  $('error').hidden = true;
  for (const id of Object.keys(SETTING_INPUTS)) $(id).classList.remove('invalid');
}

function setStatus(text: string, progress?: number): void {
  $('status').textContent = text;
  if (progress !== undefined) $('progress-bar').style.width = `${Math.max(0, Math.min(1, progress)) * 100}%`;
}

function updateControls(): void {
  const { phase } = state;
  const ready = state.backend !== undefined && state.model !== undefined && state.train !== undefined && $('error').hidden;
  $<HTMLButtonElement>('train').disabled = !(ready && (phase === 'idle' || phase === 'stopped' || phase === 'done'));
  $<HTMLButtonElement>('train').textContent = phase === 'stopped' || phase === 'done' ? 'Train again' : 'Train';
  $<HTMLButtonElement>('stop').disabled = phase !== 'training';
  $<HTMLButtonElement>('resume').disabled = phase !== 'stopped';
  const trained = phase === 'stopped' || phase === 'done';
  $<HTMLButtonElement>('download-checkpoint').disabled = !trained;
  $<HTMLButtonElement>('download-report').disabled = !trained;
  $<HTMLButtonElement>('predict').disabled = !trained;
  $<HTMLInputElement>('predict-text').disabled = !trained;
  const busy = phase === 'training' || phase === 'stopping' || phase === 'evaluating';
  for (const id of [...Object.keys(SETTING_INPUTS), 'text-field', 'label-field', 'model-input', 'data-input', 'eval-input', 'eval-clear', 'model-default']) ($<HTMLInputElement>(id)).disabled = busy;
}

function log(line: string): void {
  $('log').textContent += `${line}\n`;
}

// ---------------------------------------------------------------------------------------------
// The run: charts, ledger, evaluation

function ledgerRow(epoch: number): HTMLTableRowElement {
  const body = $<HTMLTableElement>('ledger').tBodies[0]!;
  let row = body.querySelector<HTMLTableRowElement>(`tr[data-epoch="${epoch}"]`);
  if (row === null) {
    row = element('tr');
    row.dataset.epoch = String(epoch);
    const windows = element('div', { className: 'windows' }, ...state.plan!.windows.map((size, index) => element('span', { className: 'window', text: String(size), title: `window ${index + 1}: ${size} samples` })));
    row.append(element('th', { text: `Epoch ${epoch}` }), element('td', {}, windows), element('td', { className: 'num samples', text: '—' }), element('td', { className: 'num steps', text: '0' }), element('td', { className: 'num loss', text: '—' }), element('td', { className: 'check' }));
    body.append(row);
  }
  return row;
}

function beginRun(plan: RunPlan, settings: PageSettings): void {
  state.plan = plan;
  state.metrics = [];
  state.summary = undefined;
  state.samplesTimed = 0;
  state.secondsTimed = 0;
  state.started = performance.now();
  $('run').hidden = false;
  $('evaluation-card').hidden = true;
  $('verdict').hidden = true;
  $('prediction').replaceChildren();
  $<HTMLTableElement>('ledger').tBodies[0]!.replaceChildren();
  $('ledger-lines').textContent = '';
  state.charts?.destroy();
  state.charts = createRunCharts($('charts'), { uPlot, totalSteps: plan.totalSteps, clipNorm: settings.clipNorm });
  ledgerRow(1).querySelector('.window')?.classList.add('current');
}

function onStep(line: MetricsLine): void {
  state.metrics.push(line);
  state.charts!.addStep(line);
  const row = ledgerRow(line.epoch);
  const cells = row.querySelectorAll<HTMLElement>('.window');
  const cell = cells[line.window! - 1]!;
  cell.classList.remove('current');
  cell.classList.add(line.skipped ? 'skipped' : 'done');
  row.querySelector('.samples')!.textContent = `${line.samples_seen} / ${state.plan!.samples}`;
  row.querySelector('.steps')!.textContent = String(line.window);
  const next = line.window! < cells.length ? cells[line.window!] : line.epoch < state.plan!.epochs ? ledgerRow(line.epoch + 1).querySelector('.window') : null;
  if (state.phase === 'training') next?.classList.add('current');
  const plan = state.plan!;
  state.samplesTimed += line.window_size ?? 0;
  const seconds = (performance.now() - state.started) / 1000 + state.secondsTimed;
  const rate = seconds > 0 ? state.samplesTimed / seconds : 0;
  const remainingSamples = (plan.totalSteps - line.step) * (plan.samples / Math.max(1, plan.windows.length));
  const eta = rate > 0 ? Math.round(remainingSamples / rate) : undefined;
  setStatus(
    `Epoch ${line.epoch}/${plan.epochs} · step ${line.step}/${plan.totalSteps} · loss ${line.loss === null ? '—' : line.loss.toFixed(4)} · ${rate.toFixed(1)} samples/s` + (eta !== undefined && line.step < plan.totalSteps ? ` · about ${eta} s left` : ''),
    line.step / plan.totalSteps,
  );
}

function onEpoch(summary: { epoch: number; samples_seen: number; steps: number; loss: number | null; skipped_steps: number }, line: string): void {
  const row = ledgerRow(summary.epoch);
  row.querySelector('.samples')!.textContent = `${summary.samples_seen} / ${state.plan!.samples}`;
  row.querySelector('.steps')!.textContent = String(summary.steps);
  row.querySelector('.loss')!.textContent = summary.loss === null ? '—' : summary.loss.toFixed(4);
  row.querySelector('.check')!.textContent = summary.samples_seen === state.plan!.samples ? '✓' : '';
  $('ledger-lines').textContent += `${line}\n`;
  log(line);
}

function percent(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

function showEvaluation(evaluation: ClassificationEvaluation, file: string): void {
  const summary = evaluation.summary;
  $('eval-source').textContent = `${file}: ${summary.samples} samples`;
  const metric = (value: string, what: string, id: string) => {
    const box = element('div', { className: 'metric' }, element('div', { className: 'value', text: value }), element('div', { className: 'what', text: what }));
    box.id = id;
    return box;
  };
  const metrics = element('div', { className: 'metrics' }, metric(percent(summary.accuracy), `accuracy (${summary.correct} of ${summary.samples})`, 'accuracy'), metric(summary.macro_f1.toFixed(4), 'macro-F1', 'macro-f1'), metric(summary.loss.toFixed(4), 'loss (cross-entropy)', 'eval-loss'));
  const scores = element('table', { className: 'scores' }, element('thead', {}, element('tr', {}, ...['label', 'precision', 'recall', 'F1', 'support'].map((name, index) => element('th', { className: index > 0 ? 'num' : '', text: name })))));
  const scoreBody = element('tbody');
  for (const label of summary.labels) {
    const entry = summary.per_label[label]!;
    scoreBody.append(element('tr', {}, element('th', { text: label }), ...[entry.precision.toFixed(3), entry.recall.toFixed(3), entry.f1.toFixed(3), String(entry.support)].map((text) => element('td', { className: 'num', text }))));
  }
  scores.append(scoreBody);
  const confusion = element('table', { className: 'confusion' });
  confusion.id = 'confusion';
  confusion.append(element('thead', {}, element('tr', {}, element('th', { text: 'true ↓ / predicted →' }), ...summary.labels.map((label) => element('th', { text: label })))));
  const confusionBody = element('tbody');
  summary.confusion_matrix.forEach((counts, truth) => {
    const total = counts.reduce((sum, count) => sum + count, 0);
    const cells = counts.map((count, predicted) => {
      const share = total > 0 ? count / total : 0;
      const cell = element('td', { title: `true ${summary.labels[truth]}, predicted ${summary.labels[predicted]}: ${count}` }, String(count), element('small', { text: `${Math.round(share * 100)}%` }));
      const colour = predicted === truth ? '37, 99, 235' : '220, 38, 38';
      cell.style.background = `rgba(${colour}, ${(0.08 + share * 0.8).toFixed(3)})`;
      if (share > 0.55) cell.style.color = '#fff';
      return cell;
    });
    confusionBody.append(element('tr', {}, element('th', { text: summary.labels[truth]! }), ...cells));
  });
  confusion.append(confusionBody);
  $('evaluation').replaceChildren(metrics, element('div', { className: 'eval-tables' }, element('div', {}, element('h3', { text: 'Per label' }), scores), element('div', {}, element('h3', { text: 'Confusion matrix' }), confusion)));
  $('evaluation-card').hidden = false;
}

function showVerdict(summary: RunSummary): void {
  const verdict = ledgerVerdict(ledgerRows({ summary, metrics: state.metrics }), summary.samples);
  const box = $('verdict');
  box.className = `verdict ${verdict.level}`;
  box.replaceChildren(element('strong', { text: verdict.title }), ...verdict.details.map((detail) => element('div', { text: detail })));
  box.hidden = false;
}

function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const anchor = element('a');
  anchor.href = url;
  anchor.download = name;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The run's report.html, as `microbatch train` writes it, made in the page. */
async function downloadReport(): Promise<void> {
  const [uplotJs, uplotCss] = await Promise.all(['/vendor/uPlot.iife.min.js', '/vendor/uPlot.min.css'].map(async (url) => (await fetch(url)).text()));
  // As src/node/report.ts does: the report contains no URL at all, not even in uPlot's banner.
  const assets = { uplotJs: uplotJs!.replace(/^\/\*![\s\S]*?\*\//, (banner) => banner.replace(/https?:\/\//g, '')), uplotCss: uplotCss! };
  const summary: RunSummary = state.summary ?? { samples: state.plan!.samples, epochs: [], stopped_early: true };
  const html = renderReport({ summary, metrics: state.metrics, settings: summary.settings ?? {}, finishedAt: new Date().toISOString() }, assets);
  download('report.html', new Blob([html], { type: 'text/html' }));
}

// ---------------------------------------------------------------------------------------------
// Worker messages

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'backend':
      state.backend = message.backend;
      void showEnvironment(message.backend);
      if (state.phase === 'loading') state.phase = 'idle';
      setStatus('Ready: press Train.');
      updateControls();
      break;
    case 'log':
      log(message.line);
      break;
    case 'started':
      beginRun(message.plan, readSettings());
      setStatus(`Training ${message.plan.samples} samples: ${message.plan.totalSteps} optimizer steps…`, 0);
      break;
    case 'step':
      onStep(message.metrics);
      break;
    case 'epoch':
      onEpoch(message.summary, message.line);
      break;
    case 'stopped':
      state.phase = 'stopped';
      state.secondsTimed += (performance.now() - state.started) / 1000;
      $('resume').focus();
      setStatus(`Stopped after step ${message.globalStep} of ${state.plan!.totalSteps} (epoch ${message.epoch + 1}, next window ${message.nextWindow + 1}): Resume continues exactly there.`);
      document.querySelectorAll('.window.current').forEach((cell) => cell.classList.remove('current'));
      updateControls();
      break;
    case 'evaluating':
      state.phase = 'evaluating';
      setStatus(`Evaluating on ${message.samples} samples…`, 1);
      updateControls();
      break;
    case 'done': {
      state.phase = 'done';
      state.summary = message.summary;
      const samplesPerSecond = message.summary.epochs.reduce((sum, epoch) => sum + epoch.samples_seen, 0) / Math.max(message.trainSeconds, 1e-9);
      setStatus(`Done: ${message.summary.epochs.length} epoch${message.summary.epochs.length === 1 ? '' : 's'} in ${message.trainSeconds.toFixed(1)} s of training (${samplesPerSecond.toFixed(1)} samples/s)` + (message.evaluation !== undefined ? ` · accuracy ${percent(message.evaluation.summary.accuracy)}` : ''), 1);
      $('status').dataset.trainSeconds = String(message.trainSeconds);
      showVerdict(message.summary);
      if (message.evaluation !== undefined) {
        showEvaluation(message.evaluation, message.summary.eval?.file ?? '');
        log(`eval: ${message.evalLine}`);
      }
      updateControls();
      break;
    }
    case 'checkpoint':
      download(message.name, new Blob([message.zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
      break;
    case 'prediction': {
      const rows = message.labels.map((label, index) => {
        const probability = message.probabilities[index]!;
        const bar = element('div', { className: 'bar' }, element('div'));
        (bar.firstChild as HTMLElement).style.width = `${(probability * 100).toFixed(1)}%`;
        return element('div', { className: 'bar-row' }, element('span', { text: label }), bar, element('span', { className: 'num', text: probability.toFixed(4) }));
      });
      const result = $('prediction');
      result.dataset.probabilities = JSON.stringify(message.probabilities);
      result.replaceChildren(element('div', {}, 'Predicted ', element('strong', { text: message.label })), ...rows);
      break;
    }
    case 'error':
      if (state.phase !== 'loading') state.phase = state.plan !== undefined && state.phase === 'stopped' ? 'stopped' : 'idle';
      showError(message.error);
      setStatus('Stopped by an error: see the message above.');
      updateControls();
      break;
  }
};
worker.onerror = (event) => {
  showError({ message: `the training worker failed: ${event.message}`, name: 'Error' });
};

// ---------------------------------------------------------------------------------------------
// Controls

$('train').addEventListener('click', () => {
  hideError();
  const settings = readSettings();
  state.phase = 'training';
  $('log').textContent = '';
  updateControls();
  setStatus('Reading the model and data…', 0);
  send({ type: 'start', model: state.model!, train: state.train!, ...(state.eval !== undefined ? { eval: state.eval } : {}), settings });
});
$('stop').addEventListener('click', () => {
  state.phase = 'stopping';
  send({ type: 'stop' });
  setStatus(`${$('status').textContent ?? ''} · stopping after this step…`);
  updateControls();
});
$('resume').addEventListener('click', () => {
  hideError();
  state.phase = 'training';
  state.started = performance.now();
  send({ type: 'resume' });
  setStatus('Resuming…');
  updateControls();
});
$('download-checkpoint').addEventListener('click', () => send({ type: 'checkpoint' }));
$('download-report').addEventListener('click', () => void downloadReport());
$('predict-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $<HTMLInputElement>('predict-text').value;
  if (text.trim() !== '') send({ type: 'predict', text });
});

$('model-input').addEventListener('change', (event) => {
  const input = event.target as HTMLInputElement;
  const files = [...(input.files ?? [])];
  void useModelFiles(files, files.map((file) => file.webkitRelativePath || file.name));
  input.value = '';
});
$('model-default').addEventListener('click', () => void useBundledModel());
$('data-input').addEventListener('change', async (event) => {
  const input = event.target as HTMLInputElement;
  const file = input.files?.[0];
  if (file === undefined) return;
  state.train = await readDataFile(file);
  input.value = '';
  fillFieldPickers();
  checkData();
});
$('eval-input').addEventListener('change', async (event) => {
  const input = event.target as HTMLInputElement;
  const file = input.files?.[0];
  if (file === undefined) return;
  state.eval = await readDataFile(file);
  input.value = '';
  checkData();
});
$('eval-clear').addEventListener('click', () => {
  delete state.eval;
  checkData();
});
for (const id of ['text-field', 'label-field']) $(id).addEventListener('change', () => checkData());
$('settings').addEventListener('input', () => {
  hideError();
  checkData();
});

// Drag and drop: a folder onto the model card, a file onto the data card.
async function entryFiles(entry: FileSystemEntry, prefix: string): Promise<{ file: File; path: string }[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [{ file, path: `${prefix}${entry.name}` }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const entries: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    entries.push(...batch);
  }
  // One level: a checkpoint's files are at its top.
  if (prefix.split('/').length > 2) return [];
  return (await Promise.all(entries.map((child) => entryFiles(child, `${prefix}${entry.name}/`)))).flat();
}

function dropZone(card: HTMLElement, onDrop: (transfer: DataTransfer) => Promise<void>): void {
  card.addEventListener('dragover', (event) => {
    event.preventDefault();
    card.classList.add('dragging');
  });
  card.addEventListener('dragleave', () => card.classList.remove('dragging'));
  card.addEventListener('drop', (event) => {
    event.preventDefault();
    card.classList.remove('dragging');
    if (state.phase === 'training' || state.phase === 'stopping' || state.phase === 'evaluating') return;
    if (event.dataTransfer !== null) void onDrop(event.dataTransfer);
  });
}

dropZone($('model-card'), async (transfer) => {
  const entry = [...transfer.items].map((item) => item.webkitGetAsEntry()).find((candidate) => candidate?.isDirectory);
  if (entry === undefined || entry === null) {
    showError({ message: 'drop a model folder here (a directory with config.json), not single files', name: 'DataError' });
    return;
  }
  const found = await entryFiles(entry, '');
  await useModelFiles(found.map(({ file }) => file), found.map(({ path }) => path));
});
dropZone($('data-card'), async (transfer) => {
  const file = transfer.files[0];
  if (file === undefined) return;
  state.train = await readDataFile(file);
  fillFieldPickers();
  checkData();
});

// ---------------------------------------------------------------------------------------------
// Start: the bundled default, preselected

async function loadBundled(): Promise<void> {
  fillSettings();
  const bundled = (await (await fetch('/bundled.json')).json()) as Bundled;
  state.bundled = bundled;
  const [train, evalData] = await Promise.all([bundled.train, bundled.eval].map(async ({ file, url }) => ({ file, content: await (await fetch(url)).text() })));
  state.train = train;
  state.eval = evalData;
  await useBundledModel();
  fillFieldPickers();
  checkData();
}

loadBundled().catch((error: unknown) => showError({ message: `cannot load the bundled default: ${(error as Error).message}`, name: 'Error' }));
updateControls();
