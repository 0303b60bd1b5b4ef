#!/usr/bin/env node
// Tiny random Hugging Face checkpoints, one folder per family × head, in exactly the layout
// transformers' `save_pretrained` writes, for tests and for the PyTorch references in bench/.
//
//   node scripts/make-tiny-checkpoints.mjs OUT_DIR [--seed N]
//   import { makeTinyCheckpoints } from './scripts/make-tiny-checkpoints.mjs';
//   const folders = await makeTinyCheckpoints(outDir, { seed: 1 });
//
// Plain Node, no dependency and no build step; the output is a pure function of the seed (byte
// for byte) and takes about half a second.
//
// Folders (OUT_DIR/<name>/), <name> = <family>-<head>[-<variant>]:
//
//   family      base (no head)     sequence-classification            token-classification            masked-lm
//   bert        BertModel          BertForSequenceClassification      BertForTokenClassification      BertForMaskedLM
//   distilbert  DistilBertModel    DistilBertForSequenceClassification DistilBertForTokenClassification DistilBertForMaskedLM
//   roberta     RobertaModel       RobertaForSequenceClassification   RobertaForTokenClassification   RobertaForMaskedLM
//   electra     ElectraModel       ElectraForSequenceClassification   ElectraForTokenClassification   ElectraForMaskedLM (the generator)
//
//   plus two BertForSequenceClassification variants with the same weights as
//   bert-sequence-classification: `bert-sequence-classification-legacy-layernorm` (TF-era names
//   `LayerNorm.gamma` / `LayerNorm.beta`) and `bert-sequence-classification-position-ids` (the
//   I64 `bert.embeddings.position_ids` [1, max_position_embeddings] buffer that transformers
//   < 4.31 saved, when the buffer was still persistent).
//
// Each folder holds
//
//   config.json        the keys `PretrainedConfig.to_diff_dict()` keeps for that config class in
//                      transformers 4.47 (model-specific keys always, generic ones when they differ
//                      from PretrainedConfig's defaults), sorted, indent 2, + `architectures`,
//                      `torch_dtype: "float32"`, `transformers_version`; `id2label`/`label2id` for
//                      the classification heads (3 sentence labels, 5 IOB2 entity labels).
//   model.safetensors  F32, HF state_dict names, linear weights [out, in], exactly the tensors
//                      `save_pretrained(safe_serialization=True)` keeps: tied duplicates are dropped
//                      (BERT `cls.predictions.decoder.weight` and `.decoder.bias` — the bias kept is
//                      `cls.predictions.bias` —, RoBERTa `lm_head.decoder.weight`/`.bias` — kept:
//                      `lm_head.bias` —, DistilBERT `vocab_projector.weight`, ELECTRA
//                      `generator_lm_head.weight`) and non-persistent buffers are absent. Heads with
//                      `add_pooling_layer=False` in HF (BERT/RoBERTa token classification and masked
//                      LM, every RoBERTa head) have no pooler. The base models are saved the way
//                      `BertModel.save_pretrained` does it: no `bert.` prefix. Tensors are laid out
//                      as the safetensors Rust serializer does: `__metadata__` {"format":"pt"} first,
//                      then by dtype (I64 before F32), then by name; header padded with spaces to 8.
//   tokenizer files    WordPiece families (bert, distilbert, electra): vocab.txt,
//                      tokenizer_config.json, special_tokens_map.json. RoBERTa: a real byte-level BPE
//                      (256 byte symbols + merges learned here from CORPUS) as tokenizer.json,
//                      vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json.
//
// Sizes are tiny and deliberately uneven so layout bugs show: hidden 32, 2 layers, 4 heads,
// intermediate 37, ELECTRA embedding_size 16 (≠ hidden), max length 40 (RoBERTa
// max_position_embeddings 42 = 40 + padding_idx + 1), vocabularies of a few hundred, RoBERTa
// layer_norm_eps 1e-5 (as roberta-base) and type_vocab_size 1. Weights are far from HF's
// initialisation so every tensor matters: matrices and embeddings normal(0, 0.2), biases
// normal(0, 0.1), LayerNorm weights 1 + normal(0, 0.2), LayerNorm biases normal(0, 0.1). A tensor's
// values depend only on (seed, family, its name in the head models), so the encoder of
// bert-base equals the encoder of bert-sequence-classification, and the two variants equal it.
//
// Every fact about HF's layout above was read from transformers' modeling_*.py /
// configuration_*.py and from the safetensors / tokenizers serializers; see
// test/fixtures/hf-names.ts, which lists the same tensors independently.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAMILIES = ['bert', 'distilbert', 'roberta', 'electra'];
export const HEADS = ['base', 'sequence-classification', 'token-classification', 'masked-lm'];

