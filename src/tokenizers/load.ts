/**
 * `loadTokenizer`: the right tokenizer for a checkpoint's tokenizer files, given as text.
 *
 * * `vocab.txt` → our WordPiece (`BertTokenizer`), settings from `tokenizer_config.json`,
 *   `special_tokens_map.json` and a BERT `tokenizer.json` beside it.
 * * no `vocab.txt`, but a `tokenizer.json` that is a plain BERT WordPiece pipeline → our
 *   WordPiece too (it is exactly what HF runs, and `@huggingface/tokenizers` differs from HF on
 *   such pipelines — see wordpiece.ts).
 * * any other `tokenizer.json` → `@huggingface/tokenizers` (RoBERTa's byte-level BPE, Unigram …).
 * * `vocab.json` + `merges.txt` (older RoBERTa checkpoints) → the byte-level BPE tokenizer.json
 *   HF's converter makes of them, run by `@huggingface/tokenizers`.
 */
import { ConfigError } from '../core/errors.js';
import { familyOf, specialTokenConventions } from './families.js';
import { checkpointError, fileLabel, parseJsonObject, readModelMaxLength, readSpecialTokens, readVocabObject } from './files.js';
import type { NamedSpecialTokens } from './files.js';
import { applyTokenizerConfig, byteLevelBpeJson, checkTokenizerJson } from './jsonFiles.js';
import { JsonTokenizer } from './tokenizerJson.js';
import type { Tokenizer, TokenizerFiles } from './types.js';
import { WordPieceTokenizer } from './wordpiece.js';
import { readWordPieceFiles, wordPieceIncompatibility } from './wordpieceFiles.js';

/**
 * The tokenizer of a checkpoint from the text of its tokenizer files. `modelType` is
 * config.json's `model_type` (`bert`, `distilbert`, `electra`, `roberta`, or another family,
 * whose special tokens are then read from the files or guessed as BERT's or RoBERTa's);
 * `source` (a directory or hub id) prefixes the file names in errors. Missing, malformed or
 * inconsistent files are a CheckpointError naming the file and the problem.
 */
export function loadTokenizer(files: TokenizerFiles, modelType: string, source: string): Tokenizer {
  if (files['vocab.txt'] !== undefined) return loadWordPiece(files, modelType, source, 'vocab.txt');
  const tokenizerJsonText = files['tokenizer.json'];
  if (tokenizerJsonText !== undefined) {
    const file = fileLabel(source, 'tokenizer.json');
    const json = parseJsonObject(file, tokenizerJsonText);
    if (wordPieceIncompatibility(json) === undefined) return loadWordPiece(files, modelType, source, 'tokenizer.json');
    return loadTokenizerJson(files, json, modelType, source);
  }
  if (files['vocab.json'] !== undefined || files['merges.txt'] !== undefined) return loadByteLevelBpe(files, modelType, source);
  throw checkpointError(source, 'no tokenizer files (expected vocab.txt, tokenizer.json, or vocab.json with merges.txt)');
}

function loadWordPiece(files: TokenizerFiles, modelType: string, source: string, vocabName: 'vocab.txt' | 'tokenizer.json'): WordPieceTokenizer {
  const { vocab, options } = readWordPieceFiles(files, source, familyOf(modelType)?.tokenizerClass ?? 'BertTokenizer');
  try {
    return WordPieceTokenizer.fromVocab(vocab, options);
  } catch (error) {
    if (error instanceof ConfigError) throw checkpointError(fileLabel(source, vocabName), error.detail);
    throw error;
  }
}

interface TokenizerConfigFiles {
  config: Record<string, unknown>;
  configFile: string;
  named: NamedSpecialTokens;
  /** The original texts of tokenizer_config.json and special_tokens_map.json, written back by `files()`. */
  texts: Record<string, string>;
}

