import { availableParallelism } from 'node:os';
import type { Config } from '../config/schema';

/**
 * Data-parallel threads of a run on the wasm and cpu engines (native engines thread
 * themselves). `auto` gives small conv nets one replica per core, up to 4 (1.6-1.9x on
 * 2 cores for the reference ResNet-14); MLP steps are too short for the per-step
 * synchronization to pay (measured 0.5-0.67x), and the keras-sized presets (11-24M
 * weights) gain less from a second core than the all-reduce of every gradient costs
 * (ResNet-50: 0.89x of one thread), so both stay on one thread, as does a gradient
 * method on the representation (it combines the whole batch's features in one place).
 */
export function configuredThreads(config: Config): number {
  if (config.threads !== 'auto') return config.threads;
  const weighting = config.training.weighting;
  if ('on' in weighting && weighting.on === 'representation') return 1;
  const backbone = config.model.backbone;
  return backbone.type === 'resnet' && backbone.preset === undefined ? Math.min(availableParallelism(), 4) : 1;
}
