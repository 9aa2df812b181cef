/**
 * One optimization step of the multi-task objective, written by hand because
 * tfjs's model.compile has no loss weights. A loss-level weighting combines the task
 * losses (Σ w_t·L_t for fixed weights) and one backward pass gives every gradient; a
 * gradient method (weighting/gradient-weighting.ts) owns the backward pass of the
 * shared part instead: it gets each task's gradient there and returns the direction
 * to apply. The sharing scheme's loss terms (soft sharing's penalty) are added to the
 * objective either way. Everything the step allocates is freed before it returns: the
 * tensor count stays flat across steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TaskConfig } from '../config/schema';
import type { LossTerm } from '../models/loss-terms';
import type { MultiTaskNetwork } from '../models/network';
import type { Weighting } from '../weighting';
import type { GradientAggregation } from '../weighting/types';
import type { TrainOptimizer } from './optimizers';
import { asArray, modelInput } from './evaluate';
import { taskLoss, type TaskTarget } from './losses';
import { fuseReluForTraining } from '../models/training-fusion';

export interface StepResult {
  /** Each task's loss on the batch, in task order. */
  taskLosses: number[];
  /** The value of each of the sharing scheme's loss terms, in order. */
  terms: number[];
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
  /** Terms the sharing scheme adds to the objective. */
  lossTerms: LossTerm[];
}

/** Where a step is in the run: gradient methods seed their randomness from it. */
export interface StepPosition {
  globalStep: number;
  seed: number;
}

export class TrainStep {
  private readonly variables: tf.Variable[];
  private readonly shared: Set<tf.Variable>;

  constructor(private readonly setup: StepSetup) {
    fuseReluForTraining(setup.network.model, [setup.network.features]);
    this.variables = [...setup.network.model.trainableWeights.map((w) => w.read() as tf.Variable), ...setup.weighting.variables];
    this.shared = new Set(setup.network.shared);
  }

  /** The variables the step differentiates (model weights, then the weighting's own). */
  get trainable(): tf.Variable[] {
    return this.variables;
  }

  get lossTermCount(): number {
    return this.setup.lossTerms.length;
  }

  /** Floats of the per-task gradients a data-parallel reduce carries besides the summed ones. */
  get taskGradientLength(): number {
    return this.setup.weighting.gradient?.on === 'parameters' ? this.setup.tasks.length * sharedSize(this.setup.network) : 0;
  }

  /**
   * Forward, backward and update on one batch (`x`: one tensor per model input); with `skipNonFinite` a NaN/Inf batch
   * leaves the weights untouched. With a `reducer` (data-parallel training) this
   * batch is one shard, and the reducer combines it with the other shards before the
   * update (a gradient method's combination comes after), so every replica applies the same step.
   */
  run(x: tf.Tensor[], targets: TaskTarget[], position: StepPosition, skipNonFinite = true, reducer?: StepReducer): StepResult {
    const { optimizer, weighting } = this.setup;
    return tf.tidy(() => {
      // An empty shard (a last batch smaller than the number of replicas) contributes nothing.
      let local = x[0].shape[0] === 0 ? this.emptyLocal() : this.computeLocal(x, targets, position);
      if (reducer) local = reducer.reduce(local, this.variables);
      if (weighting.gradient?.on === 'parameters') this.combineShared(local, weighting.gradient, position);
      const gradNormSq = optimizer.gradNormSq(local.grads, this.variables);
      const finite = Number.isFinite(local.total) && Number.isFinite(gradNormSq);
      if (finite || !skipNonFinite) optimizer.apply(local.grads, this.variables);
      return {
        taskLosses: local.taskLosses,
        total: local.total,
        gradNormSq,
        terms: local.terms,
        representationGradNorms: local.representationGradNormsSq?.map(Math.sqrt),
        applied: finite || !skipNonFinite,
      };
    });
  }

  private emptyLocal(): LocalStep {
    const n = this.setup.tasks.length;
    const zeros = new Array<number>(n).fill(0);
    const taskGrads = this.taskGradientLength ? zeros.map(() => new Float32Array(this.taskGradientLength / n)) : undefined;
    return { taskLosses: zeros, total: 0, terms: this.setup.lossTerms.map(() => 0), representationGradNormsSq: this.setup.weighting.needsRepresentationGrads ? zeros : undefined, grads: {}, taskGrads };
  }

