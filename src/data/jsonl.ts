/** JSON Lines files as a table: the keys are the columns, in order of first appearance. */
import { DataError } from '../errors';
import type { CsvTable } from './csv';
import { decodeUtf8, readDataFile } from './files';

/** The cell of a null value or an absent key: always missing, whatever data.na_values says. */
export const MISSING_CELL = '\u0000missing';

/**
 * The prefix of a cell that holds a flat JSON array of strings or numbers (followed by the
 * array as JSON): the labels of a multilabel task. Any other column refuses it (tabular.ts).
 */
export const LIST_CELL = '\u0000list';

export function readJsonl(file: string, key: string, limit?: number): CsvTable {
  const text = decodeUtf8(readDataFile(file, key), file).replace(/^\uFEFF/, '');
  const objects: { line: number; value: Record<string, unknown> }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length && (limit === undefined || objects.length < limit); i++) {
    const source = lines[i].trim();
    if (source === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (e) {
      throw new DataError(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`, 'each line of a JSONL file must be one JSON object');
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DataError(`${file}:${i + 1}: expected a JSON object, found ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`, 'each line of a JSONL file must be one JSON object, e.g. {"x": 1.5, "label": "a"}');
    }
    objects.push({ line: i + 1, value: value as Record<string, unknown> });
  }
  if (objects.length === 0) throw new DataError(`${file}: holds no JSON objects`, 'a JSONL file needs one JSON object per line');
  const header: string[] = [];
  const seen = new Set<string>();
  for (const { value } of objects) for (const k of Object.keys(value)) if (!seen.has(k)) (seen.add(k), header.push(k));
  const rows = objects.map(({ line, value }) =>
    header.map((column) => {
      const cell = value[column];
      if (cell === null || cell === undefined) return MISSING_CELL;
      if (typeof cell === 'string') return cell.trim();
      if (typeof cell === 'number' || typeof cell === 'boolean') return String(cell);
      if (Array.isArray(cell) && cell.every((v) => typeof v === 'string' || typeof v === 'number')) return LIST_CELL + JSON.stringify(cell);
      throw new DataError(`${file}:${line}: key "${column}" holds ${Array.isArray(cell) ? 'an array' : 'an object'}; a column holds one number or string per row`, `flatten "${column}" into one key per value`);
    }),
  );
  return { file, header, rows, lines: objects.map((o) => o.line) };
}
