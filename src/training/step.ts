/**
 * One optimization step of the multi-task objective, written by hand because
 * tfjs's model.compile has no loss weights: the weighting method combines the task
 * losses (Σ w_t·L_t for fixed weights), soft sharing adds its penalty, and the
 * optimizer applies the gradient. Everything the step allocates is freed before it
 * returns: the tensor count stays flat across steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TaskConfig } from '../config/schema';
import type { MultiTaskNetwork } from '../models/network';
import type { Weighting } from '../weighting';
import type { TrainOptimizer } from './optimizers';
import { asArray } from './evaluate';
import { taskLoss } from './losses';

export interface StepResult {
  /** Each task's loss on the batch, in task order. */
  taskLosses: number[];
  /** The soft-sharing penalty (0 without one). */
  penalty: number;
  /** The objective that was differentiated. */
  total: number;
  /** Squared L2 norm of the whole gradient. */
  gradNormSq: number;
  /** ‖∂objective/∂h_t‖ at each head's input, when the weighting asked for it. */
  representationGradNorms?: number[];
  /** False when the step was skipped (non-finite loss or gradient). */
  applied: boolean;
}

export interface StepSetup {
  network: MultiTaskNetwork;
  tasks: TaskConfig[];
  optimizer: TrainOptimizer;
  weighting: Weighting;
  /** An extra loss term (soft sharing's penalty), computed inside the tape. */
  penalty?: () => tf.Scalar;
}

export class TrainStep {
  private readonly variables: tf.Variable[];

  constructor(private readonly setup: StepSetup) {
    this.variables = [...setup.network.model.trainableWeights.map((w) => w.read() as tf.Variable), ...setup.weighting.variables];
  }

  /** Forward, backward and update on one batch; with `skipNonFinite` a NaN/Inf batch leaves the weights untouched. */
  run(x: tf.Tensor, targets: tf.Tensor[], skipNonFinite = true): StepResult {
    const { network, tasks, optimizer, weighting, penalty } = this.setup;
    const capture = weighting.needsRepresentationGrads;
    return tf.tidy(() => {
      let kept: tf.Scalar[] = [];
      let penaltyValue: tf.Scalar | undefined;
      const repNorms: tf.Scalar[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const features = asArray(network.features.apply(x, { training: true }));
        const outputs = network.heads.map((head, i) => {
          const h = features[network.featureIndex[i]];
          return asArray(head.apply(capture ? captureGradNorm(h, (norm) => (repNorms[i] = norm)) : h))[0];
        });
        kept = outputs.map((y, i) => tf.keep(taskLoss(tasks[i], y, targets[i])));
        let objective = weighting.objective(kept);
        if (penalty) {
          penaltyValue = tf.keep(penalty());
          objective = tf.add(objective, penaltyValue);
        }
        return objective;
      }, this.variables);
      const n = tasks.length;
      const read = tf.stack([...kept, value, penaltyValue ?? tf.scalar(0), ...repNorms]).dataSync();
      tf.dispose([...kept, ...(penaltyValue ? [penaltyValue] : []), ...repNorms]);
      const total = read[n];
      const gradNormSq = optimizer.gradNormSq(grads, this.variables);
      const finite = Number.isFinite(total) && Number.isFinite(gradNormSq);
      if (finite || !skipNonFinite) optimizer.apply(grads, this.variables);
      return {
        taskLosses: Array.from(read.subarray(0, n)),
        total,
        gradNormSq,
        penalty: read[n + 1],
        representationGradNorms: capture ? Array.from(read.subarray(n + 2)) : undefined,
        applied: finite || !skipNonFinite,
      };
    });
  }
}

/** Identity whose backward pass reports the norm of the gradient flowing through it. */
function captureGradNorm(h: tf.Tensor, report: (norm: tf.Scalar) => void): tf.Tensor {
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return {
      value: tf.clone(input),
      gradFunc: (dy: tf.Tensor) => {
        report(tf.keep(tf.norm(dy)) as tf.Scalar);
        return dy;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(h);
}
