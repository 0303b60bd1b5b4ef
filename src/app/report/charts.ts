/**
 * The per-step charts of a run (loss with its epoch means, learning rate, gradient norm, loss
 * scale), drawn with uPlot. One module for two pages: the static report builds them from all
 * of metrics.jsonl at once, a live training page calls `addStep` after every optimizer step.
 *
 * uPlot is passed in rather than imported, so that this file has no runtime import at all:
 * the report inlines it as a self-contained script next to uPlot's own IIFE build (see
 * scripts/bundle-report-charts.mjs), and a bundled page passes `import uPlot from 'uplot'`.
 * Epoch boundaries and skipped steps are marks drawn on uPlot's canvas in its draw hook.
 */
import type uPlot from 'uplot';
import type { MetricsLine } from './types.js';

export interface RunChartsOptions {
  /** The uPlot constructor: the global `uPlot` of its IIFE build, or `import uPlot from 'uplot'`. */
  uPlot: typeof uPlot;
  /** Steps already made. */
  metrics?: readonly MetricsLine[];
  /** Steps the run will make: fixes the step axis so that a live chart fills from left to right. */
  totalSteps?: number;
  /** The run's --clip-norm, drawn as a threshold on the gradient-norm chart (0 or absent: none). */
  clipNorm?: number;
}

export interface RunCharts {
  /** Appends one optimizer step (a metrics.jsonl line) and redraws. Steps must increase. */
  addStep(line: MetricsLine): void;
  /** Steps shown. */
  readonly steps: number;
  /** The uPlot instances, loss chart first (the loss-scale chart appears once the scale changes). */
  readonly plots: readonly uPlot[];
  /** Refits every chart to its panel's width (also done automatically on resize). */
  resize(): void;
  destroy(): void;
}

/** Styles of the chart panels; a page that shows the charts includes them next to uPlot's CSS. */
export const RUN_CHARTS_CSS = `
.mbc-grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; }
.mbc-panel { margin: 0; min-width: 0; padding: 14px 14px 6px; background: #fff; border: 1px solid #e2e8f0; border-radius: 10px; }
.mbc-wide { grid-column: 1 / -1; }
.mbc-panel figcaption { display: flex; justify-content: space-between; align-items: baseline; gap: 12px; margin: 0 0 6px; font-size: 14px; font-weight: 600; color: #0f172a; }
.mbc-panel figcaption small { font-size: 12px; font-weight: 400; color: #64748b; }
.mbc-plot { width: 100%; min-height: 40px; }
.mbc-plot .uplot { width: 100%; font-family: inherit; }
.mbc-plot .u-legend { font-size: 12px; color: #334155; }
.mbc-plot .u-legend .u-marker { width: 0.9em; height: 0.9em; border-radius: 2px; }
@media (max-width: 760px) { .mbc-grid { grid-template-columns: minmax(0, 1fr); } }
`;

const COLORS = {
  loss: '#2563eb',
  epochMean: '#ea580c',
  lr: '#059669',
  gradNorm: '#7c3aed',
  lossScale: '#475569',
  boundary: 'rgba(71, 85, 105, 0.55)',
  boundaryText: '#475569',
  skipped: 'rgba(220, 38, 38, 0.14)',
  skippedText: '#b91c1c',
  retried: 'rgba(217, 119, 6, 0.16)',
  clip: 'rgba(124, 58, 237, 0.6)',
  axis: '#475569',
  grid: 'rgba(148, 163, 184, 0.25)',
};

const SUPERSCRIPT_DIGITS = '⁰¹²³⁴⁵⁶⁷⁸⁹';
const superscript = (exponent: number) => String(exponent).replace(/\d/g, (digit) => SUPERSCRIPT_DIGITS[Number(digit)]!);

/**
 * y ranges with room above the data for the epoch labels, and no negative values for a series
 * that has none (learning rates, norms).
 */
function headroom(_: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min == null || max == null) return [0, 1];
  const span = max - min || Math.abs(max) || 1;
  const low = min - span * 0.06;
  return [min >= 0 ? Math.max(0, low) : low, max + span * 0.2];
}

/** Tick spacings of the step axis: whole steps only. */
const STEP_INCREMENTS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000];

let instances = 0;

