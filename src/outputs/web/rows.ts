/**
 * Row objects, as a web page has them (`{bill_length_mm: "39.1", island: "Torgersen"}`,
 * numbers or strings, null for missing), into the model's inputs with a checkpoint's
 * saved preprocessing: each cell read as `mtl predict` reads a JSONL line (strings
 * trimmed, data.na_values and null missing, a missing text empty), filled or refused
 * under data.missing, and encoded by its input type's own `encode`.
 *
 * These functions run in the browser: mtl export writes their source into predict.js
 * (module-source.ts), with the input types' methods and gatherBatch they call.
 */
import { gatherBatch, type Batch } from '../../data/batches';
import type { Preprocessing, Split } from '../../data/types';
import { CellError, inputType, isPacked } from '../../inputs';

export type WebRow = Record<string, unknown>;

export interface EncodedRows {
  /** Per model input: the scored rows' values, and the shape of one sample. */
  inputs: Batch['inputs'];
  /** Indices (into the rows given) of the rows that were encoded, in order. */
  scored: Int32Array;
  /** Per row: why it could not be scored (as predict's `error`), or undefined. */
  errors: (string | undefined)[];
}

/** A row's cell for one input as text, or null when missing (absent, null, or one of data.na_values). */
export function rowCellText(row: WebRow, name: string, naValues: Set<string>): string | null {
  const value = row[name];
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') {
    const what = Array.isArray(value) ? 'an array' : 'an object';
    throw new CellError(`holds ${what}; a column holds one number or string per row`, `flatten "${name}" into one key per value`);
  }
  const text = typeof value === 'string' ? value.trim() : String(value);
  return naValues.has(text) ? null : text;
}

export function encodeRows(rows: WebRow[], pre: Preprocessing): EncodedRows {
  const specs = pre.inputs;
  const sizes = specs.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const values = sizes.map((size) => new Float32Array(rows.length * size));
  const naValues = new Set(pre.csv!.naValues);
  const errors: (string | undefined)[] = rows.map(() => undefined);
  const scored: number[] = [];
  rows.forEach((row, i) => {
    const k = scored.length;
    for (let f = 0; f < specs.length; f++) {
      const spec = specs[f];
      const type = inputType(spec.type);
      try {
        let cell = rowCellText(row, spec.name, naValues);
        if (cell === null && type.readsMissingAsEmpty) cell = '';
        if (cell === null) {
          if (pre.csv!.missing === 'drop') throw new CellError('is missing');
          cell = type.fill(spec.state);
        }
        type.encode(cell, spec.state, values[f].subarray(k * sizes[f], (k + 1) * sizes[f]), { file: '', strictCategories: true, unseen: { count: 0 } });
      } catch (e) {
        if (!(e instanceof CellError)) throw e;
        errors[i] = `column "${spec.name}" ${e.message}`;
        values.forEach((v, g) => v.fill(0, k * sizes[g], (k + 1) * sizes[g]));
        return;
      }
    }
    scored.push(i);
  });
  const n = scored.length;
  const split: Split = {
    size: n,
    inputs: specs.map((spec, f) => ({ name: spec.name, shape: spec.shape, packed: isPacked(spec), values: values[f].subarray(0, n * sizes[f]) })),
    targets: {},
    rows: Int32Array.from(scored),
  };
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  return { inputs: gatherBatch(split, order, 0, n).inputs, scored: Int32Array.from(scored), errors };
}
