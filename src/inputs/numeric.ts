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

export const numericInput: InputType<NumericOptions, NumericState> = {
  fit(cells, options) {
    const values = cells.map(Number);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    return options.standardize ? { mean, std: std > 0 ? std : 1 } : { mean: 0, std: 1 };
  },
  packed: () => true,
  shape: () => [1],
  fill: (state) => String(state.mean),
  encode(cell, state, out) {
    const value = numericCell(cell, 'score');
    if (!value.ok) throw new CellError(value.problem, 'fix the cell or mark it missing');
    out[0] = (value.value - state.mean) / state.std;
  },
  encoder: (input) => input,
};