export const ARCHITECTURES = {
  bert: { base: 'BertModel', 'sequence-classification': 'BertForSequenceClassification', 'token-classification': 'BertForTokenClassification', 'masked-lm': 'BertForMaskedLM' },
  distilbert: { base: 'DistilBertModel', 'sequence-classification': 'DistilBertForSequenceClassification', 'token-classification': 'DistilBertForTokenClassification', 'masked-lm': 'DistilBertForMaskedLM' },
  roberta: { base: 'RobertaModel', 'sequence-classification': 'RobertaForSequenceClassification', 'token-classification': 'RobertaForTokenClassification', 'masked-lm': 'RobertaForMaskedLM' },
  electra: { base: 'ElectraModel', 'sequence-classification': 'ElectraForSequenceClassification', 'token-classification': 'ElectraForTokenClassification', 'masked-lm': 'ElectraForMaskedLM' },
};

/** `base_model_prefix` of each family's PreTrainedModel: the head models' encoder lives under it. */
export const BASE_MODEL_PREFIX = { bert: 'bert', distilbert: 'distilbert', roberta: 'roberta', electra: 'electra' };

export const SEQUENCE_LABELS = ['negative', 'neutral', 'positive'];
export const TOKEN_LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];

export const TINY_SIZES = {
  hidden: 32,
  layers: 2,
  heads: 4,
  intermediate: 37,
  /** ELECTRA's embedding_size. */
  electraEmbedding: 16,
  /** Longest input in tokens (with special tokens): max_position_embeddings, RoBERTa's minus 2. */
  maxLength: 40,
  /** Upper bound on learned BPE merges (fewer if the corpus runs out of pairs seen twice). */
  bpeMerges: 300,
  /** Whole words in the WordPiece vocabulary. */
  wordPieceWords: 170,
};

/** The version whose save_pretrained this layout follows (configs written with it). */
const TRANSFORMERS_VERSION = '4.47.0';
/** Persistent position_ids buffers were saved up to transformers 4.30 (non-persistent from 4.31). */
const OLD_TRANSFORMERS_VERSION = '4.30.2';

// Text the vocabularies are learned from: ordinary English with digits, punctuation,
// contractions and a few accented words (byte-level BPE sees their UTF-8 bytes).
const CORPUS = `
The small town of Ashford sits where two rivers meet. Every morning the baker opens at six, and by seven
the queue reaches the corner. People talk about the weather, the football results and the price of bread.
"It's going to rain again," says the postman, who has said the same thing for twenty years. He is usually right.
In the spring the fields turn green and yellow; in the autumn the leaves fall into the water and drift slowly
towards the sea. Children walk to school along the river path, counting ducks and throwing stones.
The library is open on Tuesdays and Thursdays from 10 to 4. It has 3,500 books, two computers and a cat
called Pepper, who sleeps on the warm printer. Visitors don't mind: the cat is part of the furniture.
At the café on the square, the owner serves strong coffee, fresh croissants and a naïve cheerfulness that
nobody can resist. On Saturdays there is a market with fruit, vegetables, cheese, honey and old records.
A good model learns from every example it is given. When memory is short, we split a large batch into
small micro-batches, add their gradients together and take one step. The result should not depend on how
the batch was split: the gradient of the sum is the sum of the gradients. If we forget the last, smaller
batch of the epoch, fourteen samples are wasted every time, and nobody notices until the numbers look wrong.
Training runs for three epochs. The learning rate starts at zero, rises during the warmup and then decays
linearly. We write the loss after every step, the accuracy after every epoch, and the weights at the end.
Testing matters as much as training: a test that cannot fail tells us nothing, and a number that was never
checked against an independent reference is only a guess. So we compare, line by line, with PyTorch.
The river was high in March. The bridge was closed for two days while engineers checked the stones, and the
buses went the long way round through the hills. The farmers were worried about their sheep; the children
were delighted, because the school was closed too. By Friday the water had gone down, the bridge opened
again, and life went back to normal: bread at seven, rain at noon, and stories about the flood for years.
Every summer the town holds a festival. There is music in the square, dancing in the streets and a race along
the river, and everybody watches the fireworks from the bridge. The winners get a cake, the losers get a cake
too, and the mayor gives a speech that nobody listens to. In winter the streets are quiet, the shops close early
and people stay at home, reading, cooking and talking about the festival, the flood and the weather again.
`;

