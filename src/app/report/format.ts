/**
 * Escaping for the three places user-controlled text reaches in the report — HTML text and
 * attributes, inline scripts and styles, a JSON data block — and the report's number formats.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content or a quoted attribute value. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/**
 * JavaScript for an inline <script>: the only sequences that end or confuse a script element's
 * raw text are `</script` and `<!--`; both are rewritten with a backslash, which means the same
 * inside the string literals where bundled code has them.
 */
export function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** CSS for an inline <style> (`\/` is `/` in CSS). */
export function inlineStyle(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

/** JSON for a `<script type="application/json">` block: no `<`, `>` or `&` can end or open anything. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export const DASH = '—';

export function formatCount(value: number | undefined): string {
  return value === undefined ? DASH : value.toLocaleString('en-US');
}

export function formatLoss(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : value.toFixed(4);
}

export function formatScore(value: number | undefined): string {
  return value === undefined ? DASH : value.toFixed(3);
}

export function formatPercent(value: number | undefined, digits = 1): string {
  return value === undefined ? DASH : `${(value * 100).toFixed(digits)}%`;
}

/** A setting's number as a user would type it: 0.0005 → 5e-4, 1e-5 → 1e-5, 32 → 32. */
export function formatSettingNumber(value: number): string {
  if (value !== 0 && Math.abs(value) < 1e-3) return value.toExponential();
  return String(Number(value.toPrecision(6)));
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return DASH;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(2) : seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

/** An ISO date as `2025-03-14 09:26 UTC` (the same wherever the report is opened); other text as is. */
export function formatDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The last path component (either separator), for titles; the full path stays in the details. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter((part) => part !== '');
  return parts[parts.length - 1] ?? path;
}

export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? noun : pluralNoun}`;
}
