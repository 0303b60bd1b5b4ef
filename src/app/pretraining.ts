/**
 * Masked-LM pretraining over samples in memory (docs/design.md §8): documents → model inputs →
 * samples that carry their dataset index, the masking function the model applies, evaluation with
 * fixed masks, and fill-mask. Browser-safe: reading files is the caller's.
 *
 * The masks of a sample in an epoch are drawn from (seed, epoch, sample index) only
 * (src/tasks/masking.ts). Everything else they depend on is a `MaskingSpec`: plain data, so a
 * worker thread rebuilds exactly the same function from it (src/node/replica.ts), and a resumed
 * run from its saved settings. So the masks — and with them every window's item count |I(W)|,
 * the masked tokens of all its micro-batches, known before the first backward — do not depend
 * on the micro-batch size, the worker count or the resume point.
 */
import { ConfigError } from '../core/errors.js';
import type { EncoderConfig } from '../models/config.js';
import { EVALUATION_EPOCH, maskTokens } from '../tasks/masking.js';
import type { MaskedInput, MaskedLanguageModel } from '../tasks/model.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { packDocuments, truncateDocuments, type PretrainingBlock, type TextDocument } from './data/text.js';

/** One model input of a pretraining run: a packed block or a truncated document. */
export interface PretrainingSample extends PretrainingBlock {
  /** Index in its dataset (training or evaluation): the masks of epoch e come from (seed, e, index). */
  index: number;
}

/** What the masks depend on besides (epoch, sample index). Structured-cloneable. */
export interface MaskingSpec {
  seed: number;
  /** Probability that a token is selected (HF `mlm_probability`). */
  probability: number;
  wholeWordMask: boolean;
  maskTokenId: number;
  /** Random replacements are uniform in [0, vocabSize): the tokenizer's size (HF `len(tokenizer)`). */
  vocabSize: number;
  padTokenId: number;
}

/** The masked input of a sample in an epoch (EVALUATION_EPOCH for the fixed evaluation masks). */
export function maskFunction(spec: MaskingSpec): (sample: PretrainingSample, epoch: number) => MaskedInput {
  return (sample, epoch) => {
    const masked = maskTokens(sample, { ...spec, epoch, sampleIndex: sample.index });
    return { ids: masked.inputIds, labels: masked.labels };
  };
}

/** The masking spec of a tokenizer and model: checks that the model can predict every id the masks may hold. */
export function maskingSpec(tokenizer: Tokenizer, config: EncoderConfig, options: { seed: number; probability: number; wholeWordMask: boolean }): MaskingSpec {
  const mask = tokenizer.special.mask;
  if (mask === undefined) throw new ConfigError('the tokenizer has no mask token: masked-LM training needs one (e.g. [MASK] or <mask>)', { field: 'model' });
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new ConfigError(`the tokenizer has ${tokenizer.vocabSize} ids but the model only ${config.vocabSize} (vocab_size): its random replacements could not be embedded`, { field: 'model' });
  }
  if (!(options.probability > 0 && options.probability <= 1)) throw new ConfigError(`must be in (0, 1], got ${options.probability}`, { field: 'mlmProbability' });
  return { seed: options.seed, probability: options.probability, wholeWordMask: options.wholeWordMask, maskTokenId: mask.id, vocabSize: tokenizer.vocabSize, padTokenId: config.padTokenId };
}

export interface PretrainingInputOptions {
  /** Tokens per sample, special tokens included. */
  maxLength: number;
  /** Concatenate and cut into blocks of maxLength (run_mlm's group_texts) instead of truncating each document. */
  pack: boolean;
  /** For error messages. */
  file?: string;
}

export interface PretrainingInputs {
  samples: PretrainingSample[];
  /** One line for the log. */
  describe: string;
}