// ---------------------------------------------------------------------------------------------
// Seeded numbers (mulberry32 + Box–Muller, the same generator as src/core/random.ts), one stream
// per tensor, keyed by an FNV-1a hash of (seed, family, canonical tensor name).

function hashString(text) {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function normals(count, key) {
  const next = mulberry32(hashString(key));
  const uniformOpen = () => (next() + 0.5) / 4294967296;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(uniformOpen())) * Math.cos(2 * Math.PI * uniformOpen());
  return out;
}

/** Values of one tensor by its role, far from HF's init (zeros / ones / std 0.02). */
function tensorValues(kind, shape, key) {
  const count = shape.reduce((product, dim) => product * dim, 1);
  const values = normals(count, key);
  const [scale, offset] = { matrix: [0.2, 0], bias: [0.1, 0], 'ln-weight': [0.2, 1], 'ln-bias': [0.1, 0] }[kind];
  for (let i = 0; i < count; i++) values[i] = offset + values[i] * scale;
  return values;
}

// ---------------------------------------------------------------------------------------------
// HF module trees as (name, shape, kind) lists, in the modules' registration order.

const linear = (name, inFeatures, outFeatures) => [
  [`${name}.weight`, [outFeatures, inFeatures], 'matrix'],
  [`${name}.bias`, [outFeatures], 'bias'],
];
const layerNorm = (name, size) => [
  [`${name}.weight`, [size], 'ln-weight'],
  [`${name}.bias`, [size], 'ln-bias'],
];
const embedding = (name, rows, width) => [[`${name}.weight`, [rows, width], 'matrix']];
const prefixed = (prefix, tensors) => tensors.map(([name, shape, kind]) => [prefix ? `${prefix}.${name}` : name, shape, kind]);

/** BertEmbeddings / RobertaEmbeddings / ElectraEmbeddings (width = hidden, or ELECTRA's embedding_size). */
function bertEmbeddings(dims, width) {
  return [
    ...embedding('word_embeddings', dims.vocab, width),
    ...embedding('position_embeddings', dims.positions, width),
    ...embedding('token_type_embeddings', dims.typeVocab, width),
    ...layerNorm('LayerNorm', width),
  ];
}

/** BertEncoder (also RoBERTa's and ELECTRA's): layer.N.{attention.{self,output},intermediate,output}. */
function bertEncoder(dims) {
  const { hidden, intermediate } = dims;
  const tensors = [];
  for (let layer = 0; layer < dims.layers; layer++) {
    tensors.push(
      ...prefixed(`layer.${layer}`, [
        ...linear('attention.self.query', hidden, hidden),
        ...linear('attention.self.key', hidden, hidden),
        ...linear('attention.self.value', hidden, hidden),
        ...linear('attention.output.dense', hidden, hidden),
        ...layerNorm('attention.output.LayerNorm', hidden),
        ...linear('intermediate.dense', hidden, intermediate),
        ...linear('output.dense', intermediate, hidden),
        ...layerNorm('output.LayerNorm', hidden),
      ]),
    );
  }
  return tensors;
}

