import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { buildBackbone } from '../backbones';
import { TASK_COPY_SEPARATOR } from '../pretrained';
import { ExpertMixer } from './experts';
import type { SharingBuilder } from './types';

/**
 * Multi-gate mixture of experts (MMoE, Ma et al. 2018; as LibMTL's architecture/MMoE.py):
 * `experts` copies of the backbone (`expert_<e>__<layer>`) all see the input; each task has
 * a softmax gate, a dense layer on the (flattened) input with one output per expert
 * (`mmoe_<task>.gate`), and its head sees Σ_e gate_e · expert_e. The experts are shared by
 * every task, each gate belongs to its own task.
 */
export const buildMmoeSharing: SharingBuilder<{ type: 'mmoe'; experts: number }> = (input, config, { backbone, rng, inputShape, tasks }) => {
  const experts = Array.from({ length: config.experts }, (_, e) => {
    const copy = buildBackbone(backbone, { prefix: `expert_${e + 1}${TASK_COPY_SEPARATOR}`, rng, inputShape });
    return copy.stages.reduce<SymbolicTensor>((x, stage) => stage(x), input);
  });
  const mixer = new ExpertMixer(rng);
  return Object.fromEntries(tasks.map((task) => [task, mixer.mix(experts, input, `mmoe_${task}`)]));
};
