/** A number: standardized with the train split's mean and std; missing cells get the mean. */
import { numericCell } from '../data/csv';
import { CellError, type InputType } from './types';

export interface NumericOptions {
  /** Scale by the train mean and std (false: the raw value). */
  standardize: boolean;
}

export interface NumericState {
  mean: number;
  std: number;
}

function fitValues(values: ArrayLike<number>, options: NumericOptions, rows?: ArrayLike<number>): NumericState {
  const { mean, std } = rows ? momentsAt(values, rows) : momentsAt(values, { length: values.length }, true);
  return options.standardize ? { mean, std: std > 0 ? std : 1 } : { mean: 0, std: 1 };
}

/** Mean and standard deviation of values[rows[i]] (of values[i] when `every`), in two passes. */
function momentsAt(values: ArrayLike<number>, rows: ArrayLike<number>, every = false): { mean: number; std: number } {
  const n = rows.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[every ? i : rows[i]];
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[every ? i : rows[i]] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / n) };
}

export const numericInput: InputType<NumericOptions, NumericState> = {
  fit: (cells, options) => fitValues(cells.map(Number), options),
  fitNumbers: fitValues,
  /**
   * One pass: the mean is the same sum as fit's; the spread is summed around the first
   * value and shifted to the mean (Σ(v-m)² = Σ(v-k)² - n(m-k)²), so it agrees with fit's to rounding.
   */
  fitter(options) {
    let n = 0;
    let sum = 0;
    let shift = 0;
    let shifted = 0;
    const addValue = (v: number) => {
      if (n === 0) shift = v;
      n++;
      sum += v;
      shifted += (v - shift) ** 2;
    };
    return {
      add: (cell, count = 1) => {
        for (let i = 0; i < count; i++) addValue(Number(cell));
      },
      addValue,
      get count() {
        return n;
      },
      finish() {
        const mean = sum / n;
        const std = Math.sqrt(Math.max(0, shifted / n - (mean - shift) ** 2));
        return options.standardize ? { mean, std: std > 0 ? std : 1 } : { mean: 0, std: 1 };
      },
    };
  },
  packed: () => true,
  shape: () => [1],
  fill: (state) => String(state.mean),
  encode(cell, state, out) {
    const value = numericCell(cell, 'score');
    if (!value.ok) throw new CellError(value.problem, 'fix the cell or mark it missing');
    out[0] = (value.value - state.mean) / state.std;
  },
  encodeNumber: (value, state) => (value - state.mean) / state.std,
  encoder: (input) => input,
};
