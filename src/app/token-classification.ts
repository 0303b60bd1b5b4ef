/**
 * Token classification (NER, chunking, POS) over tagged sentences in memory: word tags aligned to
 * sub-tokens, evaluation with seqeval's entity metrics, and entity predictions with character
 * spans. Browser-safe: parsing files is src/app/data/tagged.ts, reading them the caller's.
 *
 * Alignment follows Hugging Face's run_ner.py `tokenize_and_align_labels`: each word is tokenized
 * on its own (`is_split_into_words`); its tag labels the word's first sub-token; the other
 * sub-tokens get -100 (no loss), or with `labelAllTokens` the same tag — its B- turned into the
 * matching I- when the tag set has one (run_ner's `b_to_i_label`). Special tokens get -100. The
 * loss items of a sentence are its labelled tokens (docs/design.md §8).
 *
 * Evaluation and prediction are per word, at the word's first sub-token (so `labelAllTokens`
 * changes what is trained, not what is scored). Words cut off by `maxLength` have no token: as in
 * run_ner, they are left out of the scores (and counted), and predictions cover the words that fit.
 */
import { DataError } from '../core/errors.js';
import { IGNORE_INDEX } from '../tasks/masking.js';
import type { TokenClassifier, TokenSample } from '../tasks/model.js';
import type { Encoding, Tokenizer } from '../tokenizers/index.js';
import { parseTag, type TaggedSentence } from './data/tagged.js';
import { classificationReport, getEntities, type SeqevalOptions, type SeqevalReport } from './metrics/seqeval.js';

/** A sentence encoded for training or evaluation. */
export interface TaggedSample extends TokenSample {
  /** 1-based line of the sentence in its file. */
  line: number;
  /** The gold tag of every word. */
  tags: readonly string[];
  /** Token position of each word's first sub-token; -1 for a word with no token (cut by maxLength). */
  firstTokens: readonly number[];
}

export interface AlignOptions {
  maxLength: number;
  /** Label every sub-token of a word, not only the first. */
  labelAllTokens: boolean;
  /** For error messages. */
  file?: string;
}

/** The label id of a tag on a word's later sub-tokens under labelAllTokens: B-X → I-X when I-X is a label. */
function continuationLabels(labels: readonly string[]): number[] {
  const ids = new Map(labels.map((label, id) => [label, id]));
  return labels.map((label, id) => {
    const { prefix, type } = parseTag(label);
    return prefix === 'B' ? (ids.get(`I-${type}`) ?? id) : id;
  });
}

/** Encodes each sentence and aligns its word tags to sub-tokens; every tag must be one of `labels`. */
export function alignTaggedSentences(sentences: readonly TaggedSentence[], tokenizer: Tokenizer, labels: readonly string[], options: AlignOptions): TaggedSample[] {
  const label2id = new Map(labels.map((label, id) => [label, id]));
  const continuation = continuationLabels(labels);
  return sentences.map((sentence) => {
    const encoding = tokenizer.encodeWords(sentence.words, { maxLength: options.maxLength });
    const tagIds = sentence.tags.map((tag) => {
      const id = label2id.get(tag);
      if (id === undefined) {
        throw new DataError(`unknown tag "${tag}" (the model's labels are ${labels.join(', ')})`, { ...(options.file !== undefined ? { file: options.file } : {}), line: sentence.line, field: 'tags' });
      }
      return id;
    });
    const firstTokens = new Array<number>(sentence.words.length).fill(-1);
    const tokenLabels = encoding.wordIds.map((word, position) => {
      if (word === null) return IGNORE_INDEX;
      if (firstTokens[word] === -1) {
        firstTokens[word] = position;
        return tagIds[word]!;
      }
      return options.labelAllTokens ? continuation[tagIds[word]!]! : IGNORE_INDEX;
    });
    return { ids: encoding.ids, labels: tokenLabels, line: sentence.line, tags: sentence.tags, firstTokens };
  });
}

/** Words of the samples that have no token (cut by maxLength): left out of evaluation. */
export function wordsWithoutTokens(samples: readonly TaggedSample[]): number {
  return samples.reduce((sum, sample) => sum + sample.firstTokens.filter((position) => position < 0).length, 0);
}

/** Per sample, per token: class probabilities, `batchSize` samples at a time (no dropout). */
function tokenProbabilities(model: Pick<TokenClassifier, 'probabilities'>, inputs: readonly { ids: readonly number[] }[], batchSize: number): Float64Array[][] {
  const out: Float64Array[][] = [];
  for (let start = 0; start < inputs.length; start += batchSize) out.push(...model.probabilities(inputs.slice(start, start + batchSize)));
  return out;
}

function argmax(row: Float64Array): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  return best;
}

export interface TokenEvaluation {
  /** seqeval's classification_report over the evaluated words, and its token (word) accuracy. */
  report: SeqevalReport;
  /** Mean cross-entropy over the labelled tokens (the training loss's items). */
  loss: number;
  sentences: number;
  /** Words scored, and how many got their gold tag. */
  words: number;
  correct: number;
  /** Words left out because maxLength cut them off. */
  wordsWithoutTokens: number;
}

