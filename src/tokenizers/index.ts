/**
 * # Tokenizers
 *
 * Text → ids for every model family, with what the tasks need besides the ids: which tokens
 * the template added (masked LM never masks them), which word each token came from (NER labels
 * the first piece of each word; whole-word masking masks all pieces of a word), and the
 * characters each token covers (NER reports entity spans in the text). Browser-safe: files
 * arrive as text (`loadTokenizer(files, modelType, source)`); reading them from a directory or
 * the hub is the caller's business.
 *
 * | file(s) | tokenizer | families |
 * | --- | --- | --- |
 * | `vocab.txt` (or a plain BERT `tokenizer.json`) | `WordPieceTokenizer` — ours | bert, distilbert, electra, MiniLM |
 * | any other `tokenizer.json` | `JsonTokenizer` — `@huggingface/tokenizers` | roberta (byte-level BPE), others |
 * | `vocab.json` + `merges.txt` | `JsonTokenizer` over the tokenizer.json HF's converter makes of them | older roberta checkpoints |
 *
 * **Why WordPiece is our own code.** Most BERT checkpoints ship only `vocab.txt`, which
 * `@huggingface/tokenizers` cannot load, and on BERT pipelines that library differs from HF
 * (Python and Rust alike) on astral CJK ideographs, unassigned code points and a word-final Σ
 * (details in wordpiece.ts, each pinned by a test). The algorithm is a page; owning it makes
 * the ids exactly HF `BertTokenizer`'s and the offsets a by-product.
 *
 * **Why everything else is HF's.** Byte-level BPE, Unigram and the rest are specified only by
 * their implementations; `@huggingface/tokenizers` is HF's own JavaScript one (the one inside
 * transformers.js), so we use it for the ids and add only what it lacks: word ids and offsets,
 * tracked through its own pipeline components (tokenizerJson.ts, alignment.ts).
 *
 * Every tokenizer writes its files back (`files()`) so a checkpoint loads in this module, HF
 * `AutoTokenizer` and transformers.js; a WordPiece tokenizer also writes a `tokenizer.json` in
 * `BertTokenizerFast`'s format, which transformers.js needs.
 *
 * Offsets are JavaScript string indices (UTF-16 code units); HF's Python offsets count code
 * points. Both agree on text without characters outside the BMP.
 */
export type { DecodeOptions, Encoding, EncodeOptions, SpecialToken, SpecialTokens, Tokenizer, TokenizerFiles, TokenizerKind } from './types.js';
export { TOKENIZER_FILE_NAMES } from './types.js';
export { loadTokenizer } from './load.js';
export { WordPieceTokenizer, isChineseChar, isPunctuation } from './wordpiece.js';
export type { WordPieceOptions, WordPieceSettings } from './wordpiece.js';
export { wordPieceTokenizerJson } from './wordpieceFiles.js';
export { JsonTokenizer } from './tokenizerJson.js';
