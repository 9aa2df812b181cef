import type { TaskConfig, WeightingConfig } from '../config/schema';
import { dwaWeighting } from './dwa';
import { fixedWeighting } from './fixed';
import { gradientWeighting } from './gradient-weighting';
import { gradNormWeighting } from './gradnorm';
import type { Weighting, WeightingFactory } from './types';
import { rlwWeighting } from './rlw';
import { uncertaintyWeighting } from './uncertainty';

type FactoryFor<T extends WeightingConfig['type']> = WeightingFactory<Extract<WeightingConfig, { type: T }>>;

/**
 * Weighting methods by `training.weighting.type`. Adding one: a file plus a line here;
 * a gradient method: a file in gradient/ and a line in gradient/index.ts, here and in the schema.
 */
export const weightingRegistry: { [T in WeightingConfig['type']]: FactoryFor<T> } = {
  fixed: fixedWeighting,
  uncertainty: uncertaintyWeighting,
  dwa: dwaWeighting,
  gradnorm: gradNormWeighting,
  rlw: rlwWeighting,
  mgda: gradientWeighting,
  pcgrad: gradientWeighting,
  cagrad: gradientWeighting,
  imtl: gradientWeighting,
  nash_mtl: gradientWeighting,
  aligned_mtl: gradientWeighting,
  upgrad: gradientWeighting,
};

export function createWeighting(config: WeightingConfig, tasks: Record<string, TaskConfig>): Weighting {
  const names = Object.keys(tasks);
  return (weightingRegistry[config.type] as WeightingFactory<WeightingConfig>)(config, names.map((n) => tasks[n]), names);
}

export type { Weighting, StepInfo } from './types';
