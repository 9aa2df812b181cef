/**
 * The trials of a sweep: the grid's cartesian product (first parameter slowest), or
 * run_cap seeded random draws; and the rungs of successive halving.
 */
import { deriveSeed, Rng } from '../data/rng';
import type { HyperbandSpec, ParameterSpec, SweepSpec } from './spec';

export type Parameters = Record<string, unknown>;

/** The values a grid takes for one parameter. */
export function gridValues(p: ParameterSpec): unknown[] {
  if (p.distribution === 'constant') return [p.value];
  if (p.distribution === 'categorical') return p.values!;
  if (p.distribution === 'int_uniform') return Array.from({ length: p.max! - p.min! + 1 }, (_, i) => p.min! + i);
  throw new Error(`no grid over ${p.distribution}`);
}

/** One draw of a parameter. */
export function sample(p: ParameterSpec, rng: Rng): unknown {
  switch (p.distribution) {
    case 'constant':
      return p.value;
    case 'categorical': {
      const values = p.values!;
      if (!p.probabilities) return values[rng.int(values.length)];
      let u = rng.next();
      for (let i = 0; i < values.length; i++) {
        u -= p.probabilities[i];
        if (u < 0) return values[i];
      }
      return values[values.length - 1];
    }
    case 'uniform':
      return p.min! + rng.next() * (p.max! - p.min!);
    case 'int_uniform':
      return p.min! + rng.int(p.max! - p.min! + 1);
    case 'log_uniform_values':
      return Math.exp(Math.log(p.min!) + rng.next() * (Math.log(p.max!) - Math.log(p.min!)));
    case 'log_uniform':
      // W&B: min and max are natural logarithms of the bounds.
      return Math.exp(p.min! + rng.next() * (p.max! - p.min!));
  }
}

/** Every trial's parameters, in trial order. */
export function planTrials(spec: SweepSpec, seed: number): Parameters[] {
  if (spec.method === 'grid') {
    let combos: Parameters[] = [{}];
    for (const p of spec.parameters) combos = combos.flatMap((c) => gridValues(p).map((v) => ({ ...c, [p.name]: v })));
    return spec.run_cap !== undefined ? combos.slice(0, spec.run_cap) : combos;
  }
  const rng = new Rng(deriveSeed(seed, 0x5eed));
  return Array.from({ length: spec.run_cap! }, () => Object.fromEntries(spec.parameters.map((p) => [p.name, round(sample(p, rng))])));
}

/** Draws keep 6 significant digits: sweep.csv, names and YAML stay readable, and the same draw reads back the same. */
function round(v: unknown): unknown {
  return typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v;
}

/**
 * The epochs at which successive halving ranks the trials still running and keeps the
 * best 1/eta: min_iter·eta^k (at most s of them), or with max_iter max_iter/eta^k for
 * k = s..1, always below the longest trial's epochs.
 */
export function hyperbandRungs(h: HyperbandSpec, maxEpochs: number): number[] {
  const rungs: number[] = [];
  if (h.min_iter !== undefined) {
    for (let r = h.min_iter; r < maxEpochs && (h.s === undefined || rungs.length < h.s); r = Math.max(r + 1, Math.round(r * h.eta))) rungs.push(r);
  } else {
    for (let k = h.s!; k >= 1; k--) {
      const r = Math.floor(h.max_iter! / h.eta ** k);
      if (r >= 1 && r < maxEpochs && !rungs.includes(r)) rungs.push(r);
    }
  }
  return rungs;
}

/** How many of n trials ranked at a rung go on. */
export function keepCount(n: number, eta: number): number {
  return Math.max(1, Math.ceil(n / eta));
}
