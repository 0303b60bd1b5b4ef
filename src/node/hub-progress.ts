/**
 * How the command line shows hub downloads: a bar per file on a TTY (cli-progress), else one
 * line per file as it starts, so logs and CI output stay readable. It only consumes
 * `DownloadProgress` events; the library itself never writes to a terminal.
 */
import cliProgress from 'cli-progress';
import type { DownloadProgress } from './hub.js';

export interface DownloadProgressBar {
  onProgress(progress: DownloadProgress): void;
  /** Ends the display (leaves the finished bars on screen). */
  stop(): void;
}

/** `1.5 MB`, `438.0 MB`, `12 B`: decimal units, as the hub's web pages show sizes. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function createDownloadProgressBar(stream: NodeJS.WriteStream = process.stderr): DownloadProgressBar {
  if (!stream.isTTY) {
    const announced = new Set<string>();
    return {
      onProgress({ repo, file, bytesTotal }) {
        const key = `${repo}/${file}`;
        if (announced.has(key)) return;
        announced.add(key);
        stream.write(`downloading ${key} (${formatBytes(bytesTotal)})\n`);
      },
      stop() {},
    };
  }
  const bars = new cliProgress.MultiBar(
    {
      stream,
      format: '{file} |{bar}| {percentage}% {done}/{size}',
      hideCursor: true,
      // The bars stay: they are the record of what was downloaded.
      clearOnComplete: false,
      stopOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const byFile = new Map<string, cliProgress.SingleBar>();
  return {
    onProgress({ repo, file, bytesDone, bytesTotal }) {
      const key = `${repo}/${file}`;
      const payload = { file: key, done: formatBytes(bytesDone), size: formatBytes(bytesTotal) };
      const bar = byFile.get(key);
      // A zero-byte file still gets a full bar.
      if (bar === undefined) byFile.set(key, bars.create(Math.max(bytesTotal, 1), bytesTotal === 0 ? 1 : bytesDone, payload));
      else bar.update(bytesDone, payload);
    },
    stop() {
      bars.stop();
    },
  };
}
