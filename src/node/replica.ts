/**
 * The replica side of multi-worker training, loaded inside a pool worker (src/node/pool.ts) as
 * its replica module. The replica's parameters are the main thread's: its host store is built
 * over the same SharedArrayBuffer, so nothing is copied or sent when they change — the main
 * thread only says so (`parametersUpdated`) and the replica refreshes its heap mirrors. Its
 * share of each window goes into its own shared gradient buffers, which the main thread adds
 * into the window's gradient in worker order. It computes with exactly the code the main
 * thread uses (`accumulateWindow`), so the sum over workers equals the single-thread gradient
 * up to float32 rounding.
 */
import { buildModel, readConfig, type BuildModelOptions } from '../app/checkpoint.js';
import { maskFunction, type MaskingSpec } from '../app/pretraining.js';
import type { TaskName } from '../models/index.js';
import type { Precision } from '../nn/context.js';
import { accumulateWindow } from '../train/accumulator.js';
import { GradientStore } from '../train/store.js';
import type { TrainableModel } from '../train/types.js';

export interface ReplicaFactory {
  /** URL of the module exporting the factory. */
  module: string;
  /** Export name: `(options, { parameters }) => TrainableModel | Promise<TrainableModel>`, its store over `parameters`. */
  exportName: string;
  options: unknown;
}

export interface ReplicaOptions {
  factory: ReplicaFactory;
  /** The main thread's parameter arena. */
  parameters: SharedArrayBuffer;
  /** This replica's gradient buffers. */
  gradients: SharedArrayBuffer;
}

export interface ShareResult {
  /** Unscaled loss sum of each micro-batch of the share, in order. */
  microLossSums: number[];
}

export async function createReplica(options: ReplicaOptions) {
  const module = (await import(options.factory.module)) as Record<string, unknown>;
  const factory = module[options.factory.exportName];
  if (typeof factory !== 'function') throw new Error(`${options.factory.module} does not export a function "${options.factory.exportName}"`);
  const model = (await factory(options.factory.options, { parameters: options.parameters })) as TrainableModel<unknown>;
  const grads = new GradientStore(model.parameters.layout, { buffer: options.gradients });

  return {
    /** Σ over the share of ∇(loss sum) · lossScale / windowItemCount into this replica's shared buffers. */
    computeShare(microBatches: unknown[][], itemCount: number, lossScale: number, dropoutSeeds: number[][], epoch: number): ShareResult {
      grads.zero();
      const microLossSums: number[] = [];
      accumulateWindow(grads, model, { microBatches, itemCount, lossScale, dropoutSeeds, epoch }, (_, lossSum) => microLossSums.push(lossSum));
      // Buffers nothing was added to must read as zeros on the main thread.
      grads.views();
      return { microLossSums };
    },

    /** The main thread changed the shared parameters (an optimizer step): heap mirrors are stale. */
    parametersUpdated(): void {
      model.parameters.markUpdated();
    },

    /** Float64 sum of each parameter as this replica computes with it (its heap tensors): a sync check. */
    paramSums(): number[] {
      return model.parameters.entries.map((entry) => (model.parameters.tensor(entry.index).dataSync() as Float32Array).reduce((sum, value) => sum + value, 0));
    },
  };
}

/** What a worker needs to build a task model: the config and the task (structured-cloneable). */
export interface ModelSpec {
  configJson: unknown;
  configFile: string;
  task: TaskName;
  labels: string[];
  dropout?: number;
  /** The run's matMul precision (default fp32). */
  precision?: Precision;
  /** Masked LM: the run's masking, so that a worker masks every sample exactly as the main thread. */
  masking?: MaskingSpec;
}

/** The replica factory of the task models (`ReplicaFactory.exportName`). */
export function taskModelReplica(spec: ModelSpec, shared: { parameters: SharedArrayBuffer }): TrainableModel<unknown> {
  const { family, config } = readConfig(spec.configJson, spec.configFile, spec.dropout);
  const { model } = buildModel(family, config, {
    task: spec.task,
    labels: spec.labels,
    arena: { buffer: shared.parameters },
    ...(spec.masking !== undefined ? { mask: maskFunction(spec.masking) as BuildModelOptions['mask'] } : {}),
    source: spec.configFile,
  });
  model.precision = spec.precision ?? 'fp32';
  return model;
}
