/**
 * Token-classification data (NER, chunking, POS) parsed from a string — the caller reads the
 * file, so this runs in a browser too. Two formats:
 *
 * * **CoNLL**: one token per line, columns separated by spaces or tabs, the word in the first
 *   column and the tag in `tagColumn` (default the last); a blank line ends a sentence; a
 *   `-DOCSTART-` line (CoNLL-2003's document marker) ends the sentence in progress and is
 *   skipped, as are the blank lines around it; the last sentence needs no blank line after it.
 *   Consecutive blank lines are one separator (as in Hugging Face's conll2003 loader). Every
 *   token line has as many columns as the first one.
 * * **JSONL**: one JSON object per line, `{"tokens": [...], "tags": [...]}` (field names
 *   configurable; `tags` may also hold integer class ids when the tag set is given, as Hugging
 *   Face datasets export `ner_tags`). Blank lines are skipped.
 *
 * Nothing is silently dropped: every problem is a DataError naming the file (the `file` option),
 * the 1-based line and the field (a CoNLL column as `column N`, 1-based, or the JSONL field).
 */
import { DataError } from '../../core/errors.js';

/** One sentence: its words and one tag per word. */
export interface TaggedSentence {
  /** 1-based line of the sentence's first token (CoNLL) or of its JSON record. */
  line: number;
  words: string[];
  tags: string[];
}

export type TaggedFormat = 'conll' | 'jsonl';
/** The entity tagging schemes we validate and detect. */
export type TagScheme = 'IOB2' | 'IOBES';

export interface TaggedParseOptions {
  /** The source's name in error messages (the file the caller read). */
  file?: string;
  /**
   * A fixed tag set, e.g. a model's `id2label` in id order: any other tag is an error, and
   * integer JSONL tags are indices into it.
   */
  tagSet?: readonly string[];
  /** When given, every sentence must be a valid tag sequence of this scheme (see `findSchemeViolation`). */
  scheme?: TagScheme;
}

export interface ConllOptions extends TaggedParseOptions {
  /**
   * 0-based column of the tag: ≥ 1 (column 0 is the word), or negative to count from the end.
   * Default -1, the last column.
   */
  tagColumn?: number;
}

export interface TaggedJsonlOptions extends TaggedParseOptions {
  /** Default 'tokens'. */
  tokensField?: string;
  /** Default 'tags'. */
  tagsField?: string;
}

export type TaggedOptions = ConllOptions & TaggedJsonlOptions;

const TAGGED_EXTENSIONS: Readonly<Record<string, TaggedFormat>> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json-lines': 'jsonl',
  '.conll': 'conll',
  '.conll2003': 'conll',
  '.iob': 'conll',
  '.iob2': 'conll',
  '.bio': 'conll',
  '.iobes': 'conll',
  '.bioes': 'conll',
};

/** The format a file name's extension implies (`.conll`, `.iob`, `.bio`, … or `.jsonl`), if any. */
export function taggedFormatOf(fileName: string): TaggedFormat | undefined {
  const dot = fileName.lastIndexOf('.');
  if (dot < 0 || fileName.lastIndexOf('/') > dot) return undefined;
  return TAGGED_EXTENSIONS[fileName.slice(dot).toLowerCase()];
}

/** Parses `content` as `format`; see the module comment for what each format accepts. */
export function parseTagged(content: string, format: TaggedFormat, options: TaggedOptions = {}): TaggedSentence[] {
  if (format === 'conll') return parseConll(content, options);
  if (format === 'jsonl') return parseTaggedJsonl(content, options);
  throw new DataError(`unknown tagged data format "${String(format)}" (expected conll or jsonl)`, location(options.file));
}