function readConfigFiles(files: TokenizerFiles, source: string): TokenizerConfigFiles {
  const configFile = fileLabel(source, 'tokenizer_config.json');
  const texts: Record<string, string> = {};
  let config: Record<string, unknown> = {};
  let named: NamedSpecialTokens = {};
  const configText = files['tokenizer_config.json'];
  if (configText !== undefined) {
    config = parseJsonObject(configFile, configText);
    named = readSpecialTokens(configFile, config);
    texts['tokenizer_config.json'] = configText;
  }
  const mapText = files['special_tokens_map.json'];
  if (mapText !== undefined) {
    const mapFile = fileLabel(source, 'special_tokens_map.json');
    // special_tokens_map.json wins over tokenizer_config.json, as in HF.
    named = { ...named, ...readSpecialTokens(mapFile, parseJsonObject(mapFile, mapText)) };
    texts['special_tokens_map.json'] = mapText;
  }
  return { config, configFile, named, texts };
}

function loadTokenizerJson(files: TokenizerFiles, json: Record<string, unknown>, modelType: string, source: string): JsonTokenizer {
  const file = fileLabel(source, 'tokenizer.json');
  const { config, configFile, named, texts } = readConfigFiles(files, source);
  const checked = checkTokenizerJson(file, json);
  const effective = applyTokenizerConfig(checked, config, configFile);
  const family = familyOf(modelType);
  return new JsonTokenizer({
    tokenizerJson: effective,
    tokenizerConfig: config,
    modelType,
    file,
    namedSpecialTokens: named,
    familyTrimsOffsets: family?.trimOffsets ?? false,
    modelMaxLength: readModelMaxLength(configFile, config),
    files: { ...texts, 'tokenizer.json': effective === checked ? files['tokenizer.json']! : JSON.stringify(effective) },
    tokenizerClass: family?.tokenizerClass ?? 'PreTrainedTokenizerFast',
  });
}

function loadByteLevelBpe(files: TokenizerFiles, modelType: string, source: string): JsonTokenizer {
  const vocabFile = fileLabel(source, 'vocab.json');
  const mergesFile = fileLabel(source, 'merges.txt');
  const vocabText = files['vocab.json'];
  const mergesText = files['merges.txt'];
  if (vocabText === undefined) throw checkpointError(vocabFile, 'missing: merges.txt needs the vocab.json of the same BPE (or give a tokenizer.json)');
  if (mergesText === undefined) throw checkpointError(mergesFile, 'missing: a byte-level BPE needs merges.txt beside vocab.json (or give a tokenizer.json)');
  const { config, configFile, named, texts } = readConfigFiles(files, source);
  const vocab = readVocabObject(vocabFile, 'vocab', parseJsonObject(vocabFile, vocabText));
  const conventions = specialTokenConventions(modelType);
  const convention = conventions.find((names) => vocab.has(names.cls_token) && vocab.has(names.sep_token)) ?? conventions[0]!;
  const names = { ...convention, ...withoutAdditional(named) };
  const flag = (key: string, fallback: boolean): boolean => {
    const value = config[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') throw checkpointError(configFile, `must be true or false, got ${JSON.stringify(value)}`, key);
    return value;
  };
  // RobertaTokenizer's defaults: no prefix space, trimmed offsets.
  const json = byteLevelBpeJson({ vocabFile, vocab, mergesFile, mergesText }, names, { addPrefixSpace: flag('add_prefix_space', false), trimOffsets: flag('trim_offsets', true) });
  const family = familyOf(modelType);
  return new JsonTokenizer({
    tokenizerJson: json,
    tokenizerConfig: config,
    modelType,
    file: vocabFile,
    namedSpecialTokens: named,
    familyTrimsOffsets: true,
    modelMaxLength: readModelMaxLength(configFile, config),
    files: { ...texts, 'vocab.json': vocabText, 'merges.txt': mergesText, 'tokenizer.json': JSON.stringify(json) },
    tokenizerClass: family?.tokenizerClass ?? 'RobertaTokenizer',
  });
}

function withoutAdditional(named: NamedSpecialTokens): Omit<NamedSpecialTokens, 'additional'> {
  const { additional: _additional, ...rest } = named;
  return rest;
}
