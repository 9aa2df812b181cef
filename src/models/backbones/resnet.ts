import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { ResnetBackboneConfig } from '../../config/schema';
import type { Rng } from '../../data/rng';
import type { BackboneBuilder } from './types';
import { batchNormalization } from '../layers/batch-norm';
import { conv2d } from '../layers/conv2d';

/** A ResNet fully spelled out: what a preset or the config's keys resolve to. */
export interface ResnetSpec {
  block: 'basic' | 'bottleneck';
  /** Filters per stage; bottleneck blocks output 4x this. */
  filters: number[];
  blocks: number[];
  stem: { filters: number; kernel_size: number; strides: number; pool: boolean };
  /** Biases on convolutions (keras.applications has them; small nets followed by BN do not need them). */
  useBias: boolean;
  /** Batch-norm epsilon (keras.applications ResNet uses 1.001e-5). */
  bnEpsilon: number;
}

const kerasStem = { filters: 64, kernel_size: 7, strides: 2, pool: true };

/** Shaped like keras.applications (same layer names and weights), without the top. */
export const resnetPresets: Record<NonNullable<ResnetBackboneConfig['preset']>, ResnetSpec> = {
  resnet18: { block: 'basic', filters: [64, 128, 256, 512], blocks: [2, 2, 2, 2], stem: kerasStem, useBias: true, bnEpsilon: 1.001e-5 },
  resnet34: { block: 'basic', filters: [64, 128, 256, 512], blocks: [3, 4, 6, 3], stem: kerasStem, useBias: true, bnEpsilon: 1.001e-5 },
  resnet50: { block: 'bottleneck', filters: [64, 128, 256, 512], blocks: [3, 4, 6, 3], stem: kerasStem, useBias: true, bnEpsilon: 1.001e-5 },
};

export function resolveResnet(config: ResnetBackboneConfig): ResnetSpec {
  if (config.preset) return resnetPresets[config.preset];
  const filters = config.filters ?? [16, 32, 64];
  return {
    block: config.block ?? 'basic',
    filters,
    blocks: config.blocks ?? filters.map(() => 2),
    stem: config.stem ?? { filters: 16, kernel_size: 3, strides: 1, pool: false },
    useBias: false,
    bnEpsilon: 1e-3,
  };
}

/**
 * Residual network (He et al. 2016), NHWC. Stage s (named conv{s+2} as in Keras)
 * halves the resolution from the second stage on; blocks whose shape changes get a
 * 1x1 projection shortcut. Ends in global average pooling, so heads see a vector.
 */
export const buildResnet: BackboneBuilder<ResnetBackboneConfig> = (config, { prefix, rng }) => {
  const spec = resolveResnet(config);
  const ops = new LayerMaker(prefix, rng, spec);
  const stem = (x: SymbolicTensor) => {
    const { filters, kernel_size, strides, pool } = spec.stem;
    let h = ops.conv(x, filters, kernel_size, strides, 'conv1_conv');
    h = ops.relu(ops.bn(h, 'conv1_bn'), 'conv1_relu');
    if (pool) {
      h = tfl.layers.zeroPadding2d({ padding: 1, name: `${prefix}pool1_pad` }).apply(h) as SymbolicTensor;
      h = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: `${prefix}pool1_pool` }).apply(h) as SymbolicTensor;
    }
    return h;
  };
  const stages = spec.filters.map((filters, s) => (x: SymbolicTensor) => {
    let h = x;
    for (let b = 0; b < spec.blocks[s]; b++) {
      const strides = s > 0 && b === 0 ? 2 : 1;
      const name = `conv${s + 2}_block${b + 1}`;
      h = spec.block === 'basic' ? basicBlock(ops, h, filters, strides, name) : bottleneckBlock(ops, h, filters, strides, name);
    }
    return h;
  });
  const pool = (x: SymbolicTensor) => tfl.layers.globalAveragePooling2d({ name: `${prefix}avg_pool` }).apply(x) as SymbolicTensor;
  // Pooling joins the last stage, so every stage boundary is a 4-D feature map.
  const last = stages.length - 1;
  const lastStage = stages[last];
  stages[last] = (x) => pool(lastStage(x));
  return { stages: [stem, ...stages] };
};

function channelsOf(x: SymbolicTensor): number {
  return x.shape[x.shape.length - 1] as number;
}

function basicBlock(ops: LayerMaker, x: SymbolicTensor, filters: number, strides: number, name: string): SymbolicTensor {
  const shortcut =
    strides !== 1 || channelsOf(x) !== filters
      ? ops.bn(ops.conv(x, filters, 1, strides, `${name}_0_conv`), `${name}_0_bn`)
      : x;
  let h = ops.relu(ops.bn(ops.conv(x, filters, 3, strides, `${name}_1_conv`), `${name}_1_bn`), `${name}_1_relu`);
  h = ops.bn(ops.conv(h, filters, 3, 1, `${name}_2_conv`), `${name}_2_bn`);
  return ops.relu(ops.add(shortcut, h, `${name}_add`), `${name}_out`);
}

function bottleneckBlock(ops: LayerMaker, x: SymbolicTensor, filters: number, strides: number, name: string): SymbolicTensor {
  const out = 4 * filters;
  const shortcut =
    strides !== 1 || channelsOf(x) !== out ? ops.bn(ops.conv(x, out, 1, strides, `${name}_0_conv`), `${name}_0_bn`) : x;
  let h = ops.relu(ops.bn(ops.conv(x, filters, 1, strides, `${name}_1_conv`), `${name}_1_bn`), `${name}_1_relu`);
  h = ops.relu(ops.bn(ops.conv(h, filters, 3, 1, `${name}_2_conv`), `${name}_2_bn`), `${name}_2_relu`);
  h = ops.bn(ops.conv(h, out, 1, 1, `${name}_3_conv`), `${name}_3_bn`);
  return ops.relu(ops.add(shortcut, h, `${name}_add`), `${name}_out`);
}

/** Creates named, seeded layers and applies them. */
class LayerMaker {
  constructor(
    private readonly prefix: string,
    private readonly rng: Rng,
    private readonly spec: ResnetSpec,
  ) {}

  conv(x: SymbolicTensor, filters: number, kernelSize: number, strides: number, name: string): SymbolicTensor {
    return conv2d({
      filters,
      kernelSize,
      strides,
      padding: 'same',
      useBias: this.spec.useBias,
      kernelInitializer: tfl.initializers.heNormal({ seed: this.rng.seed() }),
      name: this.prefix + name,
    }).apply(x) as SymbolicTensor;
  }

  bn(x: SymbolicTensor, name: string): SymbolicTensor {
    return batchNormalization({ axis: -1, momentum: 0.9, epsilon: this.spec.bnEpsilon, name: this.prefix + name }).apply(x) as SymbolicTensor;
  }

  relu(x: SymbolicTensor, name: string): SymbolicTensor {
    return tfl.layers.activation({ activation: 'relu', name: this.prefix + name }).apply(x) as SymbolicTensor;
  }

  add(a: SymbolicTensor, b: SymbolicTensor, name: string): SymbolicTensor {
    return tfl.layers.add({ name: this.prefix + name }).apply([a, b]) as SymbolicTensor;
  }
}