/** Parses CoNLL-style columns; see the module comment. */
export function parseConll(content: string, options: ConllOptions = {}): TaggedSentence[] {
  const file = options.file;
  const tagColumn = options.tagColumn ?? -1;
  if (!Number.isInteger(tagColumn) || tagColumn === 0) {
    throw new DataError(`tagColumn must be an integer ≥ 1 (column 0 is the word) or negative (from the end), got ${tagColumn}`, { ...location(file), field: 'tagColumn' });
  }
  const checker = new TagChecker(options);
  const sentences: TaggedSentence[] = [];
  let expected: { columns: number; line: number } | undefined;
  let current: TaggedSentence | undefined;
  const finish = () => {
    if (current === undefined) return;
    checker.checkSequence(current.tags, (index) => ({ ...location(file), line: current!.line + index, field: columnName(expected!.columns, tagColumn) }));
    sentences.push(current);
    current = undefined;
  };
  splitLines(content).forEach((text, index) => {
    const line = index + 1;
    const columns = text.trim().split(/\s+/);
    if (columns[0] === '') {
      finish();
      return;
    }
    if (columns[0] === '-DOCSTART-') {
      finish();
      return;
    }
    if (expected === undefined) {
      const needed = tagColumn > 0 ? tagColumn + 1 : Math.max(2, -tagColumn + 1);
      if (columns.length < needed) {
        throw new DataError(`too few columns: found ${columns.length}, the tag column needs at least ${needed} (word first, then the tag)`, { ...location(file), line });
      }
      expected = { columns: columns.length, line };
    } else if (columns.length !== expected.columns) {
      throw new DataError(
        `too ${columns.length < expected.columns ? 'few' : 'many'} columns: found ${columns.length}, expected ${expected.columns} as on line ${expected.line}`,
        { ...location(file), line },
      );
    }
    const tagIndex = tagColumn > 0 ? tagColumn : columns.length + tagColumn;
    const tag = columns[tagIndex]!;
    checker.checkTag(tag, { ...location(file), line, field: `column ${tagIndex + 1}` });
    if (current === undefined) current = { line, words: [], tags: [] };
    current.words.push(columns[0]!);
    current.tags.push(tag);
  });
  finish();
  if (sentences.length === 0) throw new DataError('no sentences (only blank or -DOCSTART- lines)', location(file));
  return sentences;
}

/**
 * The sentences of a CoNLL file without their tags, for prediction: the word is the first column
 * of each line (further columns, tags included, are ignored); blank lines and `-DOCSTART-` as in
 * `parseConll`.
 */
export function parseConllWords(content: string, options: { file?: string } = {}): { line: number; words: string[] }[] {
  const sentences: { line: number; words: string[] }[] = [];
  let current: { line: number; words: string[] } | undefined;
  splitLines(content).forEach((text, index) => {
    const word = text.trim().split(/\s+/)[0]!;
    if (word === '' || word === '-DOCSTART-') {
      if (current !== undefined) sentences.push(current);
      current = undefined;
      return;
    }
    (current ??= { line: index + 1, words: [] }).words.push(word);
  });
  if (current !== undefined) sentences.push(current);
  if (sentences.length === 0) throw new DataError('no sentences (only blank or -DOCSTART- lines)', location(options.file));
  return sentences;
}

/** Parses JSON lines of `{tokens, tags}`; see the module comment. */
export function parseTaggedJsonl(content: string, options: TaggedJsonlOptions = {}): TaggedSentence[] {
  const file = options.file;
  const tokensField = options.tokensField ?? 'tokens';
  const tagsField = options.tagsField ?? 'tags';
  const checker = new TagChecker(options);
  const sentences: TaggedSentence[] = [];
  splitLines(content).forEach((text, index) => {
    const line = index + 1;
    if (text.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new DataError(`malformed JSON (${(error as Error).message})`, { ...location(file), line });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DataError(`row must be a JSON object, got ${describe(value)}`, { ...location(file), line });
    }
    const record = value as Record<string, unknown>;
    const at = (field: string) => ({ ...location(file), line, field });
    const available = () => `available fields: ${Object.keys(record).map((key) => `"${key}"`).join(', ') || 'none'}`;
    if (!Object.hasOwn(record, tokensField)) throw new DataError(`missing tokens field (${available()})`, at(tokensField));
    if (!Object.hasOwn(record, tagsField)) throw new DataError(`missing tags field (${available()})`, at(tagsField));
    const tokens = record[tokensField];
    const rawTags = record[tagsField];
    if (!Array.isArray(tokens)) throw new DataError(`tokens must be an array of strings, got ${describe(tokens)}`, at(tokensField));
    if (!Array.isArray(rawTags)) throw new DataError(`tags must be an array, got ${describe(rawTags)}`, at(tagsField));
    if (tokens.length === 0) throw new DataError('the token list is empty (an empty sentence)', at(tokensField));
    const words = tokens.map((token, position) => {
      if (typeof token !== 'string') throw new DataError(`token ${position + 1} must be a string, got ${describe(token)}`, at(tokensField));
      // A tokenizer makes no sub-token of an empty or blank word, so its tag would be lost.
      if (token.trim().length === 0) throw new DataError(`token ${position + 1} is ${token.length === 0 ? 'empty' : 'only whitespace'}`, at(tokensField));
      return token;
    });
    if (rawTags.length !== words.length) throw new DataError(`${rawTags.length} tags for ${words.length} tokens`, at(tagsField));
    const tags = rawTags.map((tag, position) => checker.resolveTag(tag, position, at(tagsField)));
    checker.checkSequence(tags, () => at(tagsField));
    sentences.push({ line, words, tags });
  });
  if (sentences.length === 0) throw new DataError('no sentences (the input has only blank lines)', location(file));
  return sentences;
}

