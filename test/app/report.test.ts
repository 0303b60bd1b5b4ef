/**
 * renderReport: the ledger, the evaluation, escaping, self-containment and partial runs, on
 * the hand-written fixture run; the input checks (file, line, field); and the build pieces
 * (the inlined chart bundle is up to date, the module bundles for a browser).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import test from 'node:test';
import { build } from 'esbuild';
import { DataError } from '../../src/core/errors.js';
import {
  ledgerRows,
  ledgerVerdict,
  parseMetrics,
  parseSummary,
  renderReport,
  validateRunRecord,
  type MetricsLine,
  type ReportAssets,
  type RunRecord,
} from '../../src/app/report/index.js';
import { loadReportAssets } from '../../src/node/report.js';
import { fixtureRecord, fixtureText, REPO_ROOT, tableRows, visibleText } from './report-fixture.js';

const assetsPromise: Promise<ReportAssets> = loadReportAssets();

/** The elements the report's own markup uses. */
const REPORT_TAGS = new Set(
  'html head meta title style body main header footer nav section div span p a h1 h2 h3 strong small code pre ul li dl dt dd table thead tbody tfoot tr th td i details summary noscript script'.split(' '),
);

async function render(run: RunRecord): Promise<string> {
  return renderReport(run, await assetsPromise);
}

function throwsDataError(action: () => unknown, expected: { file: string; line?: number; field?: string; detail?: RegExp }): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
    assert.equal(error.file, expected.file);
    assert.equal(error.line, expected.line);
    assert.equal(error.field, expected.field);
    if (expected.detail) assert.match(error.detail, expected.detail);
    return true;
  });
}

test('the ledger shows every epoch: windows, samples trained / N, steps, skipped and dropped samples, epoch loss', async () => {
  const html = await render(fixtureRecord());
  assert.deepEqual(tableRows(html, 'ledger'), [
    ['Epoch 1', '32 , 32 , 32 , 14', '110 / 110', '4', '0', '0', '1.0599', '✓'],
    ['Epoch 2', '32 , 32 , 32 , 14', '78 / 110', '3', '1 (32 samples)', '0', '0.8853', '✓'],
    ['Epoch 3', '32 , 32 , 32 , 14', '110 / 110', '4', '0', '0', '0.6964', '✓'],
  ]);
  // The skipped window is marked as such, in the sizes and in the strip of samples.
  assert.match(html, /<span class="skipped" title="window 2: skipped">32<\/span>/);
  assert.equal((html.match(/<span class="skipped" style="flex-grow: 32"/g) ?? []).length, 1);
  const text = visibleText(html);
  assert.match(text, /All 110 samples accounted for in each of the 3 finished epochs, but not all were trained\./);
  assert.match(text, /Epoch 2: 1 step skipped \(32 samples not trained\)/);
  assert.match(text, /Samples counted 110 \/ 110 32 skipped, not trained/);
  // What ran, from the settings: the command that reproduces them, and the headline facts.
  assert.match(text, /\$ microbatch train --data data\/reviews\/train\.jsonl --model models\/bert-mini --eval data\/reviews\/test\.jsonl --out runs\/reviews --micro-batch 8 --batch 32 --epochs 3 --lr 5e-5 /);
  assert.match(text, /--loss-scale dynamic --on-overflow skip/);
  assert.match(text, /Batch micro-batch 8 · batch 32 \(4 micro-batches per step\)/);
  assert.match(text, /Optimizer adamw · lr 5e-5 · weight decay 0\.01/);
  assert.match(text, /Finished 2025-03-14 09:26 UTC/);
  assert.match(text, /Training time 6\.20 s/);
  assert.match(html, /<h1>bert-mini on train\.jsonl<\/h1>/);
});

