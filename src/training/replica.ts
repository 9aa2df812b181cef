/**
 * One trainer of the model: its view of the network, optimizer, loss weighting and
 * training step. A single-threaded run has one; a data-parallel run has one per
 * thread, each taking its shard of every batch and agreeing with the others
 * through a reducer, so all replicas hold the same weights after every step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Config, TaskConfig } from '../config/schema';
import { gatherBatch } from '../data/batches';
import { deriveSeed } from '../data/rng';
import { countLabelled } from '../data/labels';
import type { Split } from '../data/types';
import { asNetwork, type MultiTaskNetwork } from '../models/network';
import { lossTerms } from '../models/loss-terms';
import { createWeighting, type Weighting } from '../weighting';
import { createOptimizer, type TrainOptimizer } from './optimizers';
import { disposeTargets, taskTarget, type TaskTarget } from './losses';
import { TrainStep, type StepReducer, type StepResult } from './step';

export interface Replica {
  names: string[];
  tasks: TaskConfig[];
  network: MultiTaskNetwork;
  optimizer: TrainOptimizer;
  weighting: Weighting;
  step: TrainStep;
  dropoutLayers: tfl.layers.Layer[];
}

export function createReplica(config: Config, model: tfl.LayersModel, tensorsOnHost: boolean): Replica {
  const names = Object.keys(config.tasks);
  const tasks = names.map((t) => config.tasks[t]);
  const network = asNetwork(model, names);
  const optimizer = createOptimizer(config.training.optimizer, tensorsOnHost);
  const weighting = createWeighting(config.training.weighting, config.tasks);
  const step = new TrainStep({ network, tasks, optimizer, weighting, lossTerms: lossTerms(config.model.sharing, network) });
  const dropoutLayers = model.layers.filter((l) => l.getClassName() === 'Dropout');
  return { names, tasks, network, optimizer, weighting, step, dropoutLayers };
}

/** Rows [start, end) of a batch split into `size` contiguous shards: this rank's part. */
export function shardOf(start: number, end: number, rank: number, size: number): { start: number; end: number } {
  const n = end - start;
  return { start: start + Math.floor((n * rank) / size), end: start + Math.floor((n * (rank + 1)) / size) };
}

/**
 * Rows [start, end) of `order` as tensors. `denominators` (per task) divide the masked
 * loss sums; without them each task's loss is the mean over this batch's labelled rows.
 */
export function batchTensors(
  split: Split,
  order: ArrayLike<number>,
  start: number,
  end: number,
  names: string[],
  tasks: TaskConfig[],
  denominators?: number[],
  augmentSeed?: number,
): { x: tf.Tensor[]; targets: TaskTarget[] } {
  const batch = gatherBatch(split, order, start, end, augmentSeed);
  const n = end - start;
  return {
    x: batch.inputs.map(({ values, shape }) => tf.tensor(values, [n, ...shape])),
    targets: names.map((t, i) => taskTarget(tasks[i], batch.targets[t], n, denominators?.[i])),
  };
}

const AUGMENT_STEP_STREAM = 0x415553;

export interface StepPlace {
  split: Split;
  order: ArrayLike<number>;
  /** Rows of the whole batch. */
  start: number;
  end: number;
  /** 1-based count of steps since training began (seeds dropout). */
  globalStep: number;
  seed: number;
  skipNonFinite: boolean;
  rank?: number;
  replicas?: number;
  reducer?: StepReducer & { share: number };
}

/** One training step of this replica on its shard of a batch; the result covers the whole batch. */
export function replicaStep(replica: Replica, place: StepPlace): StepResult & { labelled: number[] } {
  const rank = place.rank ?? 0;
  const replicas = place.replicas ?? 1;
  const shard = shardOf(place.start, place.end, rank, replicas);
  // Dropout masks come from the run's seed, step by step (and replica by replica), so runs repeat exactly.
  replica.dropoutLayers.forEach((layer, i) => {
    (layer as unknown as { seed: number }).seed = rank === 0 ? deriveSeed(place.seed, 0x44524f, place.globalStep, i) : deriveSeed(place.seed, 0x44524f, place.globalStep, i, rank);
  });
  const share = (shard.end - shard.start) / (place.end - place.start);
  if (place.reducer) place.reducer.share = share;
  // Each task's loss is the mean over the labelled rows of the whole batch, whichever shard holds them.
  const labelled = replica.names.map((t) => countLabelled(place.split.targets[t], place.split.size, place.order, place.start, place.end));
  const { x, targets } = batchTensors(place.split, place.order, shard.start, shard.end, replica.names, replica.tasks, labelled.map((count) => count * share), deriveSeed(place.seed, AUGMENT_STEP_STREAM, place.globalStep));
  try {
    const result = replica.step.run(x, targets, { globalStep: place.globalStep, seed: place.seed }, place.skipNonFinite, place.reducer);
    if (result.applied) replica.weighting.afterStep({ losses: result.taskLosses, representationGradNorms: result.representationGradNorms });
    return { ...result, labelled };
  } finally {
    tf.dispose(x);
    disposeTargets(targets);
  }
}
