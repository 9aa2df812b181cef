import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { BackboneConfig } from '../../config/schema';
import type { Rng } from '../../data/rng';

export interface SharingContext {
  backbone: BackboneConfig;
  tasks: string[];
  rng: Rng;
  inputShape: number[];
}

/** Builds the feature extractor(s): returns, per task, the feature vector its head sees. */
export type SharingBuilder<C> = (input: SymbolicTensor, config: C, context: SharingContext) => Record<string, SymbolicTensor>;
