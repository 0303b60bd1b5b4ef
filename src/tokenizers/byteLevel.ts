/**
 * GPT-2's reversible byte ↔ character map (`bytes_to_unicode`): byte-level BPE vocabularies
 * (RoBERTa's `Ġhello`) spell every UTF-8 byte as one printable character.
 */

function buildByteToChar(): string[] {
  const printable: number[] = [];
  for (let byte = 0x21; byte <= 0x7e; byte++) printable.push(byte);
  for (let byte = 0xa1; byte <= 0xac; byte++) printable.push(byte);
  for (let byte = 0xae; byte <= 0xff; byte++) printable.push(byte);
  const chars = new Array<string>(256);
  for (const byte of printable) chars[byte] = String.fromCharCode(byte);
  let next = 0;
  for (let byte = 0; byte < 256; byte++) {
    if (chars[byte] === undefined) chars[byte] = String.fromCharCode(256 + next++);
  }
  return chars;
}

/** `BYTE_TO_CHAR[b]`: the character byte `b` is written as (space → `Ġ`, newline → `Ċ`). */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((char, byte) => [char, byte]));

const utf8Encoder = new TextEncoder();

/** `text` in the byte-level alphabet (what the ByteLevel pre-tokenizer makes of it). */
export function toByteLevel(text: string): string {
  let out = '';
  for (const byte of utf8Encoder.encode(text)) out += BYTE_TO_CHAR[byte]!;
  return out;
}

/** The bytes a byte-level string stands for, or undefined if a character is not in the alphabet. */
export function byteLevelBytes(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const byte = CHAR_TO_BYTE.get(text[i]!);
    if (byte === undefined) return undefined;
    bytes[i] = byte;
  }
  return bytes;
}

/** Number of UTF-8 bytes of a code point. */
export function utf8Length(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}
