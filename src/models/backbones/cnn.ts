import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { CnnBackboneConfig } from '../../config/schema';
import { ConfigError } from '../../errors';
import type { BackboneBuilder } from './types';
import { conv2d } from '../layers/conv2d';
import { dense } from '../layers/dense';

/**
 * A small LeNet-style conv net, the shared trunk of MultiLeNet (Sener and Koltun 2018,
 * used on MultiMNIST / MultiFashion by Lin et al. 2019): for each entry of `filters` a
 * kernel_size x kernel_size convolution -> ReLU -> 2x2 max pooling (stride 2), then
 * flatten and one dense layer per entry of `units`, each -> ReLU (-> dropout). With the
 * defaults on 28x28x1: 24x24x10, 12x12x10, 8x8x20, 4x4x20, 320, 50.
 *
 * Stages (where cross-stitch units mix task copies): one per conv block, one per dense
 * layer (the flatten joins the first), so the last stage ends in a vector.
 */
export const buildCnn: BackboneBuilder<CnnBackboneConfig> = (config, { prefix, rng, inputShape }) => {
  if (inputShape.length !== 3) {
    throw new ConfigError(
      `model.backbone: a cnn backbone needs image input ([height, width, channels]), got samples of shape [${inputShape.join(', ')}]`,
      'use type: mlp for tables, or give the data one input of type: image',
    );
  }
  checkSpatialSize(config, inputShape);
  const convStages = config.filters.map((filters, i) => (x: SymbolicTensor) => {
    const n = i + 1;
    let h = conv2d({
      filters,
      kernelSize: config.kernel_size,
      padding: config.padding,
      kernelInitializer: tfl.initializers.heNormal({ seed: rng.seed() }),
      name: `${prefix}conv_${n}`,
    }).apply(x) as SymbolicTensor;
    h = tfl.layers.activation({ activation: 'relu', name: `${prefix}conv_${n}_relu` }).apply(h) as SymbolicTensor;
    return tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${prefix}pool_${n}` }).apply(h) as SymbolicTensor;
  });
  const denseStages = config.units.map((units, i) => (x: SymbolicTensor) => {
    const n = i + 1;
    let h = x;
    if (i === 0) h = tfl.layers.flatten({ name: `${prefix}flatten` }).apply(h) as SymbolicTensor;
    h = dense({
      units,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: rng.seed() }),
      name: `${prefix}dense_${n}`,
    }).apply(h) as SymbolicTensor;
    h = tfl.layers.activation({ activation: 'relu', name: `${prefix}dense_${n}_relu` }).apply(h) as SymbolicTensor;
    if (config.dropout > 0) {
      h = tfl.layers.dropout({ rate: config.dropout, name: `${prefix}dense_${n}_dropout` }).apply(h) as SymbolicTensor;
    }
    return h;
  });
  return { stages: [...convStages, ...denseStages] };
};

/** The feature map's size after each block; a block that would leave less than 1x1 is a config error. */
function checkSpatialSize(config: CnnBackboneConfig, inputShape: number[]): void {
  let [height, width] = inputShape;
  for (const [i] of config.filters.entries()) {
    if (config.padding === 'valid') {
      height -= config.kernel_size - 1;
      width -= config.kernel_size - 1;
    }
    height = Math.floor(height / 2);
    width = Math.floor(width / 2);
    if (height < 1 || width < 1) {
      throw new ConfigError(
        `model.backbone: the ${inputShape[0]}x${inputShape[1]} images are too small for ${config.filters.length} cnn blocks with ` +
          `kernel_size ${config.kernel_size} and padding ${config.padding}: block ${i + 1} leaves nothing`,
        'use fewer filters entries, a smaller kernel_size, padding: same, or larger images (an image input\'s size)',
      );
    }
  }
}
