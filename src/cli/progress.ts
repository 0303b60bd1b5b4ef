import cliProgress from 'cli-progress';

/** What the training loop reports after every optimizer step. */
export interface StepReport {
  epoch: number; // 1-based
  epochs: number;
  window: number; // 1-based
  windows: number;
  globalStep: number; // 1-based, over the whole run
  totalSteps: number;
  // Steps and samples computed since this process started (a resumed run starts at 0).
  stepsThisProcess: number;
  samplesThisProcess: number;
  elapsedSeconds: number;
  loss: number | null;
  lr: number;
  skipped: boolean;
}

export interface ProgressReporter {
  step(report: StepReport): void;
  /** A line that must not be mangled by the bar (epoch ledger, notices). */
  line(text: string): void;
  stop(): void;
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function fields(report: StepReport) {
  const rate = report.elapsedSeconds > 0 ? report.samplesThisProcess / report.elapsedSeconds : 0;
  const secondsPerStep = report.elapsedSeconds / Math.max(1, report.stepsThisProcess);
  return {
    rate: rate.toFixed(1),
    loss: report.loss === null ? 'skipped' : report.loss.toFixed(4),
    lr: report.lr.toExponential(2),
    eta: formatEta(secondsPerStep * (report.totalSteps - report.globalStep)),
  };
}

/**
 * A live bar (samples/s, loss, lr, window i/K, ETA) when `stream` is a TTY, else one plain
 * line per optimizer step so logs and CI output stay readable.
 */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!stream.isTTY) {
    return {
      step(report) {
        const f = fields(report);
        stream.write(
          `epoch ${report.epoch}/${report.epochs} window ${report.window}/${report.windows} step ${report.globalStep}/${report.totalSteps} ` +
            `loss ${f.loss} lr ${f.lr} ${f.rate} samples/s eta ${f.eta}\n`,
        );
      },
      line(text) {
        stream.write(text + '\n');
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'epoch {epoch} window {window} |{bar}| step {value}/{total} | loss {loss} | lr {lr} | {rate} samples/s | ETA {eta}',
      hideCursor: true,
      // The final report (ledger, eval) replaces the bar when the run ends.
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    step(report) {
      const payload = { ...fields(report), epoch: `${report.epoch}/${report.epochs}`, window: `${report.window}/${report.windows}` };
      if (!started) {
        bar.start(report.totalSteps, report.globalStep, payload);
        started = true;
      } else {
        bar.update(report.globalStep, payload);
      }
    },
    line(text) {
      if (started) {
        // cli-progress redraws on the next update; clear the bar line first so the text stays intact.
        stream.write('\r\x1b[2K' + text + '\n');
      } else {
        stream.write(text + '\n');
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