  /** Losses and gradients of one batch, nothing applied; the gradients live in the caller's tidy scope. */
  private computeLocal(x: tf.Tensor[], targets: TaskTarget[], position: StepPosition): LocalStep {
    const gradient = this.setup.weighting.gradient;
    if (gradient?.on === 'parameters') return this.perTaskPasses(x, targets);
    const { network, tasks, weighting, lossTerms } = this.setup;
    const capture = weighting.needsRepresentationGrads;
    let kept: tf.Scalar[] = [];
    let termValues: tf.Scalar[] = [];
    const repNormsSq: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      let features = asArray(network.features.apply(modelInput(x), { training: true }));
      // On the representation, one backward pass: the heads' gradients meet at the shared features and are combined there.
      if (gradient) features = fanOut(features[0], tasks.length, (dH) => this.combineRepresentation(dH, kept, gradient, position));
      const outputs = network.heads.map((head, i) => {
        const h = gradient ? features[i] : features[network.featureIndex[i]];
        return head.apply(capture ? captureGradNormSq(h, (normSq) => (repNormsSq[i] = normSq)) : h, { training: true });
      });
      kept = outputs.map((y, i) => tf.keep(taskLoss(tasks[i], y, targets[i])));
      termValues = lossTerms.map((term) => tf.keep(term.value()));
      const objective = weighting.objective(kept, position);
      return termValues.length ? (tf.addN([objective, ...termValues]) as tf.Scalar) : objective;
    }, this.variables);
    const n = tasks.length;
    const read = tf.stack([...kept, value, ...termValues, ...repNormsSq]).dataSync();
    tf.dispose([...kept, ...termValues, ...repNormsSq]);
    return {
      taskLosses: Array.from(read.subarray(0, n)),
      total: read[n],
      terms: Array.from(read.subarray(n + 1, n + 1 + termValues.length)),
      representationGradNormsSq: capture ? Array.from(read.subarray(n + 1 + termValues.length)) : undefined,
      grads,
    };
  }

  /**
   * A gradient method on the parameters: one forward and backward pass per task. The
   * shared weights' gradients are kept per task (flat, in `network.shared` order) for the
   * method; every other weight gets Σ_t ∂L_t, the terms' gradients included. Batch-norm
   * statistics move once per step, as in a single pass.
   */
  private perTaskPasses(x: tf.Tensor[], targets: TaskTarget[]): LocalStep {
    const { network, tasks, lossTerms } = this.setup;
    const statistics = network.model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
    let afterFirst: tf.Tensor[] = [];
    const grads: tf.NamedTensorMap = {};
    const add = (name: string, g: tf.Tensor) => (grads[name] = grads[name] ? tf.add(grads[name], g) : g);
    const losses: tf.Scalar[] = [];
    const taskGrads = tasks.map((task, t) => {
      const { value, grads: g } = tf.variableGrads(() => {
        const features = asArray(network.features.apply(modelInput(x), { training: true }));
        const y = network.heads[t].apply(features[network.featureIndex[t]], { training: true });
        return taskLoss(task, y, targets[t]);
      }, this.variables);
      if (t === 0) afterFirst = statistics.map((s) => s.clone());
      else statistics.forEach((s, k) => s.assign(afterFirst[k]));
      losses.push(value);
      const flat = new Float32Array(sharedSize(network));
      let offset = 0;
      for (const v of this.variables) {
        const gv = g[v.name];
        if (this.shared.has(v)) {
          if (gv) flat.set(gv.dataSync(), offset);
          offset += v.size;
        } else if (gv) add(v.name, gv);
      }
      return flat;
    });
    tf.dispose(afterFirst);
    let termValues: number[] = [];
    if (lossTerms.length) {
      const { value, grads: g } = tf.variableGrads(() => {
        const values = lossTerms.map((term) => term.value());
        termValues = Array.from(tf.stack(values).dataSync());
        return tf.addN(values) as tf.Scalar;
      }, this.variables);
      value.dispose();
      for (const [name, gv] of Object.entries(g)) add(name, gv);
    }
    const taskLosses = Array.from(tf.stack(losses).dataSync());
    return { taskLosses, total: taskLosses.reduce((a, b) => a + b, 0) + termValues.reduce((a, b) => a + b, 0), terms: termValues, grads, taskGrads };
  }

  /** The method's direction on the shared weights, added to what else reached them (the terms' gradients). */
  private combineShared(local: LocalStep, gradient: GradientAggregation, position: StepPosition): void {
    if (!local.taskGrads || local.taskGrads[0].length === 0) return;
    const { direction } = gradient.aggregate({ grads: local.taskGrads, losses: local.taskLosses }, position);
    let offset = 0;
    for (const v of this.setup.network.shared) {
      const d = tf.tensor(direction.subarray(offset, offset + v.size), v.shape, 'float32');
      offset += v.size;
      local.grads[v.name] = local.grads[v.name] ? tf.add(local.grads[v.name], d) : d;
    }
  }

  /** dH [tasks, ...h]: each task's gradient on the shared features -> the method's combination. */
  private combineRepresentation(dH: tf.Tensor, losses: tf.Scalar[], gradient: GradientAggregation, position: StepPosition): tf.Tensor {
    const tasks = dH.shape[0];
    const values = dH.dataSync() as Float32Array;
    const size = values.length / tasks;
    const grads = Array.from({ length: tasks }, (_, t) => values.subarray(t * size, (t + 1) * size));
    const taskLosses = Array.from(tf.tidy(() => tf.stack(losses).dataSync()));
    const { direction } = gradient.aggregate({ grads, losses: taskLosses }, position);
    return tf.tensor(direction, dH.shape.slice(1), 'float32');
  }
}

/** Floats in the shared weights (a gradient method's vectors on the parameters). */
function sharedSize(network: MultiTaskNetwork): number {
  return network.shared.reduce((n, v) => n + v.size, 0);
}

/** One shard's (or the whole batch's) step before the update. */
export interface LocalStep {
  taskLosses: number[];
  total: number;
  terms: number[];
  representationGradNormsSq?: number[];
  /** Gradients by variable name; missing for variables the objective does not reach. */
  grads: tf.NamedTensorMap;
  /** A gradient method on the parameters: each task's gradient of the shared weights, flat. */
  taskGrads?: Float32Array[];
}

/** Combines the shards of a data-parallel step (see training/parallel). */
export interface StepReducer {
  reduce(local: LocalStep, variables: tf.Variable[]): LocalStep;
}

/**
 * h -> `copies` views of h, one per task; the backward pass hands all the views'
 * gradients at once ([copies, ...h]) to `combine`, whose result is h's gradient.
 */
function fanOut(h: tf.Tensor, copies: number, combine: (dH: tf.Tensor) => tf.Tensor): tf.Tensor[] {
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return { value: tf.stack(new Array<tf.Tensor>(copies).fill(input)), gradFunc: (dH: tf.Tensor) => combine(dH) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return tf.unstack(op(h));
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