test('a clean run says every sample was counted; drop and broken counts say otherwise', () => {
  const clean = fixtureRecord();
  clean.summary!.epochs[1] = { ...clean.summary!.epochs[1]!, samples_seen: 110, steps: 4, skipped_steps: 0, skipped_samples: 0 };
  clean.metrics = clean.metrics.map((line) => (line.step === 6 ? { ...line, skipped: false, loss: 0.9, grad_norm: 1.4 } : line));
  const verdict = ledgerVerdict(ledgerRows(clean), 110);
  assert.equal(verdict.level, 'ok');
  assert.equal(verdict.title, 'Every sample counted: all 110 samples trained exactly once in each of the 3 finished epochs.');

  const dropped: RunRecord = {
    summary: { samples: 110, epochs: [{ epoch: 1, samples_seen: 96, windows: [32, 32, 32], steps: 3, skipped_steps: 0, dropped_samples: 14, loss: 0.7 }] },
    metrics: [],
  };
  const dropVerdict = ledgerVerdict(ledgerRows(dropped), 110);
  assert.equal(dropVerdict.level, 'warn');
  assert.deepEqual(dropVerdict.details, ['Epoch 1: 14 samples dropped by --remainder drop.']);

  const broken: RunRecord = {
    summary: { samples: 110, epochs: [{ epoch: 1, samples_seen: 100, windows: [32, 32, 32, 14], steps: 4, skipped_steps: 0, dropped_samples: 0, skipped_samples: 0, loss: 0.7 }] },
    metrics: [],
  };
  assert.equal(ledgerVerdict(ledgerRows(broken), 110).level, 'error');
});

test('the evaluation: accuracy, macro-F1, per-label precision/recall/F1/support and a heat-coloured confusion matrix', async () => {
  const html = await render(fixtureRecord());
  const text = visibleText(html);
  assert.match(text, /Accuracy 80\.00% 48 of 60 correct/);
  assert.match(text, /Macro-F1 0\.793/);
  assert.deepEqual(tableRows(html, 'scores'), [
    ['negative', '0.809', '0.850', '0.829', '20'],
    ['neutral', '0.750', '0.667', '0.706', '18'],
    ['positive', '0.826', '0.864', '0.844', '22'],
  ]);
  assert.deepEqual(tableRows(html, 'confusion'), [
    ['negative', '17 85%', '2 10%', '1 5%', '20'],
    ['neutral', '3 17%', '12 67%', '3 17%', '18'],
    ['positive', '1 5%', '2 9%', '19 86%', '22'],
  ]);
  // Diagonal cells blue, confusions red, darker with the share of the row.
  assert.match(html, /<td style="background: rgba\(37, 99, 235, 0\.783\); color: #fff" title="true negative, predicted negative: 17 \(85\.0% of negative\)">/);
  assert.match(html, /<td style="background: rgba\(220, 38, 38, 0\.250\); color: #0f172a" title="true neutral, predicted negative: 3 \(16\.7% of neutral\)">/);
  assert.doesNotMatch(html, /id="entities"/);
});

test('per_label as classificationReport writes it (a list) and token classification entities are shown', async () => {
  const run = fixtureRecord();
  const evaluation = run.summary!.eval!;
  evaluation.per_label = Object.entries(evaluation.per_label as Record<string, { precision: number; recall: number; f1: number; support: number }>).map(([label, scores]) => ({ label, ...scores }));
  run.summary!.task = 'token-classification';
  evaluation.entities = {
    per_type: { PER: { precision: 0.9, recall: 0.8, f1: 0.847, support: 40 }, LOC: { precision: 0.75, recall: 0.6, f1: 0.667, support: 10 } },
    micro: { precision: 0.87, recall: 0.76, f1: 0.811, support: 50 },
    macro: { precision: 0.825, recall: 0.7, f1: 0.757 },
  };
  const html = await render(run);
  assert.equal(tableRows(html, 'scores')[0]![0], 'negative');
  assert.match(html, /id="entities"/);
  const entities = /<div class="entities"[\s\S]*?<\/table>/.exec(html)![0];
  assert.deepEqual(tableRows(entities, 'scores'), [
    ['PER', '0.900', '0.800', '0.847', '40'],
    ['LOC', '0.750', '0.600', '0.667', '10'],
  ]);
  assert.match(visibleText(entities), /micro average 0\.870 0\.760 0\.811 50 macro average 0\.825 0\.700 0\.757 —/);
  assert.match(visibleText(html), /Entity micro-F1 0\.811/);
  assert.match(visibleText(html), /Task token classification/);
});

