/**
 * The notes a load writes to the log. Rows set aside (by reason and file: a count and
 * the first lines) and an input's missing cells read as empty (by column) are tallied,
 * so that a file read block by block, whose blocks are merged here, words them as
 * reading it whole does; other notes are kept once. Notes come out in the order they
 * were first given, the rows set aside grouped by reason as one pass over the rows
 * gives them.
 */

/** The note on rows set aside: their file, count and first lines. */
export function droppedRowsNote(file: string, why: string, first: number[], count: number): string {
  return `${file}: dropped ${count} rows with ${why}: lines ${first.slice(0, 5).join(', ')}${count > 5 ? `, ... (${count} in all)` : ''}`;
}

/** The note on an input's missing cells read as empty values (text). */
export function emptyCellsNote(column: string, type: string, count: number): string {
  return `column "${column}": ${count} rows have no value; each reads as an empty ${type} (no tokens)`;
}

type Entry =
  | { kind: 'dropped'; file: string; why: string; count: number; lines: number[] }
  | { kind: 'empty'; column: string; type: string; count: number }
  | { kind: 'line'; text: string };

const FIRST_LINES = 5;

export class LoadNotes {
  private readonly entries = new Map<string, Entry>();

  /** Free-standing notes, each kept once. */
  push(...lines: string[]): void {
    for (const text of lines) if (!this.entries.has(`line\u0000${text}`)) this.entries.set(`line\u0000${text}`, { kind: 'line', text });
  }

  /** `count` rows of `file` set aside for `why`, the first of them at `lines` (in file order). */
  dropped(file: string, why: string, lines: ArrayLike<number>, count = lines.length): void {
    const key = `dropped\u0000${why}\u0000${file}`;
    let entry = this.entries.get(key) as Extract<Entry, { kind: 'dropped' }> | undefined;
    if (!entry) this.entries.set(key, (entry = { kind: 'dropped', file, why, count: 0, lines: [] }));
    entry.count += count;
    for (let i = 0; i < lines.length && entry.lines.length < FIRST_LINES; i++) entry.lines.push(lines[i]);
  }

  /** `count` rows whose `column` (an input of `type`) has no value. */
  emptyCells(column: string, type: string, count: number): void {
    const key = `empty\u0000${column}`;
    const entry = this.entries.get(key) as Extract<Entry, { kind: 'empty' }> | undefined;
    if (entry) entry.count += count;
    else this.entries.set(key, { kind: 'empty', column, type, count });
  }

  /** Adds another block's notes to these. */
  merge(other: LoadNotes): void {
    for (const entry of other.entries.values()) {
      if (entry.kind === 'line') this.push(entry.text);
      else if (entry.kind === 'empty') this.emptyCells(entry.column, entry.type, entry.count);
      else this.dropped(entry.file, entry.why, entry.lines, entry.count);
    }
  }

  lines(): string[] {
    const out: string[] = [];
    const whysDone = new Set<string>();
    const entries = [...this.entries.values()];
    for (const entry of entries) {
      if (entry.kind === 'line') out.push(entry.text);
      else if (entry.kind === 'empty') out.push(emptyCellsNote(entry.column, entry.type, entry.count));
      else if (!whysDone.has(entry.why)) {
        whysDone.add(entry.why);
        for (const e of entries) if (e.kind === 'dropped' && e.why === entry.why) out.push(droppedRowsNote(e.file, e.why, e.lines, e.count));
      }
    }
    return out;
  }
}