/** The family's base model (its state_dict names, unprefixed). */
function baseModel(family, dims, { pooler }) {
  switch (family) {
    case 'bert':
    case 'roberta':
      return [
        ...prefixed('embeddings', bertEmbeddings(dims, dims.hidden)),
        ...prefixed('encoder', bertEncoder(dims)),
        ...(pooler ? linear('pooler.dense', dims.hidden, dims.hidden) : []),
      ];
    case 'electra':
      // ElectraModel: no pooler; embeddings_project only when embedding_size != hidden_size.
      return [
        ...prefixed('embeddings', bertEmbeddings(dims, dims.embedding)),
        ...(dims.embedding !== dims.hidden ? linear('embeddings_project', dims.embedding, dims.hidden) : []),
        ...prefixed('encoder', bertEncoder(dims)),
      ];
    case 'distilbert': {
      // DistilBertModel: Embeddings (no token types) + Transformer; no pooler.
      const { hidden, intermediate } = dims;
      const tensors = [
        ...embedding('embeddings.word_embeddings', dims.vocab, hidden),
        ...embedding('embeddings.position_embeddings', dims.positions, hidden),
        ...layerNorm('embeddings.LayerNorm', hidden),
      ];
      for (let layer = 0; layer < dims.layers; layer++) {
        tensors.push(
          ...prefixed(`transformer.layer.${layer}`, [
            ...linear('attention.q_lin', hidden, hidden),
            ...linear('attention.k_lin', hidden, hidden),
            ...linear('attention.v_lin', hidden, hidden),
            ...linear('attention.out_lin', hidden, hidden),
            ...layerNorm('sa_layer_norm', hidden),
            ...linear('ffn.lin1', hidden, intermediate),
            ...linear('ffn.lin2', intermediate, hidden),
            ...layerNorm('output_layer_norm', hidden),
          ]),
        );
      }
      return tensors;
    }
  }
  throw new Error(`unknown family ${family}`);
}

/**
 * Whether the family's head model builds its base model with a pooler: HF passes
 * add_pooling_layer=False for BERT token classification / masked LM and every RoBERTa head;
 * DistilBERT and ELECTRA have no pooler at all.
 */
function hasPooler(family, head) {
  if (family === 'bert') return head === 'base' || head === 'sequence-classification';
  if (family === 'roberta') return head === 'base';
  return false;
}

/** The head's own tensors (after save_pretrained dropped the tied duplicates). */
function headTensors(family, head, dims) {
  const { hidden, vocab } = dims;
  const labels = dims.numLabels;
  if (head === 'base') return [];
  if (head === 'token-classification') return linear('classifier', hidden, labels);
  if (head === 'sequence-classification') {
    switch (family) {
      case 'bert':
        return linear('classifier', hidden, labels);
      case 'distilbert':
        return [...linear('pre_classifier', hidden, hidden), ...linear('classifier', hidden, labels)];
      case 'roberta':
      case 'electra':
        // RobertaClassificationHead / ElectraClassificationHead.
        return [...linear('classifier.dense', hidden, hidden), ...linear('classifier.out_proj', hidden, labels)];
    }
  }
  if (head === 'masked-lm') {
    switch (family) {
      case 'bert':
        // BertOnlyMLMHead: decoder.weight is tied to the word embeddings and decoder.bias IS
        // cls.predictions.bias; save_pretrained keeps cls.predictions.bias.
        return [
          ['cls.predictions.bias', [vocab], 'bias'],
          ...linear('cls.predictions.transform.dense', hidden, hidden),
          ...layerNorm('cls.predictions.transform.LayerNorm', hidden),
        ];
      case 'roberta':
        // RobertaLMHead: decoder tied as BERT's; lm_head.bias kept.
        return [...linear('lm_head.dense', hidden, hidden), ...layerNorm('lm_head.layer_norm', hidden), ['lm_head.bias', [vocab], 'bias']];
      case 'distilbert':
        // vocab_projector.weight tied to the word embeddings; its bias is its own.
        return [...linear('vocab_transform', hidden, hidden), ...layerNorm('vocab_layer_norm', hidden), ['vocab_projector.bias', [vocab], 'bias']];
      case 'electra':
        // ElectraGeneratorPredictions (dense hidden → embedding_size, LayerNorm) + generator_lm_head,
        // whose weight is tied to the word embeddings.
        return [
          ...layerNorm('generator_predictions.LayerNorm', dims.embedding),
          ...linear('generator_predictions.dense', hidden, dims.embedding),
          ['generator_lm_head.bias', [vocab], 'bias'],
        ];
    }
  }
  throw new Error(`unknown head ${family}/${head}`);
}

