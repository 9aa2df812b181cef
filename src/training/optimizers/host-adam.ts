/**
 * Adam computed on the host in one pass per weight, for backends whose tensors live
 * in CPU memory (wasm, the JS cpu backend, tfjs-node on the CPU). tfjs's Adam runs
 * about ten kernels per weight per step (moments, bias correction, update, assign),
 * which dominates small models; here each weight costs one read and one assign.
 *
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  w ← w − lr·(m/(1−β1^t)) / (√(v/(1−β2^t)) + ε)
 *
 * The state is the step count and the moments, so a restored optimizer continues
 * bit for bit. Checkpoints use the names tfjs's Adam uses ('iter', '<var>/m', '<var>/v').
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../../outputs/checkpoint';
import type { TrainOptimizer } from './types';

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export class HostAdam implements TrainOptimizer {
  private step = 0;
  private first: Float32Array[] = [];
  private second: Float32Array[] = [];
  private names: string[] = [];
  /** Gradients read by gradNormSq, reused by apply in the same step. */
  private read = new Map<tf.Tensor, Float32Array>();

  constructor(private options: AdamOptions) {}

  setLearningRate(rate: number): void {
    this.options = { ...this.options, learningRate: rate };
  }

  private values(g: tf.Tensor): Float32Array {
    let v = this.read.get(g);
    if (!v) {
      v = g.dataSync() as Float32Array;
      this.read.set(g, v);
    }
    return v;
  }

  gradNormSq(grads: tf.NamedTensorMap, variables: tf.Variable[]): number {
    this.read.clear();
    let sum = 0;
    for (const variable of variables) {
      const g = grads[variable.name];
      if (!g) continue;
      const values = this.values(g);
      for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
    }
    return sum;
  }

  apply(grads: tf.NamedTensorMap, variables: tf.Variable[]): void {
    const { learningRate, beta1, beta2, epsilon } = this.options;
    this.step++;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    if (this.first.length === 0) {
      this.first = variables.map((x) => new Float32Array(x.size));
      this.second = variables.map((x) => new Float32Array(x.size));
      this.names = variables.map((x) => x.name);
    }
    variables.forEach((variable, k) => {
      const g = grads[variable.name];
      if (!g) return;
      const grad = this.values(g);
      const m = this.first[k];
      const v = this.second[k];
      const w = Float32Array.from(variable.dataSync() as Float32Array);
      for (let i = 0; i < w.length; i++) {
        const gi = grad[i];
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        w[i] -= (learningRate * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + epsilon);
      }
      variable.assign(tf.tensor(w, variable.shape, 'float32'));
    });
    this.read.clear();
  }

  async getState(): Promise<NamedTensor[]> {
    const slots = (arrays: Float32Array[], suffix: string) => arrays.map((a, k) => ({ name: `${this.names[k]}/${suffix}`, tensor: tf.tensor(a) }));
    return [{ name: 'iter', tensor: tf.scalar(this.step, 'int32') }, ...slots(this.first, 'm'), ...slots(this.second, 'v')];
  }

  async setState(state: NamedTensor[]): Promise<void> {
    const [iter, ...moments] = state;
    this.step = iter.tensor.dataSync()[0];
    const half = moments.length / 2;
    this.first = moments.slice(0, half).map((s) => Float32Array.from(s.tensor.dataSync() as Float32Array));
    this.second = moments.slice(half).map((s) => Float32Array.from(s.tensor.dataSync() as Float32Array));
    this.names = moments.slice(0, half).map((s) => s.name.replace(/\/m$/, ''));
  }

  dispose(): void {
    this.read.clear();
  }
}