test('hostile labels, file names, settings and metrics fields are escaped: no markup, no script, no attribute gets through', async () => {
  const hostile = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', "</script><script>alert('3')</script>"];
  const run = fixtureRecord();
  run.summary!.labels = hostile;
  const evaluation = run.summary!.eval!;
  evaluation.labels = hostile;
  evaluation.per_label = Object.fromEntries(hostile.map((label, index) => [label, Object.values(evaluation.per_label!)[index]!]));
  evaluation.file = '"><svg onload=alert(4)>.jsonl';
  run.summary!.settings = { ...run.summary!.settings, data: "<iframe src='javascript:alert(5)'>", model: '</style><style>*{display:none}</style>', command: undefined };
  (run.metrics[0] as MetricsLine & { note?: string }).note = '</script><script>alert(6)</script>';
  const html = await render(run);

  // Exactly the page's own four scripts (uPlot, charts, the JSON data block, the boot script).
  assert.equal((html.match(/<script/gi) ?? []).length, 4);
  assert.equal((html.match(/<\/script/gi) ?? []).length, 4);
  assert.equal((html.match(/<style/gi) ?? []).length, 2);
  // Outside the scripts, every tag is one the report writes, and no attribute is an event handler.
  const markup = html.replace(/(<script\b[^>]*>)[\s\S]*?(<\/script>)/gi, '$1$2');
  const tags = [...markup.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[\w-]+(?:="[^"]*")?)*)\s*>/g)];
  assert.equal(tags.length, (markup.match(/<[a-zA-Z]/g) ?? []).length, 'every tag has well-formed, double-quoted attributes');
  assert.deepEqual(new Set(tags.map(([, name]) => name!.toLowerCase()).filter((name) => !REPORT_TAGS.has(name))), new Set());
  const attributes = tags.flatMap(([, , attrs]) => [...attrs!.matchAll(/\s+([\w-]+)(?:="[^"]*")?/g)].map((match) => match[1]!.toLowerCase()));
  assert.deepEqual(attributes.filter((name) => name.startsWith('on')), []);
  assert.doesNotMatch(html, /alert\(6\)/, 'unknown metrics fields are not copied into the page');
  // The text is still there, as text.
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;'));
  assert.ok(html.includes('&lt;/script&gt;&lt;script&gt;alert(&#39;3&#39;)&lt;/script&gt;'));
  assert.ok(html.includes('&quot;&gt;&lt;svg onload=alert(4)&gt;.jsonl'));
  const text = visibleText(html);
  for (const label of hostile) assert.ok(text.includes(label), label);
  assert.deepEqual(
    tableRows(html, 'confusion').map((row) => row[0]),
    hostile,
  );
});

test('the page is self-contained: no URL, no external script, stylesheet or image, and a CSP that forbids every fetch', async () => {
  const html = await render(fixtureRecord());
  assert.doesNotMatch(html, /https?:\/\//i);
  assert.doesNotMatch(html, /<script[^>]*\ssrc=/i);
  assert.doesNotMatch(html, /<link\b/i);
  assert.doesNotMatch(html, /\ssrc=/i);
  assert.doesNotMatch(html, /url\(/i);
  assert.doesNotMatch(html, /@import/i);
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  assert.ok(csp, 'a Content-Security-Policy meta element');
  assert.match(csp[1]!, /^default-src 'none'; script-src 'nonce-[0-9a-f]{32}';/);
  const nonce = /'nonce-([0-9a-f]{32})'/.exec(csp[1]!)![1]!;
  // Every executable script carries the nonce; the data block is JSON.
  for (const [tag] of html.matchAll(/<script[^>]*>/g)) assert.ok(tag === `<script nonce="${nonce}">` || tag === '<script type="application/json" id="run-data">', tag);
  // A second rendering gets a new nonce.
  assert.notEqual(/'nonce-([0-9a-f]{32})'/.exec(await render(fixtureRecord()))![1], nonce);
});

test('partial runs: stopped without eval, a single step, no metrics, no summary', async () => {
  // Stopped early after 9 steps: the summary has two epochs, metrics.jsonl one step of the third.
  const stopped = fixtureRecord();
  stopped.summary!.epochs = stopped.summary!.epochs.slice(0, 2);
  stopped.summary!.stopped_early = true;
  delete stopped.summary!.eval;
  stopped.metrics = stopped.metrics.slice(0, 9);
  let html = await render(stopped);
  let text = visibleText(html);
  assert.match(html, /<span class="badge warn" id="run-status">Stopped early<\/span>/);
  assert.match(text, /No evaluation: the run stopped before its evaluation\./);
  assert.deepEqual(tableRows(html, 'ledger')[2], ['Epoch 3 (unfinished)', '32 , +3 to go', '32 / 110', '1', '0', '—', '0.7535', '…']);
  assert.match(text, /Epoch 3 stopped after 1 of 4 windows \(32 samples trained so far\)\./);
  assert.match(text, /Epochs 2 \/ 3/);

  // One step, no summary.json (a run stopped at once): nothing finished, still a page with its chart.
  const single: RunRecord = { metrics: parseMetrics(fixtureText('metrics.jsonl')).metrics.slice(0, 1) };
  html = await render(single);
  text = visibleText(html);
  assert.match(text, /No summary\.json: the run was stopped \(or is still running\)\. The ledger below is rebuilt from metrics\.jsonl\./);
  assert.match(text, /No epoch finished yet\./);
  assert.deepEqual(tableRows(html, 'ledger'), [['Epoch 1 (unfinished)', '32 , +3 to go', '32', '1', '0', '—', '1.0986', '…']]);
  assert.match(html, /<div id="run-charts"><\/div>/);

  // A skipped step with a null loss as the only step of an epoch: no epoch loss, no crash.
  const skippedOnly: RunRecord = { metrics: [{ step: 1, epoch: 1, window: 1, windows: 2, window_size: 8, loss: null, grad_norm: null, skipped: true }] };
  assert.deepEqual(tableRows(await render(skippedOnly), 'ledger'), [['Epoch 1 (unfinished)', '8 , +1 to go', '0', '0', '1 (8 samples)', '—', '—', '…']]);

  // No metrics.jsonl: the ledger from summary.json, no charts and no script at all.
  const noMetrics = fixtureRecord();
  noMetrics.metrics = [];
  html = await render(noMetrics);
  assert.equal(tableRows(html, 'ledger').length, 3);
  assert.match(visibleText(html), /No per-step metrics \(metrics\.jsonl is missing or empty\), so there is nothing to chart\./);
  assert.doesNotMatch(html, /<script/i);
  // Without metrics, which window was skipped is unknown: the strip says so rather than guessing.
  assert.match(html, /<span class="unknown" style="flex-grow: 32"/);

  // Nothing at all.
  assert.match(visibleText(await render({ metrics: [] })), /No optimizer step was recorded\./);
});

test('metrics.jsonl: a bad line is a DataError naming the file, the line and the field', () => {
  const lines = fixtureText('metrics.jsonl').split('\n');
  const withLine = (index: number, text: string) => lines.map((line, at) => (at === index ? text : line)).join('\n');
  throwsDataError(() => parseMetrics(withLine(4, lines[4]!.replace('"loss":0.9412', '"loss":"abc"')), 'runs/x/metrics.jsonl'), {
    file: 'runs/x/metrics.jsonl',
    line: 5,
    field: 'loss',
    detail: /^expected a number or null, got "abc"$/,
  });
  assert.throws(() => parseMetrics(withLine(4, lines[4]!.replace('"loss":0.9412', '"loss":"abc"')), 'runs/x/metrics.jsonl'), {
    message: 'runs/x/metrics.jsonl, line 5, field "loss": expected a number or null, got "abc"',
  });
  throwsDataError(() => parseMetrics(withLine(1, '{"step": 2, "epoch": 1,')), { file: 'metrics.jsonl', line: 2, detail: /^not valid JSON: / });
  throwsDataError(() => parseMetrics(withLine(2, lines[2]!.replace('"step":3', '"step":0'))), { file: 'metrics.jsonl', line: 3, field: 'step', detail: /integer ≥ 1/ });
  throwsDataError(() => parseMetrics(withLine(2, lines[2]!.replace('"step":3', '"step":2'))), { file: 'metrics.jsonl', line: 3, field: 'step', detail: /step 2 follows step 2/ });
  throwsDataError(() => parseMetrics(withLine(0, '[1, 2]')), { file: 'metrics.jsonl', line: 1, detail: /expected an object, got an array/ });
  throwsDataError(() => parseMetrics(withLine(3, lines[3]!.replace('"skipped":false', '"skipped":"no"'))), { file: 'metrics.jsonl', line: 4, field: 'skipped' });

  // A last line cut short (the run killed while appending it) is left out with a warning; blank lines are ignored.
  const truncated = parseMetrics(`${lines.slice(0, 3).join('\n')}\n\n{"step":4,"epoch":1,"wind`);
  assert.equal(truncated.metrics.length, 3);
  assert.deepEqual(truncated.warnings, ['metrics.jsonl, line 5: incomplete last line ignored (the run was probably stopped while writing it)']);
  // …but not in the middle of the file.
  throwsDataError(() => parseMetrics(`${lines[0]}\n{"step":2,"ep\n${lines[2]}\n`), { file: 'metrics.jsonl', line: 2, detail: /^not valid JSON/ });
});

test('summary.json: a bad field is named by its path, a syntax error by its line', () => {
  const summary = JSON.parse(fixtureText('summary.json')) as Record<string, unknown> & { epochs: Record<string, unknown>[]; eval: Record<string, unknown> };
  const withChange = (change: (copy: typeof summary) => void) => {
    const copy = structuredClone(summary);
    change(copy);
    return JSON.stringify(copy, null, 2);
  };
  throwsDataError(() => parseSummary(withChange((copy) => ((copy.epochs[1]!.windows as unknown[])[2] = 'x')), 'runs/x/summary.json'), {
    file: 'runs/x/summary.json',
    field: 'epochs[1].windows[2]',
    detail: /^expected an integer ≥ 0, got "x"$/,
  });
  throwsDataError(() => parseSummary(withChange((copy) => delete copy.samples)), { file: 'summary.json', field: 'samples', detail: /^missing/ });
  throwsDataError(() => parseSummary(withChange((copy) => (copy.epochs[0]!.loss = 'NaN'))), { file: 'summary.json', field: 'epochs[0].loss' });
  throwsDataError(() => parseSummary(withChange((copy) => (copy.eval.confusion_matrix = [[1, 2], [3, 4]]))), {
    file: 'summary.json',
    field: 'eval.confusion_matrix',
    detail: /expected 3 rows \(one per label\), got 2/,
  });
  throwsDataError(() => parseSummary(withChange((copy) => ((copy.eval.per_label as Record<string, Record<string, unknown>>).neutral!.recall = null))), {
    file: 'summary.json',
    field: 'eval.per_label.neutral.recall',
  });
  const text = fixtureText('summary.json');
  const broken = text.replace('"steps": 3,', '"steps": 3');
  const line = text.slice(0, text.indexOf('"steps": 3,')).split('\n').length + 1;
  throwsDataError(() => parseSummary(broken), { file: 'summary.json', line, detail: /^not valid JSON: / });
  // Fields the writer will add later, or unknown ones, do not break the report.
  const extended = parseSummary(withChange((copy) => Object.assign(copy, { future_field: { any: 1 }, stopped_early: false })));
  assert.equal(extended.stopped_early, false);
  assert.equal((extended as unknown as Record<string, unknown>).future_field, undefined);
});

test('renderReport checks its input like the files: a malformed record names the field', async () => {
  const assets = await assetsPromise;
  const run = fixtureRecord() as unknown as { metrics: Record<string, unknown>[] };
  run.metrics[3]!.lr = 'fast';
  throwsDataError(() => renderReport(run as unknown as RunRecord, assets), { file: 'metrics.jsonl', line: 4, field: 'lr' });
  throwsDataError(() => validateRunRecord({ summary: { samples: -1, epochs: [] }, metrics: [] }), { file: 'summary.json', field: 'samples' });
  assert.throws(() => renderReport(fixtureRecord(), { uplotJs: '', uplotCss: '' }), /uPlot's IIFE build/);
});

test('the inlined chart bundle is the current charts.ts (npm run build regenerates it)', () => {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'bundle-report-charts.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
});

test('src/app/report bundles for a browser: no node: import anywhere in its graph', async () => {
  const result = await build({
    entryPoints: [path.join(REPO_ROOT, 'src', 'app', 'report', 'index.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    logLevel: 'silent',
  });
  assert.equal(result.errors.length, 0);
  assert.doesNotMatch(result.outputFiles[0]!.text, /from\s*["']node:/);
});