/** [fileName, canonicalName, shape, kind]: canonicalName is the head models' name (the value key). */
function checkpointTensors(family, head, dims) {
  const prefix = BASE_MODEL_PREFIX[family];
  const base = baseModel(family, dims, { pooler: hasPooler(family, head) });
  if (head === 'base') return base.map(([name, shape, kind]) => [name, `${prefix}.${name}`, shape, kind]);
  return [...prefixed(prefix, base), ...headTensors(family, head, dims)].map(([name, shape, kind]) => [name, name, shape, kind]);
}

// ---------------------------------------------------------------------------------------------
// safetensors, as the Rust serializer writes it (safetensors/src/tensor.rs `prepare`): sorted by
// descending dtype (I64 > F32) then name, compact JSON header with `__metadata__` first and the
// tensors in offset order, padded with spaces to a multiple of 8 bytes.

const DTYPE_ORDER = { I64: 1, F32: 0 };

function serializeSafetensors(tensors) {
  const sorted = [...tensors].sort((a, b) => DTYPE_ORDER[b.dtype] - DTYPE_ORDER[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const tensor of sorted) {
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.bytes.byteLength] };
    offset += tensor.bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLength);
  let position = 8 + headerLength;
  for (const tensor of sorted) {
    out.set(tensor.bytes, position);
    position += tensor.bytes.byteLength;
  }
  return out;
}

function littleEndianBytes(typedArray) {
  const bytes = new Uint8Array(typedArray.buffer, typedArray.byteOffset, typedArray.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return bytes.slice();
  const out = new Uint8Array(bytes.byteLength);
  const width = typedArray.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.byteLength; i += width) for (let k = 0; k < width; k++) out[i + k] = bytes[i + width - 1 - k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Vocabularies.

/** BERT's uncased normalisation of the corpus: NFD, drop accents (Mn), lower-case. */
function uncased(text) {
  return text.normalize('NFD').replace(/\p{Mn}/gu, '').toLowerCase();
}

const ASCII_PUNCTUATION = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
const DIGITS = [...'0123456789'];
const LETTERS = [...'abcdefghijklmnopqrstuvwxyz'];

/**
 * An uncased WordPiece vocab.txt in bert-base-uncased's order: [PAD], unused slots, [UNK] [CLS]
 * [SEP] [MASK], single characters, whole words by frequency, then `##` continuation pieces
 * (so any ASCII text tokenizes without [UNK]). Special tokens are not at 0..4 on purpose.
 */
function wordPieceVocab() {
  const counts = new Map();
  for (const word of uncased(CORPUS).match(/[a-z]+/g)) counts.set(word, (counts.get(word) ?? 0) + 1);
  const words = [...counts]
    .filter(([word]) => word.length > 1)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, TINY_SIZES.wordPieceWords)
    .map(([word]) => word);
  const suffixes = ['##es', '##ed', '##ing', '##ly', '##er', '##ers', '##est', '##tion', '##ness'];
  return [
    '[PAD]', '[unused0]', '[unused1]', '[UNK]', '[CLS]', '[SEP]', '[MASK]',
    ...ASCII_PUNCTUATION, ...DIGITS, ...LETTERS,
    ...words,
    ...LETTERS.map((letter) => `##${letter}`), ...DIGITS.map((digit) => `##${digit}`),
    ...suffixes,
  ];
}

/** GPT-2's byte ↔ unicode table (tokenizers `bytes_char`): printable bytes map to themselves. */
function bytesToUnicode() {
  const bytes = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const chars = bytes.map((b) => b);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + extra++);
    }
  }
  const table = new Array(256);
  bytes.forEach((b, i) => (table[b] = String.fromCodePoint(chars[i])));
  return table;
}

// The ByteLevel pre-tokenizer's split (GPT-2's pattern).
const BYTE_LEVEL_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * A byte-level BPE learned on CORPUS: the ByteLevel pre-tokenizer's split (no prefix space, as
 * RoBERTa), words as byte symbols, then repeatedly the most frequent adjacent pair (ties: the
 * smaller pair in code-unit order) until TINY_SIZES.bpeMerges or no pair occurs twice.
 */