/** The samples of a pretraining run from its documents (see src/app/data/text.ts for both modes). */
export function pretrainingSamples(documents: readonly TextDocument[], tokenizer: Tokenizer, options: PretrainingInputOptions): PretrainingInputs {
  // The whole document: packing concatenates it, truncation cuts it keeping the template's ends.
  const encode = (text: string) => {
    const { ids, specialTokensMask, wordIds } = tokenizer.encode(text, { maxLength: Number.MAX_SAFE_INTEGER });
    return { ids, specialTokensMask, wordIds };
  };
  const where = options.file === undefined ? {} : { file: options.file };
  let blocks: PretrainingBlock[];
  let describe: string;
  if (options.pack) {
    const packed = packDocuments(documents, encode, { maxSeqLength: options.maxLength, ...where });
    blocks = packed.blocks;
    describe = `${documents.length} documents, ${packed.tokens} tokens packed into ${blocks.length} blocks of ${options.maxLength} (${packed.droppedTokens} tokens left over)`;
  } else {
    const truncated = truncateDocuments(documents, encode, { maxSeqLength: options.maxLength, ...where });
    blocks = truncated.blocks;
    const tokens = blocks.reduce((sum, block) => sum + block.ids.length, 0);
    describe = `${documents.length} documents, ${(tokens / Math.max(1, blocks.length)).toFixed(1)} tokens on average, ${truncated.truncated} truncated to ${options.maxLength}`;
  }
  return { samples: blocks.map((block, index) => ({ ...block, index })), describe };
}

export interface MaskedLmEvaluation {
  /** Mean cross-entropy (natural log) over all masked tokens: Σ loss / Σ masked, not a mean of batch means. */
  loss: number;
  perplexity: number;
  maskedTokens: number;
  samples: number;
}

/** Masked-LM loss and perplexity with the fixed evaluation masks (those of EVALUATION_EPOCH), `batchSize` samples at a time. */
export function evaluateMaskedLm<Sample>(model: Pick<MaskedLanguageModel<Sample>, 'evaluate'>, samples: readonly Sample[], batchSize: number): MaskedLmEvaluation {
  let lossSum = 0;
  let maskedTokens = 0;
  for (let start = 0; start < samples.length; start += batchSize) {
    const result = model.evaluate(samples.slice(start, start + batchSize), EVALUATION_EPOCH);
    lossSum += result.lossSum;
    maskedTokens += result.count;
  }
  const loss = maskedTokens === 0 ? Number.NaN : lossSum / maskedTokens;
  return { loss, perplexity: Math.exp(loss), maskedTokens, samples: samples.length };
}

export interface FillMaskCandidate {
  /** The candidate as text (HF's `token_str`: the decoded id). */
  token: string;
  id: number;
  score: number;
}

export interface FillMaskResult {
  /** 1-based: which mask of the text. */
  mask: number;
  /** Token position in the encoded input. */
  position: number;
  candidates: FillMaskCandidate[];
}

/** The `topK` most probable tokens at every mask token of `text` (the family's own mask token). */
export function fillMask<Sample>(model: Pick<MaskedLanguageModel<Sample>, 'predictPositions'>, tokenizer: Tokenizer, text: string, options: { topK: number; maxLength: number }): FillMaskResult[] {
  const mask = tokenizer.special.mask;
  if (mask === undefined) throw new ConfigError('the tokenizer has no mask token', { field: 'model' });
  const encoding = tokenizer.encode(text, { maxLength: options.maxLength });
  const positions = encoding.ids.flatMap((id, position) => (id === mask.id ? [position] : []));
  if (positions.length === 0) {
    const cut = encoding.truncated ? ` within the first ${options.maxLength} tokens (--max-length)` : '';
    throw new ConfigError(`has no ${mask.token}${cut}: mark each word to predict with this model's mask token ${mask.token}`, { field: 'text' });
  }
  const probabilities = model.predictPositions(encoding, positions);
  return positions.map((position, k) => {
    const row = probabilities[k]!;
    const order = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]! || a - b);
    return {
      mask: k + 1,
      position,
      candidates: order.slice(0, options.topK).map((id) => ({ token: tokenizer.decode([id]), id, score: row[id]! })),
    };
  });
}
