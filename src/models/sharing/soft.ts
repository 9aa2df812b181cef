import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { buildBackbone } from '../backbones';
import { TASK_COPY_SEPARATOR } from '../pretrained';
import type { SharingBuilder } from './types';

/**
 * Soft parameter sharing: every task gets its own copy of the backbone, named
 * `<task>__<layer>`; the penalty that pulls copies together is added to the loss
 * by the training step (see models/penalty.ts).
 */
export const buildSoftSharing: SharingBuilder<{ type: 'soft' }> = (input, _config, { backbone, rng, inputShape, tasks }) =>
  Object.fromEntries(
    tasks.map((task) => {
      const copy = buildBackbone(backbone, { prefix: `${task}${TASK_COPY_SEPARATOR}`, rng, inputShape });
      return [task, copy.stages.reduce<SymbolicTensor>((x, stage) => stage(x), input)];
    }),
  );
