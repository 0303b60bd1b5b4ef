/**
 * Entity-level metrics computed exactly as the Python `seqeval` package (chakki-works/seqeval,
 * `seqeval/metrics/sequence_labeling.py`, `seqeval/metrics/v1.py`, `seqeval/scheme.py`,
 * `seqeval/reporters.py`) computes them, down to the float64 bits of every score:
 *
 * * **default mode** (`classification_report(y_true, y_pred)`, conlleval-compatible): the
 *   sentences are flattened with an `O` between them and chunked by `get_entities`, whose
 *   `start_of_chunk` / `end_of_chunk` rules are lenient — an `I-X` after `O` opens an entity
 *   (IOB1-style input works), a type change closes one;
 * * **strict mode** (`mode='strict', scheme=IOB2 | IOBES | …`): each sentence is chunked by the
 *   scheme's start / inside / end patterns (`Tokens.entities`); a chunk that does not start and
 *   end as the scheme says is not an entity, and a prefix the scheme does not allow is an error.
 *
 * Scores are seqeval's (which are scikit-learn's): per type precision = tp / predicted, recall =
 * tp / true, F = (1 + β²)·P·R / (β²·P + R); a zero denominator gives 0 (or 1 with
 * `zeroDivision: 1`); micro sums the counts, macro is numpy's mean of the per-type scores,
 * weighted is numpy's average weighted by support (numpy's pairwise summation is reproduced, so
 * averages over 8 or more types match bit for bit). Edge cases as seqeval: a weighted average
 * with no true entity is (0, 0, 0) (`zeroDivision: 1`: precision and F are 1 only if nothing was
 * predicted either, recall 1); a macro average over no entity type is NaN (numpy's mean of an
 * empty array).
 *
 * Differences, all at the interface: seqeval's warnings (UndefinedMetricWarning) are not
 * emitted; errors are DataErrors (inconsistent lengths, an empty tag, a prefix the strict scheme
 * does not allow) where seqeval raises ValueError / KeyError / IndexError; `sample_weight`
 * (unused by seqeval's computation) is not offered; the text report is also produced when there
 * is no entity at all (seqeval's `max()` over no names raises); strict mode without a scheme
 * detects it for every score, as seqeval's `classification_report` does (seqeval's `f1_score`
 * and friends silently fall back to default mode instead); token accuracy over no tag is NaN
 * (seqeval divides by zero).
 */
import { DataError } from '../../core/errors.js';
import { compareCodePoints } from '../data/tagged.js';

export type SeqevalMode = 'default' | 'strict';
/** seqeval's schemes (`seqeval.scheme`); strict mode needs one (or detects it as seqeval's `auto_detect`). */
export type SeqevalScheme = 'IOB1' | 'IOB2' | 'IOE1' | 'IOE2' | 'IOBES' | 'BILOU';
export type SeqevalAverage = 'micro' | 'macro' | 'weighted';

export interface SeqevalOptions {
  /** 'default' (seqeval's `mode=None`, conlleval-compatible) or 'strict'. Default 'default'. */
  mode?: SeqevalMode;
  /** Strict mode's scheme; when omitted, detected from the true tags as `classification_report` does. */
  scheme?: SeqevalScheme;
  /** Tags written `PER-B` instead of `B-PER`. Default false. */
  suffix?: boolean;
  /** The value of a score whose denominator is zero (seqeval's `zero_division`; its 'warn' is 0). Default 0. */
  zeroDivision?: 0 | 1;
}

export interface Scores {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true entities. */
  support: number;
}

export interface TypeScores extends Scores {
  type: string;
}

/** seqeval's `classification_report(..., output_dict=True)` plus its `accuracy_score`. */
export interface SeqevalReport {
  /** One row per entity type found in the true or the predicted tags, in seqeval's (code point) order. */
  types: TypeScores[];
  microAvg: Scores;
  macroAvg: Scores;
  weightedAvg: Scores;
  /** Token accuracy (`accuracy_score`): equal tags / tags; NaN when there are no tags. */
  accuracy: number;
  /** The mode and, in strict mode, the scheme that was used (detected or given). */
  mode: SeqevalMode;
  scheme?: SeqevalScheme;
}