function learnByteLevelBpe() {
  const byteChar = bytesToUnicode();
  const encoder = new TextEncoder();
  const wordCounts = new Map();
  for (const piece of CORPUS.trim().match(BYTE_LEVEL_SPLIT)) {
    const symbols = [...encoder.encode(piece)].map((b) => byteChar[b]).join('\u0000');
    wordCounts.set(symbols, (wordCounts.get(symbols) ?? 0) + 1);
  }
  const words = [...wordCounts].map(([symbols, count]) => ({ symbols: symbols.split('\u0000'), count }));
  // Pair counts are kept up to date as words change, instead of recounted every round.
  const pairCounts = new Map();
  const countPairs = (symbols, delta) => {
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
    }
  };
  for (const { symbols, count } of words) countPairs(symbols, count);
  const merges = [];
  while (merges.length < TINY_SIZES.bpeMerges) {
    let best = null;
    let bestCount = 1;
    pairCounts.forEach((count, key) => {
      if (count > bestCount || (count === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = count;
      }
    });
    if (best === null) break;
    const [left, right] = best.split('\u0000');
    merges.push([left, right]);
    for (const word of words) {
      const { symbols, count } = word;
      let found = false;
      for (let i = 0; i + 1 < symbols.length && !found; i++) found = symbols[i] === left && symbols[i + 1] === right;
      if (!found) continue;
      const merged = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else {
          merged.push(symbols[i]);
        }
      }
      countPairs(symbols, -count);
      countPairs(merged, count);
      word.symbols = merged;
    }
  }
  // RoBERTa's ids: <s> <pad> </s> <unk> first, <mask> last.
  const vocab = ['<s>', '<pad>', '</s>', '<unk>', ...byteChar];
  const seen = new Set(vocab);
  for (const [left, right] of merges) {
    if (!seen.has(left + right)) {
      seen.add(left + right);
      vocab.push(left + right);
    }
  }
  vocab.push('<mask>');
  return { vocab, merges };
}

// ---------------------------------------------------------------------------------------------
// Files.

