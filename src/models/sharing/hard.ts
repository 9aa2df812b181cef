import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { buildBackbone } from '../backbones';
import type { SharingBuilder } from './types';

/** Hard parameter sharing: one backbone, every task's head on its features. */
export const buildHardSharing: SharingBuilder<{ type: 'hard' }> = (input, _config, { backbone, rng, inputShape, tasks }) => {
  const shared = buildBackbone(backbone, { prefix: '', rng, inputShape });
  const features = shared.stages.reduce<SymbolicTensor>((x, stage) => stage(x), input);
  return Object.fromEntries(tasks.map((t) => [t, features]));
};
