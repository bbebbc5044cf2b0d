/** Small text helpers shared by the in-place YAML edits (the OpenStackVersion, the parent kustomization). */

/** Words that YAML 1.1 readers take for booleans or null when unquoted. */
export const YAML11_WORDS = /^(?:y|n|yes|no|true|false|on|off|null|~)$/i;

/** A string that reads back as the same string when written unquoted (YAML 1.1 and 1.2). */
export function plainSafe(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9._/@:+-]*$/.test(s) && !s.endsWith(':') && !YAML11_WORDS.test(s);
}

export function lineStart(src: string, pos: number): number {
  return src.lastIndexOf('\n', pos - 1) + 1;
}

/** The start of the line after the one where a node's content ends (its trailing comment goes with it). */
export function endOfLine(src: string, contentEnd: number): number {
  if (contentEnd > 0 && src[contentEnd - 1] === '\n') return contentEnd;
  const nl = src.indexOf('\n', contentEnd);
  return nl < 0 ? src.length : nl + 1;
}
