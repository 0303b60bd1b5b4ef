/**
 * loadTokenizer: which tokenizer a checkpoint's files make, and bad or hostile files refused
 * with a CheckpointError that names the file (and field or line) and the problem.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError } from '../../src/core/errors.js';
import { JsonTokenizer, loadTokenizer, WordPieceTokenizer } from '../../src/tokenizers/index.js';
import type { TokenizerFiles } from '../../src/tokenizers/index.js';
import { BERT_VOCAB, bertTokenizerJson, tinyBpeMergesTxt, tinyBpeVocab, tinyRobertaTokenizerJson } from './fixtures.js';

const VOCAB_TXT = BERT_VOCAB.join('\n') + '\n';
const ROBERTA_JSON = tinyRobertaTokenizerJson();

function expectError(files: TokenizerFiles, pattern: RegExp, modelType = 'roberta'): void {
  assert.throws(
    () => loadTokenizer(files, modelType, '/ckpt'),
    (error: Error) => {
      assert.ok(error instanceof CheckpointError, `${error.name}: ${error.message}`);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

/** The RoBERTa tokenizer.json with `change` applied to a copy. */
function robertaWith(change: (json: Record<string, any>) => void): TokenizerFiles {
  const json = structuredClone(ROBERTA_JSON) as Record<string, any>;
  change(json);
  return { 'tokenizer.json': JSON.stringify(json) };
}

test('the files decide the tokenizer', () => {
  assert.ok(loadTokenizer({ 'vocab.txt': VOCAB_TXT }, 'bert', '/ckpt') instanceof WordPieceTokenizer);
  assert.ok(loadTokenizer({ 'vocab.txt': VOCAB_TXT }, 'distilbert', '/ckpt') instanceof WordPieceTokenizer);
  assert.ok(loadTokenizer({ 'tokenizer.json': JSON.stringify(bertTokenizerJson()) }, 'electra', '/ckpt') instanceof WordPieceTokenizer, 'a plain BERT tokenizer.json');
  assert.ok(loadTokenizer({ 'tokenizer.json': JSON.stringify(ROBERTA_JSON) }, 'roberta', '/ckpt') instanceof JsonTokenizer);
  assert.ok(loadTokenizer({ 'vocab.json': JSON.stringify(tinyBpeVocab()), 'merges.txt': tinyBpeMergesTxt() }, 'roberta', '/ckpt') instanceof JsonTokenizer);
  // A BERT tokenizer.json our WordPiece would not reproduce (a non-special added token) goes to the library.
  const withAddedWord = bertTokenizerJson({ added_tokens: [{ id: 3, content: '[SEP]', special: true }, { id: 10, content: 'ab', special: false }] });
  const library = loadTokenizer({ 'tokenizer.json': JSON.stringify(withAddedWord) }, 'bert', '/ckpt');
  assert.ok(library instanceof JsonTokenizer);
  assert.deepEqual(library.encode('Ab ab', { maxLength: 8 }).tokens, ['[CLS]', 'Ab', 'ab', '[SEP]'], 'the family template');
  assert.equal(library.special.cls.token, '[CLS]');
});

test('special tokens of an unknown family come from the files, else BERT\'s or RoBERTa\'s, whichever the vocabulary has', () => {
  assert.equal(loadTokenizer({ 'tokenizer.json': JSON.stringify(ROBERTA_JSON) }, 'xlm-roberta', '/ckpt').special.cls.token, '<s>');
  const mpnetLike = loadTokenizer(
    { 'vocab.txt': ['<s>', '<pad>', '</s>', '[UNK]', 'hello', '<mask>'].join('\n'), 'special_tokens_map.json': JSON.stringify({ cls_token: '<s>', sep_token: '</s>', pad_token: '<pad>', mask_token: '<mask>' }) },
    'mpnet',
    '/ckpt',
  );
  assert.deepEqual(mpnetLike.encode('hello <mask>', { maxLength: 8 }).tokens, ['<s>', 'hello', '<mask>', '</s>']);
  // special_tokens_map.json wins over tokenizer_config.json, which wins over the template and the family.
  const renamed = loadTokenizer(
    { 'tokenizer.json': JSON.stringify(ROBERTA_JSON), 'tokenizer_config.json': '{"pad_token": "</s>", "mask_token": "<unk>"}', 'special_tokens_map.json': '{"mask_token": {"content": "<mask>", "lstrip": true}}' },
    'roberta',
    '/ckpt',
  );
  assert.equal(renamed.special.pad.token, '</s>');
  assert.equal(renamed.special.mask?.token, '<mask>');
});

