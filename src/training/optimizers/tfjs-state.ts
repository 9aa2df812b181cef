/**
 * Optimizer state for exact resume. tfjs optimizers expose their slots (Adam's
 * moments, RMSProp's accumulators, the step count) through getWeights/setWeights,
 * but Adam's setWeights recomputes its bias-correction powers as beta^(t+1) instead of
 * restoring the running products, which drifts in float32: those are saved too.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../../outputs/checkpoint';

interface AdamInternals {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

const EXACT = ['accBeta1', 'accBeta2'] as const;

export async function getOptimizerState(optimizer: tf.Optimizer): Promise<NamedTensor[]> {
  const weights = await optimizer.getWeights();
  const internals = optimizer as unknown as AdamInternals;
  const exact = EXACT.filter((k) => internals[k]).map((k) => ({ name: `mtl:${k}`, tensor: internals[k]! }));
  return [...weights, ...exact];
}

/** Restores what getOptimizerState saved; the caller may dispose the tensors afterwards (variables keep their data). */
export async function setOptimizerState(optimizer: tf.Optimizer, state: NamedTensor[]): Promise<void> {
  const slots = state.filter((s) => !s.name.startsWith('mtl:'));
  await optimizer.setWeights(slots);
  const internals = optimizer as unknown as AdamInternals;
  for (const k of EXACT) {
    const saved = state.find((s) => s.name === `mtl:${k}`);
    if (saved && internals[k]) internals[k]!.assign(saved.tensor);
  }
}
