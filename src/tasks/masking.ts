/**
 * Masked-LM masks (docs/design.md §8): which positions of a tokenized sample are predicted and
 * what the model sees there. The masks of a sample depend only on (seed, epoch, sample index) and
 * the sample itself — never on the micro-batch size, the worker count, the resume point or the
 * order in which samples are masked — because each sample draws from its own stream,
 * `new RandomStream(deriveSeed(seed, epoch, sampleIndex, MASKING_STREAM))`.
 *
 * Token masking follows Hugging Face's `DataCollatorForLanguageModeling.torch_mask_tokens`
 * (src/transformers/data/data_collator.py): every token that is neither special nor padding is
 * selected with probability p (bernoulli(p)); a selected token becomes the mask token when a
 * bernoulli(0.8) says so, else a random id uniform in [0, vocabSize) when a bernoulli(0.5) says
 * so, else it stays (80 / 10 / 10); labels hold the original id where selected, -100 elsewhere.
 * As HF draws each bernoulli for every position (a full matrix), we draw the same four numbers
 * for every position (select, mask, random, random id), position by position: so a position's
 * outcome depends only on its index and its own token, and trailing padding changes nothing.
 *
 * Whole-word masking follows `DataCollatorForWholeWordMask._whole_word_mask` (the BERT recipe
 * of Google's create_pretraining_data.py): the candidate words are shuffled (Fisher–Yates, the
 * algorithm of Python's `random.shuffle`, on our stream), the budget is
 * `min(maxPredictions, max(1, round(length · p)))` tokens with Python's round (half to even) and
 * `length` the sample's length without padding (HF passes each unpadded example) — so, as in HF,
 * even p = 0 predicts one word —, and words are
 * taken in shuffled order, skipping any word that would exceed the budget; the selected tokens
 * then get the same 80 / 10 / 10 treatment token by token (HF applies `torch_mask_tokens` to
 * the word mask). Where we deviate, on purpose:
 * * words come from `wordIds` (consecutive tokens with the same word id), not from WordPiece's
 *   `##` prefix, so the rule works for every tokenizer family; for BERT's tokenizer both group
 *   the same pieces;
 * * candidates exclude every special token and padding (HF skips only `[CLS]`/`[SEP]` by name
 *   and unmasks other specials afterwards, which can waste budget on them);
 * * newer transformers releases (`DataCollatorForLanguageModeling(whole_word_mask=True)`) select
 *   each word with an independent bernoulli(p) and replace with the mask token only; we keep
 *   the long-standing budgeted recipe with 80 / 10 / 10, which docs/design.md specifies.
 *
 * Evaluation uses fixed masks: `evaluationMasks` is `maskTokens` at `EVALUATION_EPOCH` (-1), the
 * same in every epoch and run with the same seed, so evaluation losses are comparable.
 */
import { ConfigError, DataError } from '../core/errors.js';
import { RandomStream, deriveSeed, shuffleInPlace } from '../core/random.js';

/** The label of a position that is not predicted (PyTorch's cross-entropy ignore_index). */
export const IGNORE_INDEX = -100;

/** The epoch whose masks `evaluationMasks` uses; training epochs are ≥ 0. */
export const EVALUATION_EPOCH = -1;

/**
 * The last part of every masking stream's key: "mlm" in ASCII, negative so that it can never
 * equal an index (dropout streams put a micro-batch index in the same place).
 */
export const MASKING_STREAM = -0x6d6c6d;

/** A tokenized sample, as a tokenizer returns it with `return_special_tokens_mask` and `word_ids()`. */
export interface TokenizedSample {
  ids: readonly number[];
  /** 1 for special tokens ([CLS], [SEP], padding …), which are never masked. */
  specialTokensMask: readonly number[];
  /** The word of each token (null for special tokens): whole-word masking keeps words together. */
  wordIds: readonly (number | null)[];
}

