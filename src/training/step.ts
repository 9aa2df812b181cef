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
import { asArray, modelInput } from './evaluate';
import { taskLoss, type TaskTarget } from './losses';

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

  /** The variables the step differentiates (model weights, then the weighting's own). */
  get trainable(): tf.Variable[] {
    return this.variables;
  }

  /**
   * Forward, backward and update on one batch (`x`: one tensor per model input); with `skipNonFinite` a NaN/Inf batch
   * leaves the weights untouched. With a `reducer` (data-parallel training) this
   * batch is one shard, and the reducer combines it with the other shards before the
   * update, so every replica applies the same step.
   */
  run(x: tf.Tensor[], targets: TaskTarget[], skipNonFinite = true, reducer?: StepReducer): StepResult {
    const { optimizer } = this.setup;
    return tf.tidy(() => {
      // An empty shard (a last batch smaller than the number of replicas) contributes nothing.
      let local = x[0].shape[0] === 0 ? this.emptyLocal() : this.computeLocal(x, targets);
      if (reducer) local = reducer.reduce(local, this.variables);
      const gradNormSq = optimizer.gradNormSq(local.grads, this.variables);
      const finite = Number.isFinite(local.total) && Number.isFinite(gradNormSq);
      if (finite || !skipNonFinite) optimizer.apply(local.grads, this.variables);
      return {
        taskLosses: local.taskLosses,
        total: local.total,
        gradNormSq,
        penalty: local.penalty,
        representationGradNorms: local.representationGradNormsSq?.map(Math.sqrt),
        applied: finite || !skipNonFinite,
      };
    });
  }

  private emptyLocal(): LocalStep {
    const n = this.setup.tasks.length;
    const zeros = new Array<number>(n).fill(0);
    return { taskLosses: zeros, total: 0, penalty: 0, representationGradNormsSq: this.setup.weighting.needsRepresentationGrads ? zeros : undefined, grads: {} };
  }

  /** Losses and gradients of one batch, nothing applied; the gradients live in the caller's tidy scope. */
  private computeLocal(x: tf.Tensor[], targets: TaskTarget[]): LocalStep {
    const { network, tasks, weighting, penalty } = this.setup;
    const capture = weighting.needsRepresentationGrads;
    let kept: tf.Scalar[] = [];
    let penaltyValue: tf.Scalar | undefined;
    const repNormsSq: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const features = asArray(network.features.apply(modelInput(x), { training: true }));
      const outputs = network.heads.map((head, i) => {
        const h = features[network.featureIndex[i]];
        return asArray(head.apply(capture ? captureGradNormSq(h, (normSq) => (repNormsSq[i] = normSq)) : h))[0];
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
    const read = tf.stack([...kept, value, penaltyValue ?? tf.scalar(0), ...repNormsSq]).dataSync();
    tf.dispose([...kept, ...(penaltyValue ? [penaltyValue] : []), ...repNormsSq]);
    return {
      taskLosses: Array.from(read.subarray(0, n)),
      total: read[n],
      penalty: read[n + 1],
      representationGradNormsSq: capture ? Array.from(read.subarray(n + 2)) : undefined,
      grads,
    };
  }
}

/** One shard's (or the whole batch's) step before the update. */
export interface LocalStep {
  taskLosses: number[];
  total: number;
  penalty: number;
  representationGradNormsSq?: number[];
  /** Gradients by variable name; missing for variables the objective does not reach. */
  grads: tf.NamedTensorMap;
}

/** Combines the shards of a data-parallel step (see training/parallel). */
export interface StepReducer {
  reduce(local: LocalStep, variables: tf.Variable[]): LocalStep;
}

/** Identity whose backward pass reports the squared norm of the gradient flowing through it. */
function captureGradNormSq(h: tf.Tensor, report: (normSq: tf.Scalar) => void): tf.Tensor {
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return {
      value: tf.clone(input),
      gradFunc: (dy: tf.Tensor) => {
        report(tf.keep(tf.sum(tf.square(dy))) as tf.Scalar);
        return dy;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(h);
}