/** Per-type entity counts, the sufficient statistics of every score. */
export interface EntityCounts {
  /** Entity types, sorted as seqeval sorts them (Python's code point order). */
  types: string[];
  truePositives: number[];
  predicted: number[];
  actual: number[];
  /** The strict scheme used, if any. */
  scheme?: SeqevalScheme;
}

// ---------------------------------------------------------------------------------------------
// Default mode: get_entities with start_of_chunk / end_of_chunk.

/** `(type, start, end)` with `end` inclusive, as seqeval's `get_entities` returns it. */
export type ChunkTuple = [type: string, start: number, end: number];

/**
 * seqeval's `get_entities(seq, suffix)`: chunks of a tag sequence, lenient about the scheme.
 * Nested sequences are flattened with an `O` after each one, so indices run over the
 * flattened list (sentence i's tokens are offset by Σ_{j<i} (len_j + 1)).
 */
export function getEntities(seq: readonly string[] | readonly (readonly string[])[], suffix = false): ChunkTuple[] {
  const flat: string[] = [];
  if (seq.some((item) => Array.isArray(item))) {
    for (const sentence of seq as readonly (readonly string[])[]) flat.push(...sentence, 'O');
  } else {
    flat.push(...(seq as readonly string[]));
  }
  flat.push('O');
  const chunks: ChunkTuple[] = [];
  let previousTag = 'O';
  let previousType = '';
  let beginOffset = 0;
  flat.forEach((chunk, i) => {
    const { tag, type } = splitChunk(chunk, suffix);
    if (endOfChunk(previousTag, tag, previousType, type)) chunks.push([previousType, beginOffset, i - 1]);
    if (startOfChunk(previousTag, tag, previousType, type)) beginOffset = i;
    previousTag = tag;
    previousType = type;
  });
  return chunks;
}

