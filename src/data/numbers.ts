/** Cells as numbers: what counts as one, and the values too large to train on. */

/** A cell as a finite number, or undefined when it is not one. */
export function parseNumber(cell: string): number | undefined {
  if (cell === '') return undefined;
  const value = Number(cell);
  return Number.isFinite(value) ? value : undefined;
}

/** Values beyond this are treated as data errors rather than trained on. */
export const MAX_ABS_VALUE = 1e30;

export type NumericCell = { ok: true; value: number } | { ok: false; problem: string };

/** A cell as a number fit to train on, or the problem (`holds "x", expected a number`). */
export function numericCell(cell: string, purpose: 'train on' | 'score'): NumericCell {
  const value = cell === '' ? NaN : Number(cell);
  if (Number.isNaN(value)) return { ok: false, problem: `holds "${cell}", expected a number` };
  if (!Number.isFinite(value)) return { ok: false, problem: `holds ${cell}, not a finite number` };
  if (Math.abs(value) > MAX_ABS_VALUE) return { ok: false, problem: `holds ${cell}, too large to ${purpose}` };
  return { ok: true, value };
}