/** json.dumps(value, indent=2, sort_keys=True) + "\n", as transformers writes its JSON files. */
function sortedJson(value) {
  const sortKeys = (item) => {
    if (Array.isArray(item)) return item.map(sortKeys);
    if (item === null || typeof item !== 'object') return item;
    return Object.fromEntries(Object.keys(item).sort().map((key) => [key, sortKeys(item[key])]));
  };
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function labelsOf(head) {
  if (head === 'sequence-classification') return SEQUENCE_LABELS;
  if (head === 'token-classification') return TOKEN_LABELS;
  return null;
}

/**
 * config.json: the keys `to_diff_dict` keeps. Every __init__ argument of the config class is
 * model-specific (absent from PretrainedConfig) and always written; the generic ones
 * (pad/bos/eos ids, id2label) only when they differ from PretrainedConfig's defaults
 * (None, {0: "LABEL_0", 1: "LABEL_1"}).
 */
function configJson(family, head, dims, variant) {
  const common = {
    architectures: [ARCHITECTURES[family][head]],
    model_type: family,
    torch_dtype: 'float32',
    transformers_version: variant === 'position-ids' ? OLD_TRANSFORMERS_VERSION : TRANSFORMERS_VERSION,
    vocab_size: dims.vocab,
    initializer_range: 0.02,
    pad_token_id: dims.padTokenId,
  };
  const bertLike = {
    hidden_size: dims.hidden,
    num_hidden_layers: dims.layers,
    num_attention_heads: dims.heads,
    intermediate_size: dims.intermediate,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: dims.positions,
    type_vocab_size: dims.typeVocab,
    layer_norm_eps: dims.layerNormEps,
    position_embedding_type: 'absolute',
    use_cache: true,
    classifier_dropout: null,
  };
  let config;
  switch (family) {
    case 'bert':
      config = { ...common, ...bertLike };
      break;
    case 'roberta':
      config = { ...common, ...bertLike, bos_token_id: 0, eos_token_id: 2 };
      break;
    case 'electra':
      config = {
        ...common,
        ...bertLike,
        embedding_size: dims.embedding,
        summary_type: 'first',
        summary_use_proj: true,
        summary_activation: 'gelu',
        summary_last_dropout: 0.1,
      };
      break;
    case 'distilbert':
      config = {
        ...common,
        max_position_embeddings: dims.positions,
        sinusoidal_pos_embds: false,
        n_layers: dims.layers,
        n_heads: dims.heads,
        dim: dims.hidden,
        hidden_dim: dims.intermediate,
        dropout: 0.1,
        attention_dropout: 0.1,
        activation: 'gelu',
        qa_dropout: 0.1,
        seq_classif_dropout: 0.2,
        // Not a DistilBertConfig argument: a key of the original DistilBERT checkpoints'
        // configs (distilbert-base-uncased), which transformers keeps and writes back.
        tie_weights_: true,
      };
      break;
  }
  const labels = labelsOf(head);
  if (labels) {
    config.id2label = Object.fromEntries(labels.map((label, id) => [String(id), label]));
    config.label2id = Object.fromEntries(labels.map((label, id) => [label, id]));
  }
  return config;
}

function addedTokenEntry(content, { lstrip = false } = {}) {
  // AddedToken.__getstate__ of a special token added by transformers (normalized=False).
  return { content, lstrip, normalized: false, rstrip: false, single_word: false, special: true };
}

/** vocab.txt + tokenizer_config.json + special_tokens_map.json, as BertTokenizerFast.save_pretrained. */
function wordPieceFiles(family, vocab, maxLength) {
  const tokenizerClass = { bert: 'BertTokenizer', distilbert: 'DistilBertTokenizer', electra: 'ElectraTokenizer' }[family];
  const special = { cls_token: '[CLS]', mask_token: '[MASK]', pad_token: '[PAD]', sep_token: '[SEP]', unk_token: '[UNK]' };
  const addedTokensDecoder = {};
  for (const token of ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']) addedTokensDecoder[String(vocab.indexOf(token))] = addedTokenEntry(token);
  return {
    'vocab.txt': `${vocab.join('\n')}\n`,
    'tokenizer_config.json': sortedJson({
      added_tokens_decoder: addedTokensDecoder,
      clean_up_tokenization_spaces: true,
      do_lower_case: true,
      model_max_length: maxLength,
      strip_accents: null,
      tokenize_chinese_chars: true,
      tokenizer_class: tokenizerClass,
      ...special,
    }),
    'special_tokens_map.json': sortedJson(special),
  };
}

/**
 * RobertaTokenizerFast.save_pretrained: tokenizer.json (tokenizers' serialization: version,
 * truncation, padding, added_tokens, normalizer, pre_tokenizer, post_processor, decoder, model —
 * BPE with merges as pairs, as tokenizers ≥ 0.20 writes them), the slow files vocab.json and
 * merges.txt (BPE.save), tokenizer_config.json and special_tokens_map.json.
 */
function byteLevelBpeFiles(bpe, maxLength) {
  const { vocab, merges } = bpe;
  const id = (token) => vocab.indexOf(token);
  const maskEntry = { lstrip: true };
  const added = [
    ['<s>', {}],
    ['<pad>', {}],
    ['</s>', {}],
    ['<unk>', {}],
    ['<mask>', maskEntry],
  ];
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added.map(([content, options]) => {
      const entry = addedTokenEntry(content, options);
      return { id: id(content), content, single_word: entry.single_word, lstrip: entry.lstrip, rstrip: entry.rstrip, normalized: entry.normalized, special: true };
    }),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', id('</s>')], cls: ['<s>', id('<s>')], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab.map((token, index) => [token, index])),
      merges,
    },
  };
  const special = {
    bos_token: '<s>',
    cls_token: '<s>',
    eos_token: '</s>',
    mask_token: { content: '<mask>', lstrip: true, normalized: false, rstrip: false, single_word: false },
    pad_token: '<pad>',
    sep_token: '</s>',
    unk_token: '<unk>',
  };
  const addedTokensDecoder = Object.fromEntries(added.map(([content, options]) => [String(id(content)), addedTokenEntry(content, options)]));
  return {
    'tokenizer.json': JSON.stringify(tokenizerJson, null, 2),
    'vocab.json': JSON.stringify(Object.fromEntries(vocab.map((token, index) => [token, index]))),
    'merges.txt': `#version: 0.2\n${merges.map(([left, right]) => `${left} ${right}\n`).join('')}`,
    'tokenizer_config.json': sortedJson({
      add_prefix_space: false,
      added_tokens_decoder: addedTokensDecoder,
      bos_token: '<s>',
      clean_up_tokenization_spaces: true,
      cls_token: '<s>',
      eos_token: '</s>',
      errors: 'replace',
      mask_token: '<mask>',
      model_max_length: maxLength,
      pad_token: '<pad>',
      sep_token: '</s>',
      tokenizer_class: 'RobertaTokenizer',
      trim_offsets: true,
      unk_token: '<unk>',
    }),
    'special_tokens_map.json': sortedJson(special),
  };
}

