import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { MlpBackboneConfig } from '../../config/schema';
import type { BackboneBuilder } from './types';
import { batchNormalization } from '../layers/batch-norm';
import { dense } from '../layers/dense';

/** Dense layers (optionally with batch norm and dropout); images are flattened first. */
export const buildMlp: BackboneBuilder<MlpBackboneConfig> = (config, { prefix, rng, inputShape }) => {
  const stages = config.units.map((units, i) => (x: SymbolicTensor) => {
    const n = i + 1;
    let h = x;
    if (i === 0 && inputShape.length > 1) h = tfl.layers.flatten({ name: `${prefix}flatten` }).apply(h) as SymbolicTensor;
    h = dense({
      units,
      useBias: !config.batch_norm,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: rng.seed() }),
      name: `${prefix}dense_${n}`,
    }).apply(h) as SymbolicTensor;
    if (config.batch_norm) {
      h = batchNormalization({ momentum: 0.9, name: `${prefix}dense_${n}_bn` }).apply(h) as SymbolicTensor;
    }
    h = tfl.layers.activation({ activation: config.activation, name: `${prefix}dense_${n}_${config.activation}` }).apply(h) as SymbolicTensor;
    if (config.dropout > 0) {
      h = tfl.layers.dropout({ rate: config.dropout, name: `${prefix}dense_${n}_dropout` }).apply(h) as SymbolicTensor;
    }
    return h;
  });
  return { stages };
};
