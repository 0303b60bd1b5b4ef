/**
 * Offsets through normalisation. `@huggingface/tokenizers` returns ids and tokens but no
 * offsets, and its normalizers map strings to strings. HF's Rust library keeps, for every
 * character of the normalised text, the span of the original it came from; `AlignedText` is
 * that record here, and `alignNormalizer` rebuilds it for a library normalizer without changing
 * what the normalizer outputs: the normalised text is always the library's own. The spans come
 * from the structure of the step where it is known (Sequence, Strip, Prepend, Replace), else
 * from the smallest pieces — characters, a character with its marks, whitespace runs — whose
 * normalised forms concatenate to the output (with one heuristic: output that differs only in
 * letter case is aligned position by position), else from the whole input.
 *
 * Spans are in UTF-16 code units of the original text. Text the normalizer inserts (a prepended
 * `▁`) has no span ("synthetic").
 */
const SYNTHETIC = -1;

export class AlignedText {
  /**
   * `starts[i]`/`ends[i]`: span of the original that code unit `i` of `text` came from (both
   * −1 for synthetic units). `anchor`: where an empty text sits in the original.
   */
  constructor(
    readonly text: string,
    readonly starts: readonly number[],
    readonly ends: readonly number[],
    readonly anchor: number,
  ) {}

  /** `input.slice(start, end)` aligned to itself, each code point (both halves of a surrogate pair) to its own span. */
  static of(input: string, start = 0, end = input.length): AlignedText {
    const starts: number[] = [];
    const ends: number[] = [];
    for (let i = start; i < end; ) {
      const size = codePointLength(input, i, end);
      for (let k = 0; k < size; k++) {
        starts.push(i);
        ends.push(i + size);
      }
      i += size;
    }
    return new AlignedText(input.slice(start, end), starts, ends, start);
  }

  /** Units `[a, b)`. */
  slice(a: number, b: number): AlignedText {
    const anchor = this.spanOf(a, b)?.[0] ?? this.positionAt(a);
    return new AlignedText(this.text.slice(a, b), this.starts.slice(a, b), this.ends.slice(a, b), anchor);
  }

  /** The span covered by units `[a, b)` (smallest start, largest end), or undefined when all are synthetic. */
  spanOf(a: number, b: number): [number, number] | undefined {
    let start = Infinity;
    let end = -Infinity;
    for (let i = a; i < b; i++) {
      if (this.starts[i] === SYNTHETIC) continue;
      start = Math.min(start, this.starts[i]!);
      end = Math.max(end, this.ends[i]!);
    }
    return start === Infinity ? undefined : [start, end];
  }

  /** A position in the original for unit boundary `i`: the start of the next real unit, else the end of the previous one. */
  positionAt(i: number): number {
    for (let k = i; k < this.text.length; k++) if (this.starts[k] !== SYNTHETIC) return this.starts[k]!;
    for (let k = i - 1; k >= 0; k--) if (this.ends[k] !== SYNTHETIC) return this.ends[k]!;
    return this.anchor;
  }

  isSynthetic(i: number): boolean {
    return this.starts[i] === SYNTHETIC;
  }
}

function codePointLength(text: string, i: number, end: number): number {
  const unit = text.charCodeAt(i);
  if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < end) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 2;
  }
  return 1;
}

/** Builds an AlignedText piece by piece. */
class AlignedBuilder {
  private text = '';
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /** Appends `text`, every unit with `span` (undefined: synthetic). */
  push(text: string, span: [number, number] | undefined): void {
    this.text += text;
    for (let k = 0; k < text.length; k++) {
      this.starts.push(span?.[0] ?? SYNTHETIC);
      this.ends.push(span?.[1] ?? SYNTHETIC);
    }
  }

  /** Appends units `[a, b)` of `source` with their own spans. */
  copy(source: AlignedText, a: number, b: number): void {
    this.text += source.text.slice(a, b);
    for (let i = a; i < b; i++) {
      this.starts.push(source.starts[i]!);
      this.ends.push(source.ends[i]!);
    }
  }

  build(anchor: number): AlignedText {
    return new AlignedText(this.text, this.starts, this.ends, anchor);
  }
}

/** `[a, b)` unit ranges of `text`. */
type Segment = [number, number];

function codePointSegments(text: string): Segment[] {
  const segments: Segment[] = [];
  for (let i = 0; i < text.length; ) {
    const size = codePointLength(text, i, text.length);
    segments.push([i, i + size]);
    i += size;
  }
  return segments;
}

const MARK = /^\p{M}$/u;

/** A base character with the combining marks after it (what NFC / NFD rewrite together). */
function clusterSegments(text: string): Segment[] {
  const clusters: Segment[] = [];
  for (const [a, b] of codePointSegments(text)) {
    const last = clusters[clusters.length - 1];
    if (last !== undefined && MARK.test(text.slice(a, b))) last[1] = b;
    else clusters.push([a, b]);
  }
  return clusters;
}

/** Runs of whitespace and runs of anything else. */
function whitespaceSegments(text: string): Segment[] {
  return Array.from(text.matchAll(/\s+|\S+/gu), (match) => [match.index!, match.index! + match[0].length]);
}

/** Every unit of `expected` with the span of the whole input: always right, as coarse as it gets. */
function coarse(input: AlignedText, expected: string): AlignedText {
  const builder = new AlignedBuilder();
  builder.push(expected, input.spanOf(0, input.text.length));
  return builder.build(input.anchor);
}

/** Each segment's mapped text with the segment's span. */
function mapSegments(input: AlignedText, segments: readonly Segment[], pieces: readonly string[]): AlignedText {
  const builder = new AlignedBuilder();
  segments.forEach(([a, b], index) => builder.push(pieces[index]!, input.spanOf(a, b)));
  return builder.build(input.anchor);
}

