/**
 * "Did you mean …?" for words smile looks up itself (help topics and commands, explain codes);
 * commander suggests for the commands and flags it parses.
 */

/** Edit distance with transpositions (optimal string alignment): `exit-code` → `exit-codes` is 1. */
function distance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidates closest to `word` (at most 3): within a third of the word's length (at least 1,
 * at most 3 edits), or that start with it (`explain face` → face_*). Case and `-`/`_` are ignored.
 */
export function suggest(word: string, candidates: Iterable<string>): string[] {
  const plain = (text: string) => text.toLowerCase().replace(/-/g, '_');
  const wanted = plain(word);
  if (wanted === '') return [];
  const limit = Math.min(3, Math.max(1, Math.floor(wanted.length / 3)));
  const scored: [string, number][] = [];
  for (const candidate of new Set(candidates)) {
    const target = plain(candidate);
    const edits = distance(wanted, target);
    if (edits <= limit) scored.push([candidate, edits]);
    else if (wanted.length >= 3 && target.startsWith(wanted)) scored.push([candidate, limit + 1]);
  }
  return scored
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([candidate]) => candidate);
}

/** ` Did you mean exit-codes?` (with a leading space), or '' when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const found = suggest(word, candidates);
  if (found.length === 0) return '';
  return ` Did you mean ${found.length === 1 ? found[0] : `${found.slice(0, -1).join(', ')} or ${found.at(-1)}`}?`;
}
