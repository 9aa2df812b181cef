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

/**
 * Whether a layer is a sharing scheme's own (a cross-stitch unit, a gate or mixture of
 * experts) rather than part of a backbone copy: those have no counterpart in a backbone's
 * weights file. Backbone copies carry a `<copy>__` prefix; these names never do.
 */
export function isSharingLayer(name: string): boolean {
  return /^(cross_stitch_\d+([._]|$)|mmoe_|ple_\d+_)/.test(name) && !name.includes('__');
}