test('missing files', () => {
  expectError({}, /^\/ckpt: no tokenizer files \(expected vocab\.txt, tokenizer\.json, or vocab\.json with merges\.txt\)$/);
  expectError({ 'vocab.json': JSON.stringify(tinyBpeVocab()) }, /^\/ckpt\/merges\.txt: missing: a byte-level BPE needs merges\.txt beside vocab\.json/);
  expectError({ 'merges.txt': tinyBpeMergesTxt() }, /^\/ckpt\/vocab\.json: missing/);
});

test('malformed tokenizer.json', () => {
  expectError({ 'tokenizer.json': '{not json' }, /^\/ckpt\/tokenizer\.json: not valid JSON/);
  expectError({ 'tokenizer.json': '[1, 2]' }, /^\/ckpt\/tokenizer\.json: expected a JSON object$/);
  expectError(robertaWith((json) => delete json.model), /tokenizer\.json, field "model": must be an object/);
  expectError(robertaWith((json) => (json.model.type = 'WordLevel')), /field "model\.type": unsupported model type "WordLevel"/);
  expectError(robertaWith((json) => (json.normalizer = 'lowercase')), /field "normalizer": must be an object or null/);
  expectError(robertaWith((json) => (json.decoder = {})), /field "decoder": needs a "type" string/);
  expectError(robertaWith((json) => (json.pre_tokenizer = { type: 'Sequence', pretokenizers: [json.pre_tokenizer, 7] })), /field "pre_tokenizer\.pretokenizers\[1\]": must be an object or null/);
  expectError(robertaWith((json) => (json.model.vocab = [])), /field "model\.vocab": must be an object of token → id/);
  expectError(robertaWith((json) => (json.model.vocab.hello = -1)), /field "model\.vocab": token "hello" has id -1/);
  expectError(robertaWith((json) => (json.model.vocab.hello = 1.5)), /token "hello" has id 1\.5/);
  expectError(robertaWith((json) => (json.model.vocab.hello = '7')), /token "hello" has id "7"/);
  expectError(robertaWith((json) => (json.model.vocab.hello = 2 ** 40)), /token "hello" has id 1099511627776 \(expected an integer in 0\.\.16777215\)/);
  expectError(robertaWith((json) => (json.model.vocab.hello = 0)), /tokens "<s>" and "hello" share id 0/);
  expectError(robertaWith((json) => json.model.merges.push('Ġ zebra')), /field "model\.merges": merge 31 \("Ġ zebra"\): "zebra" is not in the vocabulary/);
  expectError(robertaWith((json) => json.model.merges.push('a b c')), /merge 31 must be two tokens, got "a b c"/);
  expectError(robertaWith((json) => (json.model.merges = 'a b')), /field "model\.merges": must be a list/);
  expectError(robertaWith((json) => (json.added_tokens = {})), /field "added_tokens": must be a list/);
  expectError(robertaWith((json) => json.added_tokens.push({ id: 3 })), /field "added_tokens\[5\]": must be an object with a non-empty "content" string/);
  expectError(robertaWith((json) => json.added_tokens.push({ id: -3, content: 'x' })), /field "added_tokens\[5\]": token "x" has id -3/);
  expectError(robertaWith((json) => (json.added_tokens[0].special = 'yes')), /field "added_tokens\[0\]\.special": must be true or false/);
  expectError(robertaWith((json) => (json.post_processor.cls = ['<s>', 5])), /field "post_processor\.cls": special token "<s>" has id 5, but the vocabulary gives 0/);
  expectError(robertaWith((json) => (json.post_processor.cls = ['<nope>', 5])), /special token "<nope>" has id 5, but the vocabulary gives null/);
  expectError(robertaWith((json) => (json.post_processor = { type: 'Magic' })), /tokenizer\.json: @huggingface\/tokenizers cannot run it: Unknown PostProcessor type: Magic/);
  expectError(robertaWith((json) => (json.post_processor = { type: 'Sequence', processors: 'x' })), /field "post_processor\.processors": must be a list/);
  expectError(
    robertaWith((json) => (json.post_processor = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>' } }, { Sequence: { id: 'A' } }], special_tokens: {} })),
    /field "post_processor\.special_tokens": special token "<s>" of the template is missing/,
  );
  // What the library itself refuses comes back as a CheckpointError naming the file.
  expectError(robertaWith((json) => (json.pre_tokenizer = { type: 'Magic' })), /^\/ckpt\/tokenizer\.json: @huggingface\/tokenizers cannot run it: Unknown PreTokenizer type: Magic$/);
  expectError(robertaWith((json) => (json.normalizer = { type: 'Replace', pattern: { Regex: '(' }, content: '' })), /tokenizer\.json: @huggingface\/tokenizers cannot run it/);
  const withoutPad = (json: Record<string, any>) => {
    delete json.model.vocab['<pad>'];
    json.added_tokens = json.added_tokens.filter((token: { content: string }) => token.content !== '<pad>');
  };
  expectError(robertaWith(withoutPad), /tokenizer\.json, field "pad_token": the pad token "<pad>" is not in the vocabulary/);
});

test('malformed Unigram and WordPiece models in a tokenizer.json', () => {
  const unigram = (model: Record<string, unknown>) => ({ 'tokenizer.json': JSON.stringify({ ...ROBERTA_JSON, post_processor: null, pre_tokenizer: null, model: { type: 'Unigram', ...model } }) });
  expectError(unigram({ vocab: [] }), /field "model\.vocab": must be a non-empty list of \[piece, score\]/);
  expectError(unigram({ vocab: [['a', 'high']] }), /field "model\.vocab\[0\]": must be \[piece, score\]/);
  expectError(unigram({ vocab: [['<unk>', 0]], unk_id: 4 }), /field "model\.unk_id": must be an index into model\.vocab/);
  const wordPiece = bertTokenizerJson({ model: { unk_token: 7 } });
  expectError({ 'tokenizer.json': JSON.stringify({ ...wordPiece, normalizer: { type: 'NFC' } }) }, /field "model\.unk_token": must be a string/, 'bert');
});

test('malformed configuration files', () => {
  const base = { 'tokenizer.json': JSON.stringify(ROBERTA_JSON) };
  expectError({ ...base, 'tokenizer_config.json': '{' }, /^\/ckpt\/tokenizer_config\.json: not valid JSON/);
  expectError({ ...base, 'tokenizer_config.json': '"bert"' }, /tokenizer_config\.json: expected a JSON object/);
  expectError({ ...base, 'tokenizer_config.json': '{"add_prefix_space": "yes"}' }, /tokenizer_config\.json, field "add_prefix_space": must be true or false, got "yes"/);
  expectError({ ...base, 'tokenizer_config.json': '{"model_max_length": -5}' }, /field "model_max_length": must be a positive integer, got -5/);
  expectError({ ...base, 'special_tokens_map.json': '{"cls_token": 5}' }, /special_tokens_map\.json, field "cls_token": must be a string or an object with a "content" string/);
  expectError({ ...base, 'special_tokens_map.json': '{"additional_special_tokens": "<x>"}' }, /field "additional_special_tokens": must be a list/);
  expectError({ 'vocab.txt': VOCAB_TXT, 'tokenizer_config.json': '{"do_lower_case": "yes"}' }, /tokenizer_config\.json, field "do_lower_case": must be true or false/, 'bert');
  expectError({ 'vocab.txt': VOCAB_TXT, 'tokenizer_config.json': '{"never_split": "x"}' }, /field "never_split": must be a list of strings/, 'bert');
});

test('malformed vocab.txt, and vocab.txt beside a tokenizer.json that disagrees', () => {
  expectError({ 'vocab.txt': '' }, /^\/ckpt\/vocab\.txt: empty vocabulary$/, 'bert');
  expectError({ 'vocab.txt': '[PAD]\n[CLS]\n[SEP]\n' }, /^\/ckpt\/vocab\.txt: the unknown token "\[UNK\]" is not in the vocabulary$/, 'bert');
  expectError({ 'vocab.txt': VOCAB_TXT, 'tokenizer.json': JSON.stringify(bertTokenizerJson()) }, /vocab\.txt: vocab\.txt and tokenizer\.json have different vocabularies/, 'bert');
  expectError(
    { 'vocab.txt': VOCAB_TXT, 'tokenizer.json': JSON.stringify(ROBERTA_JSON) },
    /tokenizer\.json: is not a BERT WordPiece tokenizer \(its pre_tokenizer is "ByteLevel", not BertPreTokenizer\) while vocab\.txt is/,
    'bert',
  );
  expectError({ 'tokenizer.json': JSON.stringify(bertTokenizerJson({ model: { vocab: { '[UNK]': 0, a: 2, b: 2 } } })) }, /field "model\.vocab": tokens "a" and "b" share id 2/, 'bert');
});

test('malformed vocab.json and merges.txt', () => {
  const vocab = JSON.stringify(tinyBpeVocab());
  expectError({ 'vocab.json': '{', 'merges.txt': tinyBpeMergesTxt() }, /^\/ckpt\/vocab\.json: not valid JSON/);
  expectError({ 'vocab.json': '{"a": "b"}', 'merges.txt': '' }, /^\/ckpt\/vocab\.json, field "vocab": token "a" has id "b"/);
  expectError({ 'vocab.json': vocab, 'merges.txt': '#version: 0.2\nĠ t\nh e x\n' }, /^\/ckpt\/merges\.txt, line 3: expected two tokens separated by one space, got "h e x"$/);
  expectError({ 'vocab.json': vocab, 'merges.txt': '#version: 0.2\nĠ t\nĠ zebra\n' }, /^\/ckpt\/merges\.txt, line 3: "zebra" \(of the merge "Ġ zebra"\) is not in vocab\.json$/);
  const noCls = tinyBpeVocab();
  delete noCls['<s>'];
  expectError({ 'vocab.json': JSON.stringify(noCls), 'merges.txt': '' }, /^\/ckpt\/vocab\.json: the token "<s>" is not in the vocabulary/);
});

test('hostile token names are plain tokens: no prototype pollution, no special meaning', () => {
  const json = structuredClone(ROBERTA_JSON) as Record<string, any>;
  const vocab = json.model.vocab as Record<string, number>;
  const next = Object.keys(vocab).length;
  Object.defineProperty(vocab, '__proto__', { value: next, enumerable: true, configurable: true, writable: true });
  (vocab as Record<string, unknown>)['constructor'] = next + 1;
  const text = JSON.stringify(json);
  assert.match(text, /"__proto__":\d+/);
  const tokenizer = loadTokenizer({ 'tokenizer.json': text }, 'roberta', '/ckpt');
  assert.equal(tokenizer.tokenToId('__proto__'), next);
  assert.equal(tokenizer.tokenToId('constructor'), next + 1);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
  const wordPiece = loadTokenizer({ 'vocab.txt': `${VOCAB_TXT}__proto__\nconstructor\nvalueof\n` }, 'bert', '/ckpt');
  assert.equal(wordPiece.tokenToId('__proto__'), BERT_VOCAB.length);
  assert.deepEqual(wordPiece.encode('constructor valueOf toString hasOwnProperty', { maxLength: 16 }).tokens.slice(1, -1), ['constructor', 'valueof', '[UNK]', '[UNK]']);
});