/** Same length, and differing only in letter case at each position (ς for σ): safe to align position by position. */
function sameUpToCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && a[i]!.toUpperCase() !== b[i]!.toUpperCase()) return false;
  return true;
}

/**
 * Aligns `expected = map(input.text)` to `input`, for a `map` that is not known to be local:
 * mapping one code point at a time (or one cluster at a time: NFC composes a letter with its
 * marks) is used when it reproduces `expected` exactly; else whitespace-separated runs, each
 * aligned the same way; else, when the result differs only in letter case position by
 * position (JavaScript's `toLowerCase` maps a word-final Σ to ς), position by position; else
 * every character gets the span of the whole input.
 */
export function alignMapped(map: (text: string) => string, input: AlignedText, expected: string = map(input.text)): AlignedText {
  if (expected === input.text) return input;
  const attempts: { segments: Segment[]; pieces: string[] }[] = [];
  for (const segments of [codePointSegments(input.text), clusterSegments(input.text)]) {
    const pieces = segments.map(([a, b]) => map(input.text.slice(a, b)));
    if (pieces.join('') === expected) return mapSegments(input, segments, pieces);
    attempts.push({ segments, pieces });
  }
  const runs = whitespaceSegments(input.text);
  if (runs.length > 1) {
    const pieces = runs.map(([a, b]) => map(input.text.slice(a, b)));
    if (pieces.join('') === expected) {
      const builder = new AlignedBuilder();
      runs.forEach(([a, b], index) => {
        const run = alignMapped(map, input.slice(a, b), pieces[index]!);
        builder.copy(run, 0, run.text.length);
      });
      return builder.build(input.anchor);
    }
  }
  for (const { segments, pieces } of attempts) {
    if (sameUpToCase(pieces.join(''), expected)) {
      const aligned = mapSegments(input, segments, pieces);
      return new AlignedText(expected, aligned.starts, aligned.ends, aligned.anchor);
    }
  }
  return coarse(input, expected);
}

/**
 * What this module reads of an `@huggingface/tokenizers` normalizer: its config, `normalize`,
 * and the parts of Sequence and Replace. (The library's bundled types do not resolve under
 * NodeNext module resolution, so its shapes are declared where they are used.)
 */
export interface LibraryNormalizer {
  config: { type?: unknown; strip_left?: unknown; strip_right?: unknown; prepend?: unknown; content?: unknown };
  normalize(text: string): string;
  normalizers?: (LibraryNormalizer | null)[];
  pattern?: RegExp | null;
}

/** `normalizer.normalize(input.text)`, aligned to the original text. */
export function alignNormalizer(normalizer: LibraryNormalizer, input: AlignedText): AlignedText {
  const expected = normalizer.normalize(input.text);
  const aligned = alignKnown(normalizer, input);
  if (aligned === undefined) return alignMapped((text) => normalizer.normalize(text), input, expected);
  // The structural alignments must reproduce the library's output exactly; if a library version
  // behaves differently, the offsets get coarser but the text (and so the tokens) never changes.
  return aligned.text === expected ? aligned : alignMapped((text) => normalizer.normalize(text), input, expected);
}

/** Exact alignments for the normalizers whose effect is structural (sequence, strip, prepend, replace). */
function alignKnown(normalizer: LibraryNormalizer, input: AlignedText): AlignedText | undefined {
  const { config } = normalizer;
  switch (config.type) {
    case 'Sequence': {
      let current = input;
      for (const step of normalizer.normalizers ?? []) if (step !== null) current = alignNormalizer(step, current);
      return current;
    }
    case 'Strip': {
      const text = input.text;
      const start = config.strip_left === true ? text.length - text.trimStart().length : 0;
      const end = config.strip_right === true ? text.trimEnd().length : text.length;
      return input.slice(start, Math.max(start, end));
    }
    case 'Prepend': {
      if (typeof config.prepend !== 'string') return undefined;
      const builder = new AlignedBuilder();
      builder.push(config.prepend, undefined);
      builder.copy(input, 0, input.text.length);
      return builder.build(input.anchor);
    }
    case 'Replace': {
      const pattern = normalizer.pattern;
      const content = typeof config.content === 'string' ? config.content : '';
      if (pattern === undefined || pattern === null) return input;
      // A `$` in the replacement is a substitution pattern for `replaceAll`; those are left to the generic path.
      if (content.includes('$') || !pattern.global) return undefined;
      const builder = new AlignedBuilder();
      let last = 0;
      for (const match of input.text.matchAll(pattern)) {
        const start = match.index!;
        const end = start + match[0].length;
        builder.copy(input, last, start);
        builder.push(content, input.spanOf(start, end));
        last = end;
      }
      builder.copy(input, last, input.text.length);
      return builder.build(input.anchor);
    }
    default:
      return undefined;
  }
}

/**
 * The library's `remove_space` option (`text.trim().split(/\s+/).join(" ")`): interior runs of
 * whitespace become one space with the run's span.
 */
export function alignRemoveSpace(input: AlignedText): AlignedText {
  const expected = input.text.trim().split(/\s+/).join(' ');
  const builder = new AlignedBuilder();
  const runs = whitespaceSegments(input.text);
  runs.forEach(([a, b], index) => {
    if (!/^\s/u.test(input.text.slice(a, b))) builder.copy(input, a, b);
    else if (index > 0 && index < runs.length - 1) builder.push(' ', input.spanOf(a, b));
  });
  const aligned = builder.build(input.anchor);
  return aligned.text === expected ? aligned : alignMapped((text) => text.trim().split(/\s+/).join(' '), input, expected);
}