/** seqeval's entity scores (per type, micro, macro) and token accuracy of a token classifier. */
export function evaluateTokenClassifier(
  model: Pick<TokenClassifier, 'probabilities'>,
  samples: readonly TaggedSample[],
  labels: readonly string[],
  batchSize: number,
  options: Pick<SeqevalOptions, 'mode' | 'scheme'> = {},
): TokenEvaluation {
  const probabilities = tokenProbabilities(model, samples, batchSize);
  const yTrue: string[][] = [];
  const yPred: string[][] = [];
  let lossSum = 0;
  let items = 0;
  let words = 0;
  let correct = 0;
  samples.forEach((sample, index) => {
    const rows = probabilities[index]!;
    sample.labels.forEach((label, position) => {
      if (label === IGNORE_INDEX) return;
      lossSum -= Math.log(Math.max(rows[position]![label]!, Number.MIN_VALUE));
      items += 1;
    });
    const gold: string[] = [];
    const predicted: string[] = [];
    sample.firstTokens.forEach((position, word) => {
      if (position < 0) return;
      gold.push(sample.tags[word]!);
      predicted.push(labels[argmax(rows[position]!)]!);
    });
    words += gold.length;
    correct += gold.filter((tag, k) => tag === predicted[k]).length;
    yTrue.push(gold);
    yPred.push(predicted);
  });
  const report = classificationReport(yTrue, yPred, { ...options, zeroDivision: 0 });
  return { report, loss: items === 0 ? Number.NaN : lossSum / items, sentences: samples.length, words, correct, wordsWithoutTokens: wordsWithoutTokens(samples) };
}

/** One sentence to tag: given as words (CoNLL / JSONL tokens) or as raw text. */
export type SentenceInput = { line: number; words: readonly string[] } | { line: number; text: string };

export interface PredictedEntity {
  type: string;
  /** `[start, end)` character span in `text`. */
  start: number;
  end: number;
  text: string;
  /** `[first, last + 1)` word indices. */
  words: [number, number];
  /** Mean probability of the predicted tag over the entity's words (at their first sub-tokens). */
  score: number;
}

export interface SentencePrediction {
  line: number;
  /** The words given, joined by single spaces, or the text given. */
  text: string;
  words: string[];
  /** One predicted tag per word that fits in maxLength. */
  tags: string[];
  entities: PredictedEntity[];
  /** Words cut off by maxLength (not tagged). */
  wordsWithoutTokens: number;
}

/** A sentence as the model sees it: its encoding, its words and each word's character span in `text`. */
function prepareSentence(input: SentenceInput, tokenizer: Tokenizer, maxLength: number): { encoding: Encoding; text: string; words: string[]; spans: [number, number][] } {
  if ('words' in input) {
    const encoding = tokenizer.encodeWords(input.words, { maxLength });
    const spans: [number, number][] = [];
    let offset = 0;
    for (const word of input.words) {
      spans.push([offset, offset + word.length]);
      offset += word.length + 1;
    }
    return { encoding, text: input.words.join(' '), words: [...input.words], spans };
  }
  // Raw text: the tokenizer's pre-tokens are the words; a word spans its tokens' characters.
  const encoding = tokenizer.encode(input.text, { maxLength });
  const spans: [number, number][] = [];
  encoding.wordIds.forEach((word, position) => {
    if (word === null) return;
    const [start, end] = encoding.offsets[position]!;
    if (end <= start) return;
    const span = spans[word];
    if (span === undefined) spans[word] = [start, end];
    else spans[word] = [Math.min(span[0], start), Math.max(span[1], end)];
  });
  // Pre-tokens cut off by truncation are not known to the encoding: words are those that fit.
  const count = spans.length;
  for (let word = 0; word < count; word++) spans[word] ??= [0, 0];
  return { encoding, text: input.text, words: spans.map(([start, end]) => input.text.slice(start, end)), spans };
}

/** Tags and entities (seqeval's chunking, with character spans) of each sentence. */
export function predictEntities(model: Pick<TokenClassifier, 'probabilities'>, tokenizer: Tokenizer, inputs: readonly SentenceInput[], labels: readonly string[], options: { maxLength: number; batchSize: number }): SentencePrediction[] {
  const prepared = inputs.map((input) => prepareSentence(input, tokenizer, options.maxLength));
  const probabilities = tokenProbabilities(model, prepared.map((sentence) => sentence.encoding), options.batchSize);
  return prepared.map((sentence, index) => {
    const rows = probabilities[index]!;
    const firstTokens = new Array<number>(sentence.words.length).fill(-1);
    sentence.encoding.wordIds.forEach((word, position) => {
      if (word !== null && word < firstTokens.length && firstTokens[word] === -1) firstTokens[word] = position;
    });
    const tagged = firstTokens.flatMap((position, word) => (position < 0 ? [] : [{ word, row: rows[position]! }]));
    const tags = tagged.map(({ row }) => labels[argmax(row)]!);
    const entities = getEntities(tags).map(([type, first, last]): PredictedEntity => {
      const start = sentence.spans[tagged[first]!.word]![0];
      const end = sentence.spans[tagged[last]!.word]![1];
      let score = 0;
      for (let k = first; k <= last; k++) score += tagged[k]!.row[labels.indexOf(tags[k]!)]!;
      return { type, start, end, text: sentence.text.slice(start, end), words: [tagged[first]!.word, tagged[last]!.word + 1], score: score / (last - first + 1) };
    });
    return {
      line: inputs[index]!.line,
      text: sentence.text,
      words: sentence.words,
      tags,
      entities,
      wordsWithoutTokens: firstTokens.filter((position) => position < 0).length,
    };
  });
}
