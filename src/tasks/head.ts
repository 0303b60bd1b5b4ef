/**
 * Runs a family's task head (models/family.ts `HeadSpec`): a short list of steps — dropout,
 * dense, activation, LayerNorm, a decoder tied to the word embeddings — with a hand-written
 * backward like every other layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { activationBackward, activationForward, type Activation } from '../nn/activations.js';
import { tidy, type BackwardContext, type LayerContext } from '../nn/context.js';
import { denseBackward, denseForward, type DenseParams } from '../nn/dense.js';
import { dropoutBackward, dropoutForward, type DropoutSite } from '../nn/dropout.js';
import { layerNormBackward, layerNormForward, type LayerNormParams, type LayerNormSaved } from '../nn/layerNorm.js';
import type { EncoderConfig } from '../models/config.js';
import { layerNormSpecs, linearSpecs, type ModelParamSpec } from '../models/encoder.js';
import type { HeadSpec } from '../models/family.js';
import type { ParamLayout } from '../train/store.js';

/** Dropout sites of heads start here (the encoder's are 0 … 3·layers). */
const HEAD_SITE = 100_000;

type ResolvedStep =
  | { kind: 'dropout'; rate: number }
  | { kind: 'dense'; params: DenseParams }
  | { kind: 'activation'; activation: Activation }
  | { kind: 'layerNorm'; params: LayerNormParams };

type StepSaved = { input?: tf.Tensor2D; norm?: LayerNormSaved };

export interface HeadSaved {
  steps: StepSaved[];
}

/** The head's parameters (in HF's order) for an encoder config and a label count. */
export function headSpecs(head: HeadSpec, config: EncoderConfig, numLabels: number): ModelParamSpec[] {
  const specs: ModelParamSpec[] = [];
  let width = config.hiddenSize;
  for (const step of head.steps) {
    if (step.kind === 'dense') {
      const out = step.out === 'hidden' ? config.hiddenSize : step.out === 'embedding' ? config.embeddingSize : numLabels;
      specs.push(...linearSpecs(step.prefix, width, out));
      width = out;
    } else if (step.kind === 'layerNorm') {
      specs.push(...layerNormSpecs(step.prefix, width));
    } else if (step.kind === 'tiedDecoder') {
      specs.push({ name: step.bias, shape: [config.vocabSize], init: 'zeros' });
    }
  }
  return specs;
}

/**
 * A head's dropout: one stream per sample, the head's rows taken as whole groups per sample in
 * order — one row per sample ([CLS] heads) or one per position (token heads).
 */
function dropoutSite(rate: number, index: number, context: LayerContext): DropoutSite {
  return { rate, training: context.training, seeds: context.dropoutSeeds(HEAD_SITE + index) };
}

export class Head {
  private readonly steps: ResolvedStep[];

  constructor(head: HeadSpec, config: EncoderConfig, layout: ParamLayout, wordEmbeddings: number) {
    this.steps = head.steps.map((step): ResolvedStep => {
      switch (step.kind) {
        case 'dropout':
          return { kind: 'dropout', rate: step.rate === 'classifier' ? config.classifierDropout : config.hiddenDropout };
        case 'dense':
          return { kind: 'dense', params: { weight: layout.indexOf(`${step.prefix}.weight`), bias: layout.indexOf(`${step.prefix}.bias`) } };
        case 'activation':
          return { kind: 'activation', activation: step.activation === 'config' ? config.activation : step.activation };
        case 'layerNorm':
          return {
            kind: 'layerNorm',
            params: { weight: layout.indexOf(`${step.prefix}.weight`), bias: layout.indexOf(`${step.prefix}.bias`), eps: step.eps ?? config.layerNormEps },
          };
        case 'tiedDecoder':
          // Logits = x·Eᵀ + b: a dense layer whose weight is the word-embedding table [vocab, embedding].
          return { kind: 'dense', params: { weight: wordEmbeddings, bias: layout.indexOf(step.bias) } };
      }
    });
  }

  /** Logits for rows x [n, hidden] and what the backward needs. */
  forward(x: tf.Tensor2D, context: LayerContext): { logits: tf.Tensor2D; saved: HeadSaved } {
    return tidy(() => {
      const saved: StepSaved[] = [];
      let current = x;
      this.steps.forEach((step, index) => {
        switch (step.kind) {
          case 'dropout':
            saved.push({});
            current = dropoutForward(current, dropoutSite(step.rate, index, context), context);
            break;
          case 'dense':
            // A clone shares the data; the head owns it (the encoder keeps its own handle on x).
            saved.push({ input: tf.clone(current) });
            current = denseForward(current, step.params, context);
            break;
          case 'activation':
            saved.push({ input: tf.clone(current) });
            current = activationForward(current, step.activation) as tf.Tensor2D;
            break;
          case 'layerNorm': {
            const normed = layerNormForward(current, step.params, context);
            saved.push({ norm: normed.saved });
            current = normed.y;
            break;
          }
        }
      });
      return { logits: current, saved: { steps: saved } };
    });
  }

  /** Gradient of the head's input from the logits' gradient; frees `saved`. */
  backward(dLogits: tf.Tensor2D, saved: HeadSaved, context: BackwardContext): tf.Tensor2D {
    const dx = tf.tidy(() => {
      let gradient = dLogits;
      for (let index = this.steps.length - 1; index >= 0; index--) {
        const step = this.steps[index]!;
        const stepSaved = saved.steps[index]!;
        switch (step.kind) {
          case 'dropout':
            gradient = dropoutBackward(gradient, dropoutSite(step.rate, index, context), context);
            break;
          case 'dense':
            gradient = denseBackward(gradient, stepSaved.input!, step.params, context)!;
            break;
          case 'activation':
            gradient = activationBackward(gradient, stepSaved.input!, step.activation) as tf.Tensor2D;
            break;
          case 'layerNorm':
            gradient = layerNormBackward(gradient, stepSaved.norm!, step.params, context);
            break;
        }
      }
      return gradient;
    });
    disposeHeadSaved(saved);
    return dx;
  }
}

export function disposeHeadSaved(saved: HeadSaved): void {
  for (const step of saved.steps) {
    step.input?.dispose();
    if (step.norm !== undefined) tf.dispose([step.norm.normalized, step.norm.inverseStd]);
  }
}
