import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { buildBackbone } from '../backbones';
import { crossStitchUnits } from '../layers/cross-stitch';
import { TASK_COPY_SEPARATOR } from '../pretrained';
import type { SharingBuilder } from './types';

/**
 * A backbone per task; after every stage but the last, cross-stitch units mix the copies
 * (`cross_stitch_<stage>_<task>`, stock layers only: see layers/cross-stitch.ts).
 */
export const buildCrossStitchSharing: SharingBuilder<{ type: 'cross_stitch'; init_self: number }> = (input, config, { backbone, rng, inputShape, tasks }) => {
  const copies = tasks.map((task) => buildBackbone(backbone, { prefix: `${task}${TASK_COPY_SEPARATOR}`, rng, inputShape }));
  const stages = copies[0].stages.length;
  let activations: SymbolicTensor[] = tasks.map(() => input);
  for (let s = 0; s < stages; s++) {
    activations = copies.map((copy, t) => copy.stages[s](activations[t]));
    if (s < stages - 1 && tasks.length > 1) activations = crossStitchUnits(activations, tasks, config.init_self, `cross_stitch_${s + 1}`);
  }
  return Object.fromEntries(tasks.map((task, t) => [task, activations[t]]));
};
