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
import { hostValues } from '../../backends/kernels/host-arrays';
import type { NamedTensor } from '../../outputs/checkpoint';
import { gradientNormSq, type TrainOptimizer } from './types';

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Gradients up to this many floats are summed on the host in gradNormSq. */
const HOST_NORM_MAX_SIZE = 1 << 16;

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
   * On wasm and cpu the small gradients are summed in place on the host (two kernels
   * per weight, Square and Sum, cost more than the sum for a small model's thousands of
   * floats); the large ones by the backend's SIMD reductions.
   */
  gradNormSq(grads: tf.NamedTensorMap): number {
    const backend = tf.getBackend();
    if (backend !== 'wasm' && backend !== 'cpu') return gradientNormSq(grads);
    const large: tf.NamedTensorMap = {};
    let sum = 0;
    for (const [name, g] of Object.entries(grads)) {
      if (g.dtype !== 'float32' || g.size > HOST_NORM_MAX_SIZE) {
        large[name] = g;
        continue;
      }
      const v = hostValues(g);
      for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
    }
    return sum + gradientNormSq(large);
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
