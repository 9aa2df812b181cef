/**
 * The soft-sharing penalty λ · Σ_{a<b} ‖θ_a − θ_b‖ over corresponding weights of
 * the task copies: squared L2 (Σ (θ_a − θ_b)²) or L1 (Σ |θ_a − θ_b|).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MultiTaskNetwork } from './network';

export interface SoftPenaltyOptions {
  lambda: number;
  penalty: 'l2' | 'l1';
  /** Only weights of these layers (names as in one backbone copy). */
  layers?: string[];
}

/** The weight groups the penalty covers. */
export function penalizedGroups(copies: MultiTaskNetwork['copies'], layers?: string[]): MultiTaskNetwork['copies'] {
  return layers ? copies.filter((c) => layers.includes(c.name.split('/')[0])) : copies;
}

export function softPenalty(groups: MultiTaskNetwork['copies'], options: SoftPenaltyOptions): tf.Scalar {
  return tf.tidy(() => {
    const terms: tf.Tensor[] = [];
    for (const { variables } of groups) {
      for (let a = 0; a < variables.length; a++) {
        for (let b = a + 1; b < variables.length; b++) {
          const diff = tf.sub(variables[a], variables[b]);
          terms.push(tf.sum(options.penalty === 'l2' ? tf.square(diff) : tf.abs(diff)));
        }
      }
    }
    return terms.length ? (tf.mul(tf.addN(terms), options.lambda) as tf.Scalar) : tf.scalar(0);
  });
}
