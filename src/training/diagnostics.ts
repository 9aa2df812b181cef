/**
 * Task-gradient diagnostics: on a fixed probe batch, each task's gradient on the
 * shared parameters, its norm, and the cosine similarity of every pair. A pair
 * whose cosine stays negative means the tasks pull the shared weights apart.
 * The model runs in inference mode here, so the probe changes no state.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TaskConfig } from '../config/schema';
import type { MultiTaskNetwork } from '../models/network';
import { asArray, modelInput } from './evaluate';
import { taskLoss, type TaskTarget } from './losses';

export interface GradientProbe {
  norms: number[];
  /** cos[a][b] for a < b. */
  cosines: number[][];
}

export function pairKey(a: string, b: string): string {
  return `${a}~${b}`;
}

export function probeTaskGradients(network: MultiTaskNetwork, tasks: TaskConfig[], x: tf.Tensor[], targets: TaskTarget[]): GradientProbe {
  const n = tasks.length;
  const flat = tf.tidy(() =>
    tasks.map((task, i) => {
      const { grads } = tf.variableGrads(() => {
        const outputs = asArray(network.model.apply(modelInput(x), { training: false }));
        return taskLoss(task, outputs[i], targets[i]);
      }, network.shared);
      return tf.concat(network.shared.map((v) => tf.reshape(grads[v.name] ?? tf.zerosLike(v), [-1])));
    }),
  );
  const dots = tf.tidy(() => {
    const rows: tf.Scalar[] = [];
    for (let a = 0; a < n; a++) for (let b = a; b < n; b++) rows.push(tf.sum(tf.mul(flat[a], flat[b])));
    return tf.stack(rows);
  });
  const values = dots.dataSync();
  tf.dispose([...flat, dots]);
  const gram: number[][] = Array.from({ length: n }, () => new Array(n).fill(0));
  let k = 0;
  for (let a = 0; a < n; a++) for (let b = a; b < n; b++) gram[a][b] = gram[b][a] = values[k++];
  const norms = gram.map((row, a) => Math.sqrt(row[a]));
  const cosines = gram.map((row, a) => row.map((v, b) => (norms[a] > 0 && norms[b] > 0 ? v / (norms[a] * norms[b]) : NaN)));
  return { norms, cosines };
}

/** Counts consecutive epochs of conflict per task pair; says when a streak reaches `epochs`. */
export class ConflictTracker {
  private streaks = new Map<string, number>();

  constructor(private readonly epochs: number) {}

  update(names: string[], probe: GradientProbe): string[] {
    const warnings: string[] = [];
    for (let a = 0; a < names.length; a++) {
      for (let b = a + 1; b < names.length; b++) {
        const key = pairKey(names[a], names[b]);
        const streak = probe.cosines[a][b] < 0 ? (this.streaks.get(key) ?? 0) + 1 : 0;
        this.streaks.set(key, streak);
        if (streak === this.epochs) {
          warnings.push(
            `warning: the gradients of ${names[a]} and ${names[b]} on the shared parameters have conflicted (cosine < 0) for ${streak} epochs ` +
              `(now ${probe.cosines[a][b].toFixed(3)}); consider soft sharing, a learned weighting, or training them apart (mtl compare)`,
          );
        }
      }
    }
    return warnings;
  }

  getState(): Record<string, number> {
    return Object.fromEntries(this.streaks);
  }

  setState(state: Record<string, number>): void {
    this.streaks = new Map(Object.entries(state));
  }
}
