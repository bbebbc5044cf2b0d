/**
 * `a.localeCompare(b)` without its cost: the first call builds an ICU collator (10-40 ms of a
 * plan's start-up, issue 14). Names, image fields and paths are ASCII letters, digits and `-./`,
 * where the collator's order is plain: `-` < `.` < `/` < digits < letters, letters compared
 * without case first, then lower case before upper case at the first place the case differs.
 * Any other character goes to localeCompare. The order is the root (English) collation's; under a
 * locale that tailors plain letters (Danish `aa`) it stays the same, as deterministic output wants.
 */
const PLAIN = /^[A-Za-z0-9./-]*$/;

export function compareText(a: string, b: string): number {
  if (!PLAIN.test(a) || !PLAIN.test(b)) return a.localeCompare(b);
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  for (let i = 0; i < a.length; i++) {
    // same letters: at the first difference in case, lower case comes first ('a' > 'A' in code units)
    if (a[i] !== b[i]) return a[i]! > b[i]! ? -1 : 1;
  }
  return 0;
}
