/**
 * Token-level test data in the vocabulary of the tiny checkpoints (scripts/make-tiny-checkpoints.mjs,
 * whose WordPiece vocabulary is learned from a short story about the town of Ashford): unlabelled
 * lines for masked-LM pretraining and IOB2-tagged sentences (the checkpoints' TOKEN_LABELS
 * O, B-PER, I-PER, B-LOC, I-LOC) for token classification.
 */
import { writeFileSync } from 'node:fs';

const LINES = [
  'the small town of ashford sits where two rivers meet',
  'every morning the baker opens at six and by seven the queue reaches the corner',
  'people talk about the weather the football results and the price of bread',
  'in the autumn the leaves fall into the water and drift slowly',
  'children walk to school along the river path counting ducks and throwing stones',
  'the library has books two computers and a cat',
  'the cat sleeps on the warm printer',
  'the mayor went to the market on friday',
  'farmers bring fresh fruit cheese and honey to the square',
  'the engineers compare the gradient of every batch with the sum',
];

/** `count` lines of plain text (one document each), cycling through the story with varying lengths. */
export function corpusLines(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const words = LINES[i % LINES.length]!.split(' ');
    // Different lengths, so micro-batches hold different numbers of maskable tokens.
    return words.slice(0, Math.max(3, words.length - (i % 4))).join(' ');
  });
}

export interface TaggedWords {
  tokens: string[];
  tags: string[];
}

const SENTENCES: TaggedWords[] = [
  { tokens: ['the', 'mayor', 'of', 'ashford', 'went', 'to', 'the', 'market'], tags: ['O', 'B-PER', 'O', 'B-LOC', 'O', 'O', 'O', 'O'] },
  { tokens: ['pepper', 'sleeps', 'in', 'the', 'library'], tags: ['B-PER', 'O', 'O', 'O', 'B-LOC'] },
  { tokens: ['the', 'baker', 'opens', 'at', 'six'], tags: ['O', 'B-PER', 'O', 'O', 'O'] },
  { tokens: ['farmers', 'bring', 'honey', 'to', 'ashford', 'square'], tags: ['B-PER', 'O', 'O', 'O', 'B-LOC', 'I-LOC'] },
  { tokens: ['children', 'walk', 'along', 'the', 'river'], tags: ['O', 'O', 'O', 'O', 'B-LOC'] },
  { tokens: ['mayor', 'pepper', 'meets', 'the', 'engineers', 'in', 'the', 'cafe'], tags: ['B-PER', 'I-PER', 'O', 'O', 'B-PER', 'O', 'O', 'B-LOC'] },
  { tokens: ['rain'], tags: ['O'] },
];

/** `count` tagged sentences of varying lengths (1 to 8 words, some words of several sub-tokens). */
export function nerSentences(count: number): TaggedWords[] {
  return Array.from({ length: count }, (_, i) => SENTENCES[i % SENTENCES.length]!);
}

/** CoNLL-2003 layout: `-DOCSTART-`, then one "word POS tag" line per word, a blank line between sentences. */
export function writeConll(file: string, sentences: readonly TaggedWords[]): string {
  const blocks = sentences.map((sentence) => sentence.tokens.map((token, i) => `${token} NN ${sentence.tags[i]}`).join('\n'));
  writeFileSync(file, `-DOCSTART- -X- O\n\n${blocks.join('\n\n')}\n`);
  return file;
}

export function writeLines(file: string, lines: readonly string[]): string {
  writeFileSync(file, lines.map((line) => line + '\n').join(''));
  return file;
}