export interface MaskSettings {
  /** Probability that a token is selected for prediction (HF's `mlm_probability`). Default 0.15. */
  probability?: number;
  maskTokenId: number;
  /** Random replacements are uniform in [0, vocabSize) (HF: `len(tokenizer)`). */
  vocabSize: number;
  /** Select whole words (all of a word's tokens or none). Default false. */
  wholeWordMask?: boolean;
  /** Tokens with this id are padding: never selected, and not counted in the whole-word budget. */
  padTokenId?: number;
  /** Whole-word masking's cap on predicted tokens per sample (HF's `max_predictions`). Default 512. */
  maxPredictions?: number;
}

export interface MaskOptions extends MaskSettings {
  seed: number;
  /** The training epoch (≥ 0), or EVALUATION_EPOCH. */
  epoch: number;
  /** The sample's index in the dataset (not its position in a batch). */
  sampleIndex: number;
}

export interface MaskedSample {
  /** The model's input: ids with the selected tokens masked, replaced or kept. */
  inputIds: number[];
  /** The original id where a token is predicted, IGNORE_INDEX elsewhere. */
  labels: number[];
  /** The number of predicted tokens: this sample's loss items. */
  count: number;
}

/** Masks for training: see the module comment. */
export function maskTokens(sample: TokenizedSample, options: MaskOptions): MaskedSample {
  const { seed, epoch, sampleIndex } = options;
  if (!Number.isFinite(seed)) throw new ConfigError(`must be a finite number, got ${seed}`, { field: 'seed' });
  if (!Number.isInteger(epoch) || epoch < EVALUATION_EPOCH) throw new ConfigError(`must be an integer ≥ 0 (or ${EVALUATION_EPOCH} for evaluation masks), got ${epoch}`, { field: 'epoch' });
  if (!Number.isInteger(sampleIndex) || sampleIndex < 0) throw new ConfigError(`must be an integer ≥ 0, got ${sampleIndex}`, { field: 'sampleIndex' });
  const settings = checkSettings(options);
  checkSample(sample);
  const stream = new RandomStream(deriveSeed(seed, epoch, sampleIndex, MASKING_STREAM));
  return settings.wholeWordMask ? maskWholeWords(sample, settings, stream) : maskEachToken(sample, settings, stream);
}

/** Fixed masks for evaluation: the same for every epoch (those of EVALUATION_EPOCH). */
export function evaluationMasks(sample: TokenizedSample, options: Omit<MaskOptions, 'epoch'>): MaskedSample {
  return maskTokens(sample, { ...options, epoch: EVALUATION_EPOCH });
}

interface CheckedSettings {
  probability: number;
  maskTokenId: number;
  vocabSize: number;
  wholeWordMask: boolean;
  padTokenId: number | undefined;
  maxPredictions: number;
}

function checkSettings(options: MaskSettings): CheckedSettings {
  const probability = options.probability ?? 0.15;
  if (!(probability >= 0 && probability <= 1)) throw new ConfigError(`must be a probability in [0, 1], got ${probability}`, { field: 'probability' });
  const { vocabSize, maskTokenId } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 2 ** 32) throw new ConfigError(`must be a positive integer, got ${vocabSize}`, { field: 'vocabSize' });
  if (!Number.isInteger(maskTokenId) || maskTokenId < 0 || maskTokenId >= vocabSize) {
    throw new ConfigError(`must be a token id in [0, ${vocabSize}), got ${maskTokenId}`, { field: 'maskTokenId' });
  }
  const maxPredictions = options.maxPredictions ?? 512;
  if (!Number.isInteger(maxPredictions) || maxPredictions < 1) throw new ConfigError(`must be a positive integer, got ${maxPredictions}`, { field: 'maxPredictions' });
  return { probability, maskTokenId, vocabSize, wholeWordMask: options.wholeWordMask ?? false, padTokenId: options.padTokenId, maxPredictions };
}

