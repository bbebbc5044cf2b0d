/**
 * Echoing input back in a message without letting it drive the terminal: every character outside
 * printable ASCII (control bytes, DEL, C1 controls, bidi overrides, homoglyphs) is shown as a
 * `\uXXXX` escape, and long values are cut, so an error about a hostile value stays one readable line.
 */

/** Longest part of a value echoed in a message. */
export const ECHO_MAX = 80;

function escapeChar(c: string): string {
  switch (c) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '"':
      return '\\"';
    case '\\':
      return '\\\\';
    default: {
      const code = c.codePointAt(0) ?? 0;
      if (code >= 0x20 && code < 0x7f) return c;
      // astral characters as their UTF-16 pair, like JSON
      return [...c]
        .flatMap((ch) => (ch.length === 2 ? [ch.charCodeAt(0), ch.charCodeAt(1)] : [ch.charCodeAt(0)]))
        .map((u) => `\\u${u.toString(16).padStart(4, '0')}`)
        .join('');
    }
  }
}

/** `value` in double quotes, escaped to printable ASCII, at most `max` characters of it. */
export function quoteInput(value: string, max: number = ECHO_MAX): string {
  const chars = [...value];
  const cut = chars.length > max;
  const body = (cut ? chars.slice(0, max) : chars).map(escapeChar).join('');
  return `"${body}"${cut ? `… (${chars.length} characters)` : ''}`;
}

/** True when `value` holds a character that is not printable ASCII (the grammars allow none). */
export function hasNonPrintable(value: string): boolean {
  return /[^\x20-\x7e]/.test(value);
}

// C0 and C1 controls, DEL, and the bidi controls that reorder what a terminal shows
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with control characters escaped as `\uXXXX` and everything else kept (file names with
 * accents stay readable). The last line of defence for text printed to a terminal.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL_RE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