function familyDims(family, head, vocabSize) {
  const labels = labelsOf(head);
  return {
    vocab: vocabSize,
    hidden: TINY_SIZES.hidden,
    layers: TINY_SIZES.layers,
    heads: TINY_SIZES.heads,
    intermediate: TINY_SIZES.intermediate,
    embedding: family === 'electra' ? TINY_SIZES.electraEmbedding : TINY_SIZES.hidden,
    // RoBERTa positions start at padding_idx + 1 = 2, so max length L needs L + 2 rows.
    positions: family === 'roberta' ? TINY_SIZES.maxLength + 2 : TINY_SIZES.maxLength,
    typeVocab: family === 'roberta' ? 1 : 2,
    layerNormEps: family === 'roberta' ? 1e-5 : 1e-12,
    padTokenId: family === 'roberta' ? 1 : 0,
    numLabels: labels ? labels.length : 2,
  };
}

/**
 * Writes every tiny checkpoint under `outDir` (created if needed) and returns what it wrote:
 * `{ name, dir, family, head, variant, architecture, config, labels }` per folder, `config`
 * being the config.json object and `variant` null or 'legacy-layernorm' / 'position-ids'.
 */
export async function makeTinyCheckpoints(outDir, { seed = 1 } = {}) {
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const wordPiece = wordPieceVocab();
  const bpe = learnByteLevelBpe();
  const jobs = [];
  for (const family of FAMILIES) for (const head of HEADS) jobs.push({ family, head, variant: null });
  jobs.push({ family: 'bert', head: 'sequence-classification', variant: 'legacy-layernorm' });
  jobs.push({ family: 'bert', head: 'sequence-classification', variant: 'position-ids' });

  const written = [];
  for (const { family, head, variant } of jobs) {
    const name = `${family}-${head}${variant ? `-${variant}` : ''}`;
    const dir = path.join(outDir, name);
    const vocabSize = family === 'roberta' ? bpe.vocab.length : wordPiece.length;
    const dims = familyDims(family, head, vocabSize);
    const tensors = checkpointTensors(family, head, dims).map(([fileName, canonicalName, shape, kind]) => ({
      name: variant === 'legacy-layernorm' ? fileName.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta') : fileName,
      dtype: 'F32',
      shape,
      bytes: littleEndianBytes(tensorValues(kind, shape, `${seed}/${family}/${canonicalName}`)),
    }));
    if (variant === 'position-ids') {
      const positions = BigInt64Array.from({ length: dims.positions }, (_, i) => BigInt(i));
      tensors.push({ name: 'bert.embeddings.position_ids', dtype: 'I64', shape: [1, dims.positions], bytes: littleEndianBytes(positions) });
    }
    const config = configJson(family, head, dims, variant);
    const files = {
      'config.json': sortedJson(config),
      'model.safetensors': serializeSafetensors(tensors),
      ...(family === 'roberta' ? byteLevelBpeFiles(bpe, TINY_SIZES.maxLength) : wordPieceFiles(family, wordPiece, TINY_SIZES.maxLength)),
    };
    await mkdir(dir, { recursive: true });
    await Promise.all(Object.entries(files).map(([file, content]) => writeFile(path.join(dir, file), content)));
    written.push({ name, dir, family, head, variant, architecture: ARCHITECTURES[family][head], config, labels: labelsOf(head) });
  }
  return written;
}

async function main(argv) {
  const usage = 'usage: node scripts/make-tiny-checkpoints.mjs OUT_DIR [--seed N]';
  const args = [...argv];
  let seed = 1;
  const seedAt = args.indexOf('--seed');
  if (seedAt !== -1) {
    seed = Number(args[seedAt + 1]);
    args.splice(seedAt, 2);
  }
  if (args.length !== 1 || args[0].startsWith('-') || !Number.isSafeInteger(seed)) {
    console.error(usage);
    process.exitCode = 2;
    return;
  }
  const folders = await makeTinyCheckpoints(args[0], { seed });
  for (const folder of folders) console.log(`${folder.name}\t${folder.architecture}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
