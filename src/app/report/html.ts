/**
 * A tagged template for HTML that escapes every interpolated value unless it is already HTML
 * (the result of another `html` template), so a label or a file name can
 * never become markup by being forgotten.
 */
import { escapeHtml } from './format.js';

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Arrays are joined; null, undefined and false render nothing; anything else is escaped text. */
function piece(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let text = strings[0]!;
  values.forEach((value, index) => {
    text += piece(value) + strings[index + 1]!;
  });
  return new Html(text);
}