interface Location {
  file?: string;
  line?: number;
  field?: string;
}

function location(file: string | undefined): Location {
  return file === undefined ? {} : { file };
}

function columnName(columns: number, tagColumn: number): string {
  return `column ${(tagColumn > 0 ? tagColumn : columns + tagColumn) + 1}`;
}

/** Lines without their terminators (\n, \r\n or \r); a UTF-8 byte-order mark is dropped. */
function splitLines(content: string): string[] {
  const text = content.startsWith('\ufeff') ? content.slice(1) : content;
  return text.split(/\r\n|\r|\n/);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** The checks shared by both formats: known tags, integer ids, the scheme. */
class TagChecker {
  private readonly known: ReadonlySet<string> | undefined;
  private readonly tagSet: readonly string[] | undefined;
  private readonly scheme: TagScheme | undefined;

  constructor(options: TaggedParseOptions) {
    this.tagSet = options.tagSet;
    this.known = options.tagSet === undefined ? undefined : new Set(options.tagSet);
    this.scheme = options.scheme;
  }

  checkTag(tag: string, where: Location): void {
    if (this.known !== undefined && !this.known.has(tag)) {
      throw new DataError(`unknown tag "${tag}" (${this.describeTagSet()})`, where);
    }
  }

  /** A JSONL tag: a string, or an integer id into the tag set. */
  resolveTag(tag: unknown, position: number, where: Location): string {
    if (typeof tag === 'string') {
      if (tag.length === 0) throw new DataError(`tag ${position + 1} is empty`, where);
      this.checkTag(tag, where);
      return tag;
    }
    if (typeof tag === 'number' && Number.isInteger(tag)) {
      if (this.tagSet === undefined) {
        throw new DataError(`tag ${position + 1} is the integer ${tag}; integer tags need the tag names (a fixed tag set, e.g. the model's id2label)`, where);
      }
      const name = this.tagSet[tag];
      if (name === undefined) throw new DataError(`tag ${position + 1} is ${tag}, not an id of the tag set (0 to ${this.tagSet.length - 1})`, where);
      return name;
    }
    throw new DataError(`tag ${position + 1} must be a string${this.tagSet === undefined ? '' : ' or an integer id'}, got ${describe(tag)}`, where);
  }

  checkSequence(tags: readonly string[], where: (index: number) => Location): void {
    if (this.scheme === undefined) return;
    const violation = findSchemeViolation(tags, this.scheme);
    if (violation !== null) throw new DataError(violation.detail, where(violation.index));
  }

  private describeTagSet(): string {
    const tags = this.tagSet!;
    const shown = tags.slice(0, 20).join(', ');
    return `the tag set has ${tags.length}: ${shown}${tags.length > 20 ? ', …' : ''}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Tag sets and schemes.

interface ParsedTag {
  /** The prefix letter before '-', or '' for a tag without one ('O', 'PER'). */
  prefix: string;
  /** The entity type (the whole tag when it has no prefix). */
  type: string;
}

/** `B-PER` → (B, PER); a tag that is not one capital letter, a dash and a type has no prefix. */
export function parseTag(tag: string): ParsedTag {
  const match = /^([A-Z])-(.+)$/s.exec(tag);
  return match === null ? { prefix: '', type: tag } : { prefix: match[1]!, type: match[2]! };
}

const PREFIX_ORDER = ['', 'B', 'I', 'E', 'S', 'L', 'U'];

/**
 * The order of `collectTags`: `O` first; then by entity type in code point order; within a type
 * the bare type (if used as a tag), then B, I, E, S, L, U, then other prefixes alphabetically.
 * So IOB2 data gives `O, B-LOC, I-LOC, B-MISC, I-MISC, B-ORG, …` and IOBES adds E- and S- after
 * each type's I-. (Hugging Face's run_ner sorts the tags as plain strings instead, which puts
 * every B- before every I- and `O` last.)
 */
export function compareTags(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'O') return -1;
  if (b === 'O') return 1;
  const left = parseTag(a);
  const right = parseTag(b);
  if (left.type !== right.type) return compareCodePoints(left.type, right.type);
  const rank = (prefix: string) => {
    const index = PREFIX_ORDER.indexOf(prefix);
    return index < 0 ? PREFIX_ORDER.length : index;
  };
  return rank(left.prefix) - rank(right.prefix) || compareCodePoints(left.prefix, right.prefix);
}

/** Every tag used in `sentences`, once, in `compareTags` order. */
export function collectTags(sentences: Iterable<{ tags: readonly string[] }>): string[] {
  const tags = new Set<string>();
  for (const sentence of sentences) for (const tag of sentence.tags) tags.add(tag);
  return [...tags].sort(compareTags);
}

/**
 * The scheme a tag set is written in: IOBES when any tag has an E- or S- prefix (and all are
 * O or B-/I-/E-/S-), IOB2 when all are O, B- or I- and every type tagged I- also has B-. Null
 * otherwise: tags without a prefix (`PER`), other prefixes (BILOU's L-/U-), or I- without B-
 * for some type (IOB1, where an entity may start with I-). A set of only `O` is IOB2.
 */
export function detectScheme(tags: Iterable<string>): TagScheme | null {
  const prefixesByType = new Map<string, Set<string>>();
  for (const tag of tags) {
    if (tag === 'O') continue;
    const { prefix, type } = parseTag(tag);
    if (!'BIES'.includes(prefix) || prefix === '') return null;
    let prefixes = prefixesByType.get(type);
    if (prefixes === undefined) prefixesByType.set(type, (prefixes = new Set()));
    prefixes.add(prefix);
  }
  const all = [...prefixesByType.values()];
  if (all.some((prefixes) => prefixes.has('E') || prefixes.has('S'))) return 'IOBES';
  return all.every((prefixes) => !prefixes.has('I') || prefixes.has('B')) ? 'IOB2' : null;
}

export interface SchemeViolation {
  /** 0-based index of the tag where the sequence stops being valid. */
  index: number;
  detail: string;
}

/**
 * The first place where `tags` is not a valid sequence of `scheme`, or null.
 * IOB2: tags are O, B-X or I-X, and I-X continues a B-X or I-X. IOBES: additionally an entity of
 * several tokens is B-X (I-X)* E-X, one of a single token is S-X, so after B-X or I-X only I-X
 * or E-X may follow and the sentence may not end inside an entity.
 */
export function findSchemeViolation(tags: readonly string[], scheme: TagScheme): SchemeViolation | null {
  const allowed = scheme === 'IOB2' ? 'BI' : 'BIES';
  /** The type of the entity in progress that must be continued (IOBES) or may be (IOB2). */
  let open: string | null = null;
  for (let index = 0; index < tags.length; index++) {
    const tag = tags[index]!;
    const { prefix, type } = tag === 'O' ? { prefix: 'O', type: '' } : parseTag(tag);
    if (prefix !== 'O' && (prefix === '' || !allowed.includes(prefix))) {
      return { index, detail: `"${tag}" is not an ${scheme} tag (expected O or ${[...allowed].map((letter) => `${letter}-TYPE`).join(', ')})` };
    }
    if (scheme === 'IOBES' && open !== null && !((prefix === 'I' || prefix === 'E') && type === open)) {
      return { index, detail: `"${tag}" after B-${open}/I-${open}: an IOBES entity continues with I-${open} or ends with E-${open}` };
    }
    if ((prefix === 'I' || (scheme === 'IOBES' && prefix === 'E')) && open !== type) {
      const previous = index === 0 ? 'at the start of the sentence' : `after "${tags[index - 1]}"`;
      return { index, detail: `"${tag}" ${previous}: ${prefix}-${type} must follow B-${type} or I-${type}` };
    }
    open = prefix === 'B' || prefix === 'I' ? type : null;
  }
  if (scheme === 'IOBES' && open !== null) {
    return { index: tags.length - 1, detail: `the sentence ends inside a ${open} entity: an IOBES entity ends with E-${open}` };
  }
  return null;
}

/**
 * Python's `sorted` order for str, by code point (JavaScript's default sort compares UTF-16
 * units, which differs for characters beyond U+FFFF), so tag lists sort as seqeval's and HF's.
 */
export function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const difference = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
}
