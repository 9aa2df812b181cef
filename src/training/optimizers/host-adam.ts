/**
 * Adam as one kernel per weight (MtlAdam, src/backends/kernels/adam.ts) for backends
 * whose tensors live in CPU memory (wasm, the JS cpu backend, tfjs-node on the CPU).
 * tfjs's Adam runs about ten kernels per weight per step (moments, bias correction,
 * update, assign), which dominates small models.
 *
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  w ← w − lr·(m/(1−β1^t)) / (√(v/(1−β2^t)) + ε)
 *
 * The state is the step count and the moments, so a restored optimizer continues
 * bit for bit. Checkpoints use the names tfjs's Adam uses ('iter', '<var>/m', '<var>/v').
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamUpdate } from '../../backends/kernels/adam';
import { sumOfSquares } from '../../backends/kernels/sum-squares';
import type { NamedTensor } from '../../outputs/checkpoint';
import { gradientNormSq, type TrainOptimizer } from './types';

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export class HostAdam implements TrainOptimizer {
  private step = 0;
  /** First and second moments, by position in the step's variables (names differ between processes). */
  private first: tf.Tensor[] = [];
  private second: tf.Tensor[] = [];
  private names: string[] = [];

  constructor(private options: AdamOptions) {}

  setLearningRate(rate: number): void {
    this.options = { ...this.options, learningRate: rate };
  }

  /**
   * On wasm and cpu each gradient's Σ g² is one read-only pass (sumOfSquares; tfjs's
   * Square and Sum write a full-size square first: 16 ms of a ResNet-50 step); elsewhere
   * the backend's ops.
   */
  gradNormSq(grads: tf.NamedTensorMap): number {
    const rest: tf.NamedTensorMap = {};
    let sum = 0;
    for (const [name, g] of Object.entries(grads)) {
      const s = sumOfSquares(g);
      if (s === undefined) rest[name] = g;
      else sum += s;
    }
    return sum + gradientNormSq(rest);
  }

  apply(grads: tf.NamedTensorMap, variables: tf.Variable[]): void {
    this.step++;
    const attrs = { ...this.options, step: this.step };
    if (this.first.length === 0) {
      this.first = variables.map((x) => tf.keep(tf.zerosLike(x)));
      this.second = variables.map((x) => tf.keep(tf.zerosLike(x)));
      this.names = variables.map((x) => x.name);
    }
    variables.forEach((variable, k) => {
      const g = grads[variable.name];
      if (!g) return;
      const [w, m, v] = adamUpdate(variable, g, this.first[k], this.second[k], attrs);
      tf.dispose([this.first[k], this.second[k]]);
      this.first[k] = tf.keep(m);
      this.second[k] = tf.keep(v);
      variable.assign(w);
      w.dispose();
    });
  }

  async getState(): Promise<NamedTensor[]> {
    const slots = (moments: tf.Tensor[], suffix: string) => moments.map((t, k) => ({ name: `${this.names[k]}/${suffix}`, tensor: t.clone() }));
    return [{ name: 'iter', tensor: tf.scalar(this.step, 'int32') }, ...slots(this.first, 'm'), ...slots(this.second, 'v')];
  }

  async setState(state: NamedTensor[]): Promise<void> {
    const [iter, ...moments] = state;
    this.dispose();
    this.step = iter.tensor.dataSync()[0];
    const half = moments.length / 2;
    this.first = moments.slice(0, half).map((s) => tf.keep(s.tensor.clone()));
    this.second = moments.slice(half).map((s) => tf.keep(s.tensor.clone()));
    this.names = moments.slice(0, half).map((s) => s.name.replace(/\/m$/, ''));
  }

  dispose(): void {
    tf.dispose([...this.first, ...this.second]);
    this.first = [];
    this.second = [];
  }
}