function checkSample(sample: TokenizedSample): void {
  const length = sample.ids.length;
  if (sample.specialTokensMask.length !== length) {
    throw new DataError(`has ${sample.specialTokensMask.length} entries for ${length} ids`, { field: 'specialTokensMask' });
  }
  if (sample.wordIds.length !== length) throw new DataError(`has ${sample.wordIds.length} entries for ${length} ids`, { field: 'wordIds' });
  sample.ids.forEach((id, position) => {
    if (!Number.isInteger(id)) throw new DataError(`position ${position} holds ${id}, not a token id`, { field: 'ids' });
  });
}

function isCandidate(sample: TokenizedSample, position: number, padTokenId: number | undefined): boolean {
  return sample.specialTokensMask[position] === 0 && sample.ids[position] !== padTokenId;
}

/** HF's 80 / 10 / 10 for one position, from its three draws; writes the outcome. */
function applyReplacement(
  position: number,
  selected: boolean,
  sample: TokenizedSample,
  settings: CheckedSettings,
  stream: RandomStream,
  result: MaskedSample,
): void {
  const replaceWithMask = stream.uniform() < 0.8;
  const replaceWithRandom = stream.uniform() < 0.5;
  const randomId = stream.below(settings.vocabSize);
  if (!selected) return;
  const id = sample.ids[position]!;
  result.labels[position] = id;
  result.count++;
  if (replaceWithMask) result.inputIds[position] = settings.maskTokenId;
  else if (replaceWithRandom) result.inputIds[position] = randomId;
}

function emptyResult(sample: TokenizedSample): MaskedSample {
  return { inputIds: [...sample.ids], labels: new Array<number>(sample.ids.length).fill(IGNORE_INDEX), count: 0 };
}

function maskEachToken(sample: TokenizedSample, settings: CheckedSettings, stream: RandomStream): MaskedSample {
  const result = emptyResult(sample);
  for (let position = 0; position < sample.ids.length; position++) {
    const selected = stream.uniform() < settings.probability && isCandidate(sample, position, settings.padTokenId);
    applyReplacement(position, selected, sample, settings, stream, result);
  }
  return result;
}

function maskWholeWords(sample: TokenizedSample, settings: CheckedSettings, stream: RandomStream): MaskedSample {
  const words: number[][] = [];
  let previous: { candidate: boolean; wordId: number | null } = { candidate: false, wordId: null };
  for (let position = 0; position < sample.ids.length; position++) {
    const candidate = isCandidate(sample, position, settings.padTokenId);
    const wordId = sample.wordIds[position] ?? null;
    if (candidate) {
      if (previous.candidate && wordId !== null && wordId === previous.wordId) words[words.length - 1]!.push(position);
      else words.push([position]);
    }
    previous = { candidate, wordId };
  }
  shuffleInPlace(words, stream);
  const unpaddedLength = settings.padTokenId === undefined ? sample.ids.length : sample.ids.filter((id) => id !== settings.padTokenId).length;
  const budget = wholeWordBudget(unpaddedLength, settings.probability, settings.maxPredictions);
  const selected = new Set<number>();
  for (const word of words) {
    if (selected.size >= budget) break;
    // A word that would overshoot the budget is skipped; a shorter one later may still fit.
    if (selected.size + word.length > budget) continue;
    for (const position of word) selected.add(position);
  }
  const result = emptyResult(sample);
  for (let position = 0; position < sample.ids.length; position++) applyReplacement(position, selected.has(position), sample, settings, stream, result);
  return result;
}

/**
 * HF's `num_to_predict = min(max_predictions, max(1, int(round(len(input_tokens) * mlm_probability))))`,
 * with Python's round (ties to even: 1.5 → 2, 4.5 → 4) on the same float64 product.
 */
export function wholeWordBudget(length: number, probability: number, maxPredictions = 512): number {
  return Math.min(maxPredictions, Math.max(1, roundHalfToEven(length * probability)));
}

/** Python 3's `round(x)` for finite x ≥ 0. */
export function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