/** Builds the charts inside `container` (emptied first) and returns the handle that updates them. */
export function createRunCharts(container: HTMLElement, options: RunChartsOptions): RunCharts {
  const UPlot = options.uPlot;
  const syncKey = `microbatch-run-${++instances}`;
  const pxRatio = () => UPlot.pxRatio || 1;

  // Column data shared by every chart (uPlot's AlignedData: x first).
  const steps: number[] = [];
  const loss: (number | null)[] = [];
  const epochMean: (number | null)[] = [];
  const lr: (number | null)[] = [];
  const gradNorm: (number | null)[] = [];
  const lossScale: (number | null)[] = [];
  const epochOf: number[] = [];
  const skippedSteps: number[] = [];
  const retriedSteps: number[] = [];
  const epochTotals = new Map<number, { lossTotal: number; items: number; indices: number[] }>();

  const format = {
    step: (value: number | null) => (value == null ? '—' : String(value)),
    latestStep: (value: number | null) => (value == null ? '—' : `${value} (latest)`),
    loss: (value: number | null) => (value == null ? '—' : value.toFixed(4)),
    lr: (value: number | null) => (value == null ? '—' : value === 0 ? '0' : value.toExponential(2)),
    norm: (value: number | null) => (value == null ? '—' : value >= 100 ? value.toFixed(1) : value.toPrecision(3)),
    scale: (value: number | null) => (value == null ? '—' : value >= 1024 && Number.isInteger(Math.log2(value)) ? `2${superscript(Math.log2(value))}` : String(value)),
  };
  const axisValues = (formatOne: (value: number) => string) => (_: uPlot, splits: number[]) => splits.map((value) => (value == null ? '' : formatOne(value)));
  const shortLr = (value: number) => (value === 0 ? '0' : Math.abs(value) >= 0.01 ? String(Number(value.toPrecision(3))) : value.toExponential(1).replace('e-', 'e−'));

  /** Skipped and retried steps: bands under the series (drawn after the grid, before the lines). */
  const drawBands = (plot: uPlot) => {
    const { ctx } = plot;
    const { left, top, width, height } = plot.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    const band = (step: number, color: string) => {
      const from = plot.valToPos(step - 0.5, 'x', true);
      ctx.fillStyle = color;
      ctx.fillRect(from, top, plot.valToPos(step + 0.5, 'x', true) - from, height);
    };
    for (const step of retriedSteps) band(step, COLORS.retried);
    for (const step of skippedSteps) band(step, COLORS.skipped);
    ctx.restore();
  };

  /**
   * Epoch boundaries: dashed lines between the last step of an epoch and the first of the next,
   * labelled "epoch N" — or "N", or every k-th epoch, when the epochs are too narrow for that.
   * The y scales leave headroom above the data for the labels (see `headroom`).
   */
  const drawEpochs = (plot: uPlot) => {
    const { ctx } = plot;
    const { left, top, width, height } = plot.bbox;
    const ratio = pxRatio();
    const starts: { x: number; epoch: number }[] = [];
    for (let index = 0; index < steps.length; index++) {
      if (index === 0 || epochOf[index] !== epochOf[index - 1]) starts.push({ x: plot.valToPos(steps[index]! - 0.5, 'x', true), epoch: epochOf[index]! });
    }
    if (starts.length === 0) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.font = `${11 * ratio}px system-ui, sans-serif`;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.setLineDash([4 * ratio, 4 * ratio]);
    ctx.lineWidth = ratio;
    ctx.strokeStyle = COLORS.boundary;
    ctx.fillStyle = COLORS.boundaryText;
    const gaps = starts.slice(1).map((start, index) => start.x - starts[index]!.x);
    const narrowest = gaps.length > 0 ? Math.min(...gaps) : width;
    const lastEpoch = starts[starts.length - 1]!.epoch;
    const padding = 10 * ratio;
    const long = ctx.measureText(`epoch ${lastEpoch}`).width + padding <= narrowest;
    const label = (epoch: number) => (long ? `epoch ${epoch}` : String(epoch));
    const every = long ? 1 : Math.max(1, Math.ceil((ctx.measureText(String(lastEpoch)).width + padding) / Math.max(narrowest, 1)));
    starts.forEach(({ x, epoch }, index) => {
      if (index > 0 && narrowest >= 3 * ratio) {
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
      }
      if (index % every === 0) ctx.fillText(label(epoch), Math.max(x, left) + 4 * ratio, top + 4 * ratio);
    });
    ctx.restore();
  };

  const drawClip = (plot: uPlot) => {
    const clip = options.clipNorm;
    if (!clip) return;
    const { min, max } = plot.scales.y!;
    if (min == null || max == null || clip < min || clip > max) return;
    const { ctx } = plot;
    const { left, width } = plot.bbox;
    const ratio = pxRatio();
    const y = plot.valToPos(clip, 'y', true);
    ctx.save();
    ctx.setLineDash([6 * ratio, 4 * ratio]);
    ctx.lineWidth = ratio;
    ctx.strokeStyle = COLORS.clip;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
    ctx.font = `${11 * ratio}px system-ui, sans-serif`;
    ctx.fillStyle = COLORS.clip;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'bottom';
    ctx.fillText(`clip ${clip}`, left + width - 4 * ratio, y - 2 * ratio);
    ctx.restore();
  };

  const push = (entry: MetricsLine) => {
    const previous = steps[steps.length - 1];
    if (previous !== undefined && entry.step <= previous) throw new RangeError(`step ${entry.step} does not follow step ${previous}`);
    const index = steps.length;
    steps.push(entry.step);
    epochOf.push(entry.epoch);
    loss.push(entry.loss);
    lr.push(entry.lr ?? null);
    gradNorm.push(entry.grad_norm ?? null);
    lossScale.push(entry.loss_scale ?? null);
    epochMean.push(null);
    if (entry.skipped) skippedSteps.push(entry.step);
    else if ((entry.retries ?? 0) > 0) retriedSteps.push(entry.step);
    // The epoch-mean line: Σ loss·items / Σ items over the epoch's applied steps so far (its final
    // value is the ledger's epoch loss).
    const totals = epochTotals.get(entry.epoch) ?? { lossTotal: 0, items: 0, indices: [] };
    totals.indices.push(index);
    if (!entry.skipped && entry.loss !== null) {
      const weight = entry.items ?? entry.window_size ?? 1;
      totals.lossTotal += entry.loss * weight;
      totals.items += weight;
    }
    epochTotals.set(entry.epoch, totals);
    const mean = totals.items > 0 ? totals.lossTotal / totals.items : null;
    for (const at of totals.indices) epochMean[at] = mean;
  };

  for (const entry of options.metrics ?? []) push(entry);

  /**
   * The step axis: the data's extent padded by half a step (a step is a slot, not a point), up to
   * `totalSteps`. uPlot also passes zoom selections through here: those are returned as they are,
   * so that zooming, and the zoom synchronisation between the charts, is stable.
   */
  const xRange = (_: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax => {
    const first = steps[0];
    const last = steps[steps.length - 1];
    if (min == null || max == null || first === undefined || last === undefined) return [0.5, Math.max(options.totalSteps ?? 1, 1) + 0.5];
    if (min !== first || max !== last) return [min, max];
    return [Math.min(first, 1) - 0.5, Math.max(last, options.totalSteps ?? 0) + 0.5];
  };

  const axisStyle = { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid, width: 1, size: 4 }, font: '11px system-ui, sans-serif' };

  const grid = document.createElement('div');
  grid.className = 'mbc-grid';
  container.replaceChildren(grid);

  interface Panel {
    plot: uPlot;
    element: HTMLElement;
    height: number;
    columns: () => uPlot.AlignedData;
  }
  const panels: Panel[] = [];

  // Zooming one chart (drag across it; double-click resets) zooms them all to the same steps.
  let zooming = false;
  const syncZoom = (plot: uPlot, scaleKey: string) => {
    const { min, max } = plot.scales.x!;
    if (scaleKey !== 'x' || zooming || min == null || max == null) return;
    zooming = true;
    for (const panel of panels) if (panel.plot !== plot && (panel.plot.scales.x!.min !== min || panel.plot.scales.x!.max !== max)) panel.plot.setScale('x', { min, max });
    zooming = false;
  };

  const panelWidth = (element: HTMLElement) => Math.max(240, Math.floor(element.clientWidth || container.clientWidth || 640));

  function addPanel(title: string, note: string, wide: boolean, height: number, series: uPlot.Series[], columns: () => uPlot.AlignedData, extra: Partial<uPlot.Options> = {}): Panel {
    const figure = document.createElement('figure');
    figure.className = wide ? 'mbc-panel mbc-wide' : 'mbc-panel';
    const caption = document.createElement('figcaption');
    caption.append(title);
    const small = document.createElement('small');
    small.textContent = note;
    caption.append(small);
    const element = document.createElement('div');
    element.className = 'mbc-plot';
    figure.append(caption, element);
    grid.append(figure);
    const { scales: extraScales, axes: extraAxes, hooks: extraHooks, ...rest } = extra;
    const plot = new UPlot(
      {
        width: panelWidth(element),
        height,
        cursor: { sync: { key: syncKey }, drag: { x: true, y: false }, points: { size: 7 } },
        scales: { x: { time: false, range: xRange }, y: { range: headroom }, ...extraScales },
        axes: [{ ...axisStyle, label: 'optimizer step', labelSize: 22, labelFont: '11px system-ui, sans-serif', size: 34, incrs: STEP_INCREMENTS, values: axisValues(String) }, { ...axisStyle, size: 58, ...extraAxes?.[1] }],
        legend: { live: true },
        series: [{ label: 'step', value: (plot: uPlot, value: number | null, _: number, index: number | null) => (index == null ? format.latestStep(latest(plot.data[0])) : format.step(value)) }, ...series],
        hooks: { ...extraHooks, drawAxes: [drawBands], draw: [drawEpochs, ...(extraHooks?.draw ?? [])], setScale: [syncZoom] },
        ...rest,
      },
      columns(),
      element,
    );
    const panel = { plot, element, height, columns };
    panels.push(panel);
    return panel;
  }

  /** The last non-null value of a column: what a legend shows while the cursor is off the chart. */
  const latest = (column: ArrayLike<number | null | undefined>) => {
    for (let index = column.length - 1; index >= 0; index--) if (column[index] != null) return column[index]!;
    return null;
  };
  const line = (label: string, stroke: string, value: (value: number | null) => string, more: Partial<uPlot.Series> = {}): uPlot.Series => ({
    label,
    stroke,
    width: 1.6,
    spanGaps: false,
    value: (plot: uPlot, raw: number | null, seriesIndex: number, index: number | null) => value(index == null ? latest(plot.data[seriesIndex] ?? []) : raw),
    points: { size: 5, fill: stroke },
    ...more,
  });

  addPanel(
    'Loss',
    'per step, and item-weighted mean of each epoch',
    true,
    260,
    [line('loss', COLORS.loss, format.loss), line('epoch mean', COLORS.epochMean, format.loss, { width: 2.2, dash: [8, 4], points: { show: false } })],
    () => [steps, loss, epochMean] as uPlot.AlignedData,
    { axes: [{}, { values: axisValues((value) => String(Number(value.toPrecision(3)))) }] },
  );
  addPanel('Learning rate', 'used by each step', false, 200, [line('lr', COLORS.lr, format.lr)], () => [steps, lr] as uPlot.AlignedData, {
    axes: [{}, { values: axisValues(shortLr), size: 64 }],
  });
  addPanel(
    'Gradient norm',
    'global L2, before clipping',
    false,
    200,
    [line('grad norm', COLORS.gradNorm, format.norm)],
    () => [steps, gradNorm] as uPlot.AlignedData,
    { hooks: { draw: [drawClip] }, axes: [{}, { values: axisValues((value) => String(Number(value.toPrecision(3)))) }] },
  );

  let scalePanel: Panel | undefined;
  const scaleChanged = () => lossScale.some((value) => value != null && value !== lossScale.find((first) => first != null));
  const ensureScalePanel = () => {
    if (scalePanel !== undefined || !scaleChanged()) return;
    scalePanel = addPanel(
      'Loss scale',
      'dynamic loss scaling; halves on overflow',
      true,
      170,
      [line('loss scale', COLORS.lossScale, format.scale, { paths: UPlot.paths.stepped!({ align: 1 }) })],
      () => [steps, lossScale] as uPlot.AlignedData,
      { scales: { y: { distr: 3, log: 2 } }, axes: [{}, { values: axisValues((value) => format.scale(value)) }] },
    );
  };

  ensureScalePanel();

  const resize = () => {
    for (const panel of panels) {
      const width = panelWidth(panel.element);
      if (width !== panel.plot.width) panel.plot.setSize({ width, height: panel.height });
    }
  };
  const observer = typeof ResizeObserver === 'function' ? new ResizeObserver(() => resize()) : undefined;
  observer?.observe(container);

  return {
    addStep(entry: MetricsLine) {
      push(entry);
      ensureScalePanel();
      for (const panel of panels) panel.plot.setData(panel.columns());
    },
    get steps() {
      return steps.length;
    },
    get plots() {
      return panels.map((panel) => panel.plot);
    },
    resize,
    destroy() {
      observer?.disconnect();
      for (const panel of panels) panel.plot.destroy();
      panels.length = 0;
      container.replaceChildren();
    },
  };
}
