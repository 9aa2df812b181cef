/**
 * A cross-stitch unit (Misra et al. 2016) for one task: its next-stage input is a
 * learned mix Σ_j α_j x_j of every task's activations at this point. One unit per
 * task makes the task-by-task matrix α of the paper; rows start near identity.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

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
    const other = this.tasks > 1 ? (1 - this.initSelf) / (this.tasks - 1) : 0;
    const init = Array.from({ length: this.tasks }, (_, j) => (j === this.task ? this.initSelf : other));
    this.alpha = this.addWeight('alpha', [this.tasks], 'float32', tfl.initializers.constant({ value: 0 }));
    this.alpha.write(tf.tensor1d(init));
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

tf.serialization.registerClass(CrossStitch as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
