import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Rng } from '../../data/rng';

/** What every backbone builder receives besides its own config. */
export interface BackboneContext {
  /** Prepended to every layer name, so several copies can live in one model (soft sharing). */
  prefix: string;
  /** Seeds for weight initializers, so a config seed reproduces the initial weights. */
  rng: Rng;
  /** Shape of one input sample, e.g. [F] or [H, W, C]. */
  inputShape: number[];
}

/**
 * A feature extractor as a list of stages applied in order; the last one ends in a
 * vector per sample (global average pooling for images), which is what heads see.
 * Sharing schemes may act between stages (cross-stitch units mix task copies there).
 */
export interface Backbone {
  stages: ((x: SymbolicTensor) => SymbolicTensor)[];
}

export type BackboneBuilder<C> = (config: C, context: BackboneContext) => Backbone;