/** seqeval's `end_of_chunk`: did a chunk end between the previous and the current token? */
export function endOfChunk(previousTag: string, tag: string, previousType: string, type: string): boolean {
  if (previousTag === 'E' || previousTag === 'S') return true;
  if ((previousTag === 'B' || previousTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return previousTag !== 'O' && previousTag !== '.' && previousType !== type;
}

/** seqeval's `start_of_chunk`: did a chunk start between the previous and the current token? */
export function startOfChunk(previousTag: string, tag: string, previousType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((previousTag === 'E' || previousTag === 'S' || previousTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && previousType !== type;
}

/**
 * The tag letter and the type of a chunk label as `get_entities` splits it: prefix style
 * `chunk[0]`, `chunk[1:].split('-', 1)[-1] or '_'`; suffix style `chunk[-1]`,
 * `chunk[:-1].rsplit('-', 1)[0] or '_'` (Python indexes code points, so do we).
 */
function splitChunk(chunk: string, suffix: boolean): { tag: string; type: string } {
  if (chunk.length === 0) throw new DataError('a tag is the empty string');
  if (suffix) {
    const tag = lastCodePoint(chunk);
    const rest = chunk.slice(0, chunk.length - tag.length);
    const dash = rest.lastIndexOf('-');
    return { tag, type: (dash < 0 ? rest : rest.slice(0, dash)) || '_' };
  }
  const tag = firstCodePoint(chunk);
  const rest = chunk.slice(tag.length);
  const dash = rest.indexOf('-');
  return { tag, type: (dash < 0 ? rest : rest.slice(dash + 1)) || '_' };
}

function firstCodePoint(text: string): string {
  return String.fromCodePoint(text.codePointAt(0)!);
}

function lastCodePoint(text: string): string {
  const last = text.charCodeAt(text.length - 1);
  const isLowSurrogate = last >= 0xdc00 && last <= 0xdfff;
  const start = isLowSurrogate && text.length >= 2 && isHighSurrogate(text.charCodeAt(text.length - 2)) ? text.length - 2 : text.length - 1;
  return text.slice(start);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

// ---------------------------------------------------------------------------------------------
// Strict mode: seqeval.scheme's Token patterns and Tokens.entities.

type Prefix = 'I' | 'O' | 'B' | 'E' | 'S' | 'U' | 'L';
type TagCondition = 'SAME' | 'DIFF' | 'ANY';
/** (previous prefixes, current prefixes, tag condition); '*' is seqeval's Prefix.ANY. */
type Pattern = readonly [previous: string, current: string, condition: TagCondition];

interface SchemeDefinition {
  allowed: string;
  start: readonly Pattern[];
  inside: readonly Pattern[];
  end: readonly Pattern[];
}

const PREFIXES: ReadonlySet<string> = new Set(['I', 'O', 'B', 'E', 'S', 'U', 'L']);
const ANY = 'IOBESUL';

/** The patterns of `seqeval/scheme.py`, verbatim. */
const SCHEMES: Readonly<Record<SeqevalScheme, SchemeDefinition>> = {
  IOB1: {
    allowed: 'IOB',
    start: [['O', 'I', 'ANY'], ['I', 'I', 'DIFF'], ['B', 'I', 'ANY'], ['I', 'B', 'SAME'], ['B', 'B', 'SAME']],
    inside: [['B', 'I', 'SAME'], ['I', 'I', 'SAME']],
    end: [['I', 'I', 'DIFF'], ['I', 'O', 'ANY'], ['I', 'B', 'ANY'], ['B', 'O', 'ANY'], ['B', 'I', 'DIFF'], ['B', 'B', 'SAME']],
  },
  IOE1: {
    allowed: 'IOE',
    start: [['O', 'I', 'ANY'], ['I', 'I', 'DIFF'], ['E', 'I', 'ANY'], ['E', 'E', 'SAME']],
    inside: [['I', 'I', 'SAME'], ['I', 'E', 'SAME']],
    end: [['I', 'I', 'DIFF'], ['I', 'O', 'ANY'], ['I', 'E', 'DIFF'], ['E', 'I', 'SAME'], ['E', 'E', 'SAME']],
  },
  IOB2: {
    allowed: 'IOB',
    start: [[ANY, 'B', 'ANY']],
    inside: [['B', 'I', 'SAME'], ['I', 'I', 'SAME']],
    end: [['I', 'O', 'ANY'], ['I', 'I', 'DIFF'], ['I', 'B', 'ANY'], ['B', 'O', 'ANY'], ['B', 'I', 'DIFF'], ['B', 'B', 'ANY']],
  },
  IOE2: {
    allowed: 'IOE',
    start: [['O', 'I', 'ANY'], ['O', 'E', 'ANY'], ['E', 'I', 'ANY'], ['E', 'E', 'ANY'], ['I', 'I', 'DIFF'], ['I', 'E', 'DIFF']],
    inside: [['I', 'E', 'SAME'], ['I', 'I', 'SAME']],
    end: [['E', ANY, 'ANY']],
  },
  IOBES: {
    allowed: 'IOBES',
    start: [[ANY, 'B', 'ANY'], [ANY, 'S', 'ANY']],
    inside: [['B', 'I', 'SAME'], ['B', 'E', 'SAME'], ['I', 'I', 'SAME'], ['I', 'E', 'SAME']],
    end: [['S', ANY, 'ANY'], ['E', ANY, 'ANY']],
  },
  BILOU: {
    allowed: 'BILOU',
    start: [[ANY, 'B', 'ANY'], [ANY, 'U', 'ANY']],
    inside: [['B', 'I', 'SAME'], ['B', 'L', 'SAME'], ['I', 'I', 'SAME'], ['I', 'L', 'SAME']],
    end: [['U', ANY, 'ANY'], ['L', ANY, 'ANY']],
  },
};

interface SchemeToken {
  text: string;
  prefix: Prefix;
  /** seqeval's `Token.tag`: the label without its prefix, `strip('-')`ed, or '_'. */
  type: string;
}

/** seqeval's `Token(token, suffix)`: the prefix letter and the type (`tag.strip('-') or '_'`). */
function parseSchemeToken(text: string, suffix: boolean, where: string): SchemeToken {
  if (text.length === 0) throw new DataError(`${where}: a tag is the empty string`);
  const letter = suffix ? lastCodePoint(text) : firstCodePoint(text);
  if (!PREFIXES.has(letter)) throw new DataError(`${where}: "${text}" has no I/O/B/E/S/U/L ${suffix ? 'suffix' : 'prefix'}`);
  const rest = suffix ? text.slice(0, text.length - letter.length) : text.slice(letter.length);
  return { text, prefix: letter as Prefix, type: stripDashes(rest) || '_' };
}

function stripDashes(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text[start] === '-') start++;
  while (end > start && text[end - 1] === '-') end--;
  return text.slice(start, end);
}

function matches(patterns: readonly Pattern[], previous: SchemeToken, current: SchemeToken): boolean {
  return patterns.some(
    ([previousPrefixes, currentPrefixes, condition]) =>
      previousPrefixes.includes(previous.prefix) &&
      currentPrefixes.includes(current.prefix) &&
      (condition === 'ANY' || (condition === 'SAME') === (previous.type === current.type)),
  );
}

/** An entity as seqeval's `Entity`: sentence index, type, start, and `end` exclusive. */
export interface Entity {
  sentence: number;
  type: string;
  start: number;
  end: number;
}

/** seqeval's `Tokens(tokens, scheme, suffix, sent_id).entities` for one sentence. */
export function sentenceEntities(tags: readonly string[], scheme: SeqevalScheme, options: { suffix?: boolean; sentence?: number } = {}): Entity[] {
  const definition = SCHEMES[scheme];
  const suffix = options.suffix ?? false;
  const sentence = options.sentence ?? 0;
  const outside = parseSchemeToken('O', suffix, '');
  const tokens = tags.map((tag, index) => parseSchemeToken(tag, suffix, `sentence ${sentence + 1}, token ${index + 1}`));
  const extended = [...tokens, outside];
  const entities: Entity[] = [];
  // The loop of Tokens.entities, including where it resumes after a chunk that did not end well.
  let i = 0;
  let previous = outside;
  while (i < extended.length) {
    const token = extended[i]!;
    if (!definition.allowed.includes(token.prefix)) {
      throw new DataError(`sentence ${sentence + 1}, token ${i + 1}: "${token.text}" is not allowed in ${scheme} (prefixes ${[...definition.allowed].join(', ')})`);
    }
    if (matches(definition.start, previous, token)) {
      const end = forward(extended, tokens.length, definition, i + 1, token);
      if (matches(definition.end, extended[end - 1]!, extended[end]!)) entities.push({ sentence, type: token.type, start: i, end });
      i = end;
    } else {
      i += 1;
    }
    previous = extended[i - 1]!;
  }
  return entities;
}

/** `Tokens._forward`: the first index from `start` that is not inside the chunk. */
function forward(extended: readonly SchemeToken[], tokenCount: number, definition: SchemeDefinition, start: number, first: SchemeToken): number {
  let previous = first;
  for (let i = start; i < extended.length; i++) {
    const token = extended[i]!;
    if (!matches(definition.inside, previous, token)) return i;
    previous = token;
  }
  return tokenCount - 1;
}

/**
 * seqeval's `auto_detect(sequences, suffix)`: the scheme whose exact prefix set the tags use
 * (IOB2, IOE2, IOBES or BILOU); throws for any other set, e.g. `{I, O}` (IOB1 is never detected).
 */
export function autoDetectScheme(sequences: readonly (readonly string[])[], suffix = false): SeqevalScheme {
  const prefixes = new Set<string>();
  sequences.forEach((tags, sentence) =>
    tags.forEach((tag, index) => prefixes.add(parseSchemeToken(tag, suffix, `sentence ${sentence + 1}, token ${index + 1}`).prefix)),
  );
  const used = [...prefixes].sort().join('');
  const candidates: [SeqevalScheme, string[]][] = [
    ['IOB2', ['BIO', 'BI', 'BO', 'B']],
    ['IOE2', ['EIO', 'EI', 'EO', 'E']],
    ['IOBES', ['BEIOS', 'BEIS', 'BEIO', 'BEOS', 'BEI', 'BES', 'BEO', 'BE', 'S']],
    ['BILOU', ['BILOU', 'BILU', 'BILO', 'BLOU', 'BIL', 'BLU', 'BLO', 'BL', 'U']],
  ];
  for (const [scheme, sets] of candidates) if (sets.includes(used)) return scheme;
  throw new DataError(`cannot detect the tagging scheme: the tags use the prefixes {${[...prefixes].sort().join(', ')}}, which is none of IOB2, IOE2, IOBES or BILOU`);
}

// ---------------------------------------------------------------------------------------------
// Counting and scoring.

/**
 * seqeval's `check_consistent_length`: at least one sentence (seqeval raises "without list of
 * list" for none), as many sentences, and tags per sentence, in both.
 */
export function checkConsistentLength(yTrue: readonly (readonly string[])[], yPred: readonly (readonly string[])[]): void {
  if (yTrue.length === 0 && yPred.length === 0) throw new DataError('no sentences to evaluate', { field: 'predictions' });
  if (yTrue.length !== yPred.length) {
    throw new DataError(`${yTrue.length} true sentences but ${yPred.length} predicted`, { field: 'predictions' });
  }
  yTrue.forEach((tags, index) => {
    if (tags.length !== yPred[index]!.length) {
      throw new DataError(`sentence ${index + 1} has ${tags.length} true tags but ${yPred[index]!.length} predicted`, { field: 'predictions' });
    }
  });
}

/** Per-type true positives, predicted and true entity counts, in default or strict mode. */
export function countEntities(yTrue: readonly (readonly string[])[], yPred: readonly (readonly string[])[], options: SeqevalOptions = {}): EntityCounts {
  checkConsistentLength(yTrue, yPred);
  const suffix = options.suffix ?? false;
  const keysByType = (sentences: readonly (readonly string[])[], scheme: SeqevalScheme | undefined): Map<string, Set<string>> => {
    const byType = new Map<string, Set<string>>();
    const add = (type: string, key: string) => {
      let keys = byType.get(type);
      if (keys === undefined) byType.set(type, (keys = new Set()));
      keys.add(key);
    };
    if (scheme === undefined) {
      for (const [type, start, end] of getEntities(sentences, suffix)) add(type, `${start},${end}`);
    } else {
      sentences.forEach((tags, sentence) => {
        for (const entity of sentenceEntities(tags, scheme, { suffix, sentence })) add(entity.type, `${sentence},${entity.start},${entity.end}`);
      });
    }
    return byType;
  };
  const scheme = (options.mode ?? 'default') === 'strict' ? (options.scheme ?? autoDetectScheme(yTrue, suffix)) : undefined;
  const trueEntities = keysByType(yTrue, scheme);
  const predictedEntities = keysByType(yPred, scheme);
  const types = [...new Set([...trueEntities.keys(), ...predictedEntities.keys()])].sort(compareCodePoints);
  const counts: EntityCounts = { types, truePositives: [], predicted: [], actual: [] };
  if (scheme !== undefined) counts.scheme = scheme;
  for (const type of types) {
    const actual = trueEntities.get(type) ?? new Set<string>();
    const predicted = predictedEntities.get(type) ?? new Set<string>();
    let truePositives = 0;
    for (const key of predicted) if (actual.has(key)) truePositives++;
    counts.truePositives.push(truePositives);
    counts.predicted.push(predicted.size);
    counts.actual.push(actual.size);
  }
  return counts;
}

export interface PerTypeScores {
  precision: number[];
  recall: number[];
  f: number[];
  support: number[];
}

/**
 * seqeval's `_precision_recall_fscore_support` from counts: per type (`average` null) or averaged.
 * `beta` is the F-measure's β (default 1; Infinity gives recall, as seqeval).
 */
export function scoresFromCounts(counts: EntityCounts, average: SeqevalAverage, options?: { zeroDivision?: 0 | 1; beta?: number }): Scores;
export function scoresFromCounts(counts: EntityCounts, average: null, options?: { zeroDivision?: 0 | 1; beta?: number }): PerTypeScores;
export function scoresFromCounts(
  counts: EntityCounts,
  average: SeqevalAverage | null,
  options: { zeroDivision?: 0 | 1; beta?: number } = {},
): Scores | PerTypeScores {
  const zeroDivision = options.zeroDivision ?? 0;
  const beta = options.beta ?? 1;
  if (!(beta >= 0)) throw new DataError(`beta must be >= 0 in the F-beta score, got ${beta}`, { field: 'beta' });
  let truePositives = counts.truePositives;
  let predicted = counts.predicted;
  let actual = counts.actual;
  if (average === 'micro') {
    truePositives = [numpySum(truePositives)];
    predicted = [numpySum(predicted)];
    actual = [numpySum(actual)];
  }
  const divide = (numerators: number[], denominators: number[]) =>
    numerators.map((numerator, i) => (denominators[i] === 0 ? zeroDivision : numerator / denominators[i]!));
  const precision = divide(truePositives, predicted);
  const recall = divide(truePositives, actual);
  const beta2 = beta ** 2;
  const f =
    beta === Infinity
      ? recall
      : precision.map((p, i) => {
          const r = recall[i]!;
          const denominator = beta2 * p + r;
          // seqeval: (1 + beta2) * precision * recall / denom, with a zero denom replaced by 1.
          return ((1 + beta2) * p * r) / (denominator === 0 ? 1 : denominator);
        });
  if (average === null) return { precision, recall, f, support: actual };
  const support = actual.reduce((sum, value) => sum + value, 0);
  if (average === 'weighted') {
    const weightSum = numpySum(actual);
    if (weightSum === 0) {
      const nothingPredicted = numpySum(predicted) === 0;
      return { precision: nothingPredicted ? zeroDivision : 0, recall: zeroDivision, f1: nothingPredicted ? zeroDivision : 0, support };
    }
    const weighted = (values: number[]) => numpySum(values.map((value, i) => value * actual[i]!)) / weightSum;
    return { precision: weighted(precision), recall: weighted(recall), f1: weighted(f), support };
  }
  const mean = (values: number[]) => numpySum(values) / values.length;
  return { precision: mean(precision), recall: mean(recall), f1: mean(f), support };
}

/**
 * `np.add.reduce` over a contiguous float64 array: the identity 0 plus numpy's pairwise
 * summation (8 accumulators for blocks up to 128, halves above), so averages equal numpy's bits.
 */
export function numpySum(values: readonly number[]): number {
  return 0 + pairwiseSum(values, 0, values.length);
}

function pairwiseSum(values: readonly number[], offset: number, count: number): number {
  if (count < 8) {
    let sum = -0;
    for (let i = 0; i < count; i++) sum += values[offset + i]!;
    return sum;
  }
  if (count <= 128) {
    const partial = values.slice(offset, offset + 8);
    let i = 8;
    for (; i < count - (count % 8); i += 8) for (let j = 0; j < 8; j++) partial[j]! += values[offset + i + j]!;
    let sum = partial[0]! + partial[1]! + (partial[2]! + partial[3]!) + (partial[4]! + partial[5]! + (partial[6]! + partial[7]!));
    for (; i < count; i++) sum += values[offset + i]!;
    return sum;
  }
  let half = Math.floor(count / 2);
  half -= half % 8;
  return pairwiseSum(values, offset, half) + pairwiseSum(values, offset + half, count - half);
}

// ---------------------------------------------------------------------------------------------
// The public scores.

/** seqeval's `accuracy_score`: equal tags over all tags (NaN when there are none). */
export function accuracyScore(yTrue: readonly (readonly string[])[], yPred: readonly (readonly string[])[]): number {
  checkConsistentLength(yTrue, yPred);
  let correct = 0;
  let total = 0;
  yTrue.forEach((tags, sentence) =>
    tags.forEach((tag, index) => {
      total++;
      if (tag === yPred[sentence]![index]) correct++;
    }),
  );
  return correct / total;
}

/** seqeval's `precision_recall_fscore_support` (default mode) or its v1 version (strict mode), averaged. */
export function precisionRecallFscoreSupport(
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
  options: SeqevalOptions & { average?: SeqevalAverage; beta?: number } = {},
): Scores {
  return scoresFromCounts(countEntities(yTrue, yPred, options), options.average ?? 'micro', options);
}

/** seqeval's `f1_score` (micro average by default, as seqeval). */
export function f1Score(yTrue: readonly (readonly string[])[], yPred: readonly (readonly string[])[], options: SeqevalOptions & { average?: SeqevalAverage } = {}): number {
  return precisionRecallFscoreSupport(yTrue, yPred, options).f1;
}

/** seqeval's `precision_score` (micro average by default). */
export function precisionScore(yTrue: readonly (readonly string[])[], yPred: readonly (readonly string[])[], options: SeqevalOptions & { average?: SeqevalAverage } = {}): number {
  return precisionRecallFscoreSupport(yTrue, yPred, options).precision;
}

/** seqeval's `recall_score` (micro average by default). */
export function recallScore(yTrue: readonly (readonly string[])[], yPred: readonly (readonly string[])[], options: SeqevalOptions & { average?: SeqevalAverage } = {}): number {
  return precisionRecallFscoreSupport(yTrue, yPred, options).recall;
}

/** seqeval's `classification_report(..., output_dict=True)` with the token accuracy. */
export function classificationReport(yTrue: readonly (readonly string[])[], yPred: readonly (readonly string[])[], options: SeqevalOptions = {}): SeqevalReport {
  const counts = countEntities(yTrue, yPred, options);
  const perType = scoresFromCounts(counts, null, options);
  const report: SeqevalReport = {
    types: counts.types.map((type, i) => ({
      type,
      precision: perType.precision[i]!,
      recall: perType.recall[i]!,
      f1: perType.f[i]!,
      support: perType.support[i]!,
    })),
    microAvg: scoresFromCounts(counts, 'micro', options),
    macroAvg: scoresFromCounts(counts, 'macro', options),
    weightedAvg: scoresFromCounts(counts, 'weighted', options),
    accuracy: accuracyScore(yTrue, yPred),
    mode: options.mode ?? 'default',
  };
  if (counts.scheme !== undefined) report.scheme = counts.scheme;
  return report;
}

/**
 * The text of seqeval's `classification_report(...)` (its StringReporter): right-aligned names
 * as wide as the longest (at least `weighted avg`), scores with `digits` decimals rounded as
 * Python's format rounds (half to even on exact ties such as 0.125), supports as integers.
 */
export function formatClassificationReport(report: SeqevalReport, digits = 2): string {
  const width = Math.max(...report.types.map((row) => codePointLength(row.type)), 'weighted avg'.length, digits);
  const cell = (text: string, size: number) => ' '.repeat(Math.max(0, size - codePointLength(text))) + text;
  const row = (name: string, scores: Scores) =>
    `${cell(name, width)} ` + [scores.precision, scores.recall, scores.f1].map((value) => ` ${cell(formatFixed(value, digits), 9)}`).join('') + ` ${cell(String(scores.support), 9)}`;
  const header = `${cell('', width)} ` + ['precision', 'recall', 'f1-score', 'support'].map((name) => ` ${cell(name, 9)}`).join('');
  const lines = [
    ...report.types.map((scores) => row(scores.type, scores)),
    '',
    row('micro avg', report.microAvg),
    row('macro avg', report.macroAvg),
    row('weighted avg', report.weightedAvg),
    '',
  ];
  return `${header}\n\n${lines.join('\n')}`;
}

function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/**
 * Python's `format(value, '.{digits}f')`: correctly rounded with ties to even. JavaScript's
 * toFixed rounds exact ties up, so a tie (the exact binary value ends in 5 right after the last
 * kept digit) is detected from a longer exact expansion and rounded to even instead.
 */
export function formatFixed(value: number, digits: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const rounded = value.toFixed(digits);
  const longer = Math.abs(value).toFixed(Math.min(100, digits + 30));
  const point = longer.indexOf('.');
  const tail = point < 0 ? '' : longer.slice(point + 1 + digits);
  if (!/^50*$/.test(tail)) return rounded;
  // An exact tie: toFixed rounded away from zero; keep the truncated value when its last digit is even.
  const truncated = (value < 0 ? '-' : '') + longer.slice(0, digits === 0 ? point : point + 1 + digits);
  const lastDigit = Number(truncated[truncated.length - 1]);
  return lastDigit % 2 === 0 ? truncated : rounded;
}
