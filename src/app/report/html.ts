/**
 * A tagged template for HTML that escapes every interpolated value unless it is already HTML
 * (the result of another `html` template), so a label or a file name can
 * never become markup by being forgotten.
 */
import { escapeHtml, inlineStyle } from './format.js';

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

/**
 * A whole self-contained page: the content security policy, the generator, the title, inline
 * styles (each made safe for `<style>`), the body and what follows it (scripts, already safe).
 */
export function htmlDocument(page: { csp: string; generator: string; title: Html; styles: readonly string[]; body: Html; after?: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${page.csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${page.generator}">
<title>${page.title}</title>
${page.styles.map((css) => `<style>${inlineStyle(css)}</style>`).join('\n')}
</head>
<body>${page.body}
${page.after === undefined ? '' : `${page.after}\n`}</body>
</html>
`;
}
