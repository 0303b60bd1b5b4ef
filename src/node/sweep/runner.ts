/**
 * Loading a trial runner from its module and export, in whatever process runs the trial (the
 * same approach as the worker pool's replica modules: processes share code by URL, not by closure).
 */
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../core/errors.js';
import type { RunnerRef, TrialRunner, TrialRunnerFactory } from '../../app/sweep/types.js';

/** A RunnerRef for export `exportName` of the module file at `file` (a path or file:// URL). */
export function runnerRef(file: string | URL, exportName: string, options?: unknown): RunnerRef {
  const module = file instanceof URL ? file.href : file.startsWith('file:') ? file : pathToFileURL(file).href;
  return options === undefined ? { module, exportName } : { module, exportName, options };
}

export async function loadTrialRunner(ref: RunnerRef): Promise<TrialRunner> {
  const module = (await import(ref.module)) as Record<string, unknown>;
  const factory = module[ref.exportName];
  if (typeof factory !== 'function') throw new ConfigError(`${ref.module} has no function export "${ref.exportName}"`, { field: 'runner' });
  const runner = await (factory as TrialRunnerFactory)(ref.options);
  if (runner === null || typeof runner !== 'object' || typeof runner.run !== 'function') {
    throw new ConfigError(`${ref.exportName} of ${ref.module} did not return an object with a run(trial, context) method`, { field: 'runner' });
  }
  return runner;
}
