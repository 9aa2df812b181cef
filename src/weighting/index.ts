import type { TaskConfig, WeightingConfig } from '../config/schema';
import { dwaWeighting } from './dwa';
import { fixedWeighting } from './fixed';
import { gradNormWeighting } from './gradnorm';
import type { Weighting, WeightingFactory } from './types';
import { uncertaintyWeighting } from './uncertainty';

type FactoryFor<T extends WeightingConfig['type']> = WeightingFactory<Extract<WeightingConfig, { type: T }>>;

/** Loss weighting methods by `training.weighting.type`. Adding one: a file plus a line here. */
export const weightingRegistry: { [T in WeightingConfig['type']]: FactoryFor<T> } = {
  fixed: fixedWeighting,
  uncertainty: uncertaintyWeighting,
  dwa: dwaWeighting,
  gradnorm: gradNormWeighting,
};

export function createWeighting(config: WeightingConfig, tasks: Record<string, TaskConfig>): Weighting {
  const names = Object.keys(tasks);
  return (weightingRegistry[config.type] as WeightingFactory<WeightingConfig>)(config, names.map((n) => tasks[n]), names);
}

export type { Weighting, StepInfo } from './types';
