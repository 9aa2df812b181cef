/**
 * Cross-stitch units (Misra et al. 2016): each task's next-stage input is a learned mix
 * Σ_j α_tj x_j of every task's activations at this point; the task-by-task matrix α
 * starts near identity.
 *
 * They are built from stock tfjs layers only, so a checkpoint loads with a plain
 * `tf.loadLayersModel` (in a browser too). Every task's activations (shape S, D = ∏S)
 * become a row [1, D] (`<name>_<task>.row`); the rows are concatenated to [T, D]
 * (`<name>.stack`) and turned to [D, T] (`<name>.tasks_last`, a Permute); one Dense(T, no
 * bias) over the task axis (`<name>`) holds the matrix: its kernel [T, T] is αᵀ, column t
 * the row α_t of task t; the result is turned back to [T, D] (`<name>.tasks_first`) and
 * task t's row is cropped out (`<name>_<task>.crop`, a Cropping2D) and reshaped to S
 * (`<name>_<task>`). Task names hold no '.', so these names never collide. (Stacking on
 * the last axis directly is 5x slower on wasm, whose Concat copies element by element.)
 *
 * `CrossStitch` below is the custom layer that checkpoints written before used (weight
 * `alpha` of shape [T]); it stays registered so those checkpoints still load in mtl.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { registerLayer } from './stock-layer';

/** Initial row α_t: `initSelf` for the own task, the rest of 1 shared equally by the others. */
export function crossStitchRow(task: number, tasks: number, initSelf: number): number[] {
  const other = tasks > 1 ? (1 - initSelf) / (tasks - 1) : 0;
  return Array.from({ length: tasks }, (_, j) => (j === task ? initSelf : other));
}

/**
 * The cross-stitch units of one stage on `activations` (one tensor per task, all of one
 * shape): returns each task's mix. `name` prefixes the layers, `tasks` names them per task.
 */
export function crossStitchUnits(activations: SymbolicTensor[], tasks: string[], initSelf: number, name: string): SymbolicTensor[] {
  const T = tasks.length;
  const shape = activations[0].shape.slice(1) as number[];
  const size = shape.reduce((a, b) => a * b, 1);
  const rows = activations.map((x, t) => tfl.layers.reshape({ targetShape: [1, size], name: `${name}_${tasks[t]}.row` }).apply(x) as SymbolicTensor);
  let h = tfl.layers.concatenate({ axis: 1, name: `${name}.stack` }).apply(rows) as SymbolicTensor;
  h = tfl.layers.permute({ dims: [2, 1], name: `${name}.tasks_last` }).apply(h) as SymbolicTensor;
  const units = tfl.layers.dense({ units: T, useBias: false, kernelInitializer: 'zeros', name });
  h = units.apply(h) as SymbolicTensor;
  // kernel[j][t] = α_tj: column t is task t's row.
  const alpha = tasks.map((_, t) => crossStitchRow(t, T, initSelf));
  const kernel = tf.tensor2d(alpha[0].map((_, j) => alpha.map((row) => row[j])));
  units.setWeights([kernel]);
  kernel.dispose();
  h = tfl.layers.permute({ dims: [2, 1], name: `${name}.tasks_first` }).apply(h) as SymbolicTensor;
  h = tfl.layers.reshape({ targetShape: [T, size, 1], name: `${name}.rows` }).apply(h) as SymbolicTensor;
  return tasks.map((task, t) => {
    const row = tfl.layers.cropping2D({ cropping: [[t, T - 1 - t], [0, 0]], name: `${name}_${task}.crop` }).apply(h) as SymbolicTensor;
    return tfl.layers.reshape({ targetShape: shape, name: `${name}_${task}` }).apply(row) as SymbolicTensor;
  });
}

export interface CrossStitchArgs {
  /** Index of this unit's own task among the inputs. */
  task: number;
  /** Number of tasks (inputs). */
  tasks: number;
  /** Initial weight of the own task; the others share 1 − initSelf equally. */
  initSelf: number;
  name?: string;
}

type Kwargs = Record<string, unknown>;

/** The custom cross-stitch layer of older checkpoints (loading only; new models use `crossStitchUnits`). */
export class CrossStitch extends tfl.layers.Layer {
  static className = 'CrossStitch';
  private readonly task: number;
  private readonly tasks: number;
  private readonly initSelf: number;
  private alpha?: tfl.LayerVariable;

  constructor(args: CrossStitchArgs) {
    super({ name: args.name });
    this.task = args.task;
    this.tasks = args.tasks;
    this.initSelf = args.initSelf;
  }

  override build(): void {
    this.alpha = this.addWeight('alpha', [this.tasks], 'float32', tfl.initializers.constant({ value: 0 }));
    this.alpha.write(tf.tensor1d(crossStitchRow(this.task, this.tasks, this.initSelf)));
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const xs = Array.isArray(inputs) ? inputs : [inputs];
      const alpha = this.alpha!.read();
      return tf.addN(xs.map((x, j) => tf.mul(x, tf.slice(alpha, [j], [1]))));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), task: this.task, tasks: this.tasks, initSelf: this.initSelf };
  }
}

registerLayer(CrossStitch);
