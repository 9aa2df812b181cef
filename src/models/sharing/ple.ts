import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../../errors';
import { buildBackbone, type Backbone } from '../backbones';
import { TASK_COPY_SEPARATOR } from '../pretrained';
import { ExpertMixer } from './experts';
import type { SharingBuilder } from './types';

export interface PleConfig {
  type: 'ple';
  shared_experts: number;
  task_experts: number;
  levels?: number;
}

/**
 * The backbone's stages of each level: `levels` contiguous groups, as even as possible,
 * earlier levels taking the extra stage (5 stages in 2 levels: [0, 1, 2], [3, 4]).
 */
export function levelStages(stages: number, levels: number): number[][] {
  const base = Math.floor(stages / levels);
  const extra = stages % levels;
  const out: number[][] = [];
  let next = 0;
  for (let l = 0; l < levels; l++) {
    const n = base + (l < extra ? 1 : 0);
    out.push(Array.from({ length: n }, (_, i) => next + i));
    next += n;
  }
  return out;
}

/**
 * Progressive layered extraction (PLE, Tang et al. 2020): `levels` customized gate control
 * (CGC) layers stacked. Every expert is a copy of the backbone (`shared_expert_<k>__<layer>`,
 * `task_<task>_expert_<k>__<layer>`), and the copy's stages are divided among the levels
 * (LibMTL's architecture/PLE.py likewise splits a ResNet encoder into its stages): at level
 * l an expert runs its share of the stages on that level's input. With an mlp backbone of
 * `units: [64, 64]` and two levels, each expert is one dense layer of 64 per level.
 *
 * At each level a task's experts take the task's input (its previous level's output; the
 * model input at level 1), the shared experts take the shared input; the task's gate
 * (`ple_<l>_task_<task>.gate`, a softmax dense layer on the task's input) mixes the shared
 * and its own experts, and at every level but the last a shared gate (`ple_<l>_shared.gate`,
 * on the shared input) mixes all experts into the next shared input, as in the paper. The
 * heads see the last level's task mixtures.
 */
export const buildPleSharing: SharingBuilder<PleConfig> = (input, config, { backbone, rng, inputShape, tasks }) => {
  const copy = (prefix: string): Backbone => buildBackbone(backbone, { prefix: `${prefix}${TASK_COPY_SEPARATOR}`, rng, inputShape });
  const shared = Array.from({ length: config.shared_experts }, (_, k) => copy(`shared_expert_${k + 1}`));
  const own = tasks.map((task) => Array.from({ length: config.task_experts }, (_, k) => copy(`task_${task}_expert_${k + 1}`)));
  const stages = shared[0].stages.length;
  const levels = config.levels ?? stages;
  if (levels > stages) {
    throw new ConfigError(
      `model.sharing.levels: ${levels} levels need a backbone of at least ${levels} stages; this ${backbone.type} backbone has ${stages}`,
      backbone.type === 'mlp' ? 'give the mlp one entry of units per level, or fewer levels' : 'use fewer levels (default: one per backbone stage)',
    );
  }
  const perLevel = levelStages(stages, levels);
  const run = (expert: Backbone, level: number, x: SymbolicTensor) => perLevel[level].reduce((h, s) => expert.stages[s](h), x);

  const mixer = new ExpertMixer(rng);
  let sharedInput = input;
  let taskInputs = tasks.map(() => input);
  for (let l = 0; l < levels; l++) {
    const sharedOut = shared.map((expert) => run(expert, l, sharedInput));
    const ownOut = own.map((experts, t) => experts.map((expert) => run(expert, l, taskInputs[t])));
    const next = tasks.map((task, t) => mixer.mix([...sharedOut, ...ownOut[t]], taskInputs[t], `ple_${l + 1}_task_${task}`));
    if (l < levels - 1) sharedInput = mixer.mix([...sharedOut, ...ownOut.flat()], sharedInput, `ple_${l + 1}_shared`);
    taskInputs = next;
  }
  return Object.fromEntries(tasks.map((task, t) => [task, taskInputs[t]]));
};
