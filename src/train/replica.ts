/**
 * The replica side of multi-worker training: loaded inside a pool worker (src/backend/pool.ts)
 * as its replica module. It builds the model with a user-supplied factory (a module URL and an
 * export name, so any TrainableModel can be replicated) and computes a share of a window with
 * exactly the code the main thread uses (`accumulateWindow`), which is why the sum over
 * workers equals the single-thread gradient up to float32 rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GradientAccumulator, computeWindowGradients } from './accumulator.js';
import type { NamedVariable } from '../optim/types.js';
import type { TrainableModel } from './types.js';

export interface ReplicaOptions {
  /** URL of the module exporting the factory. */
  factoryModule: string;
  /** Name of the factory export: `(options) => TrainableModel | Promise<TrainableModel>`. */
  factoryExport: string;
  factoryOptions: unknown;
}

export interface ShareResult {
  /** Unscaled loss sum of each micro-batch of the share, in order. */
  microLossSums: number[];
  /** Σ over the share of ∇(loss sum) · lossScale / windowItemCount, in `params` order. */
  gradients: Float32Array[];
}

export async function createReplica(options: ReplicaOptions) {
  const module = (await import(options.factoryModule)) as Record<string, unknown>;
  const factory = module[options.factoryExport];
  if (typeof factory !== 'function') throw new Error(`${options.factoryModule} does not export a function "${options.factoryExport}"`);
  const model = (await factory(options.factoryOptions)) as TrainableModel<unknown>;
  const accumulator = new GradientAccumulator(model.params);

  return {
    /** Overwrites every parameter with the main thread's values (in `params` order). */
    setParams(values: Float32Array[]): void {
      if (values.length !== model.params.length) throw new Error(`expected ${model.params.length} parameter arrays, got ${values.length}`);
      model.params.forEach(({ name, variable }, index) => {
        const value = values[index]!;
        if (value.length !== variable.size) throw new Error(`parameter ${name} has ${variable.size} values, got ${value.length}`);
        tf.tidy(() => variable.assign(tf.tensor(value, variable.shape, 'float32')));
      });
    },

    computeShare(microBatches: unknown[][], windowItemCount: number, lossScale: number, dropoutSeeds: number[]): Promise<ShareResult> {
      return computeWindowGradients(model, microBatches, windowItemCount, lossScale, dropoutSeeds, accumulator);
    },

    /** Float64 sum of each parameter's values: a cheap check that replicas are in sync. */
    paramSums(): Promise<number[]> {
      return parameterSums(model.params);
    },
  };
}

/** Float64 sum of each parameter's values, in order. */
export async function parameterSums(params: readonly NamedVariable[]): Promise<number[]> {
  return Promise.all(params.map(async ({ variable }) => ((await variable.data()) as Float32Array).reduce((sum, value) => sum + value, 0)));
}
