import * as tfl from '@tensorflow/tfjs-layers';
import type { Config } from '../config/schema';
import type { Preprocessing } from '../data/types';
import { deriveSeed, Rng } from '../data/rng';
import { headRegistry } from './heads';
import { buildSharing } from './sharing';

/** Output units per task: the number of classes, or of regression target columns. */
export function outputUnits(preprocessing: Preprocessing): Record<string, number> {
  return Object.fromEntries(
    Object.entries(preprocessing.targets).map(([task, t]) => [task, t.kind === 'classification' ? t.classes.length : t.columns.length]),
  );
}

/**
 * The multi-task network: one input, the sharing scheme's feature extractor(s), one
 * head per task. Outputs are in the order of `Object.keys(config.tasks)`. Initial
 * weights depend only on the config's seed.
 */
export function buildModel(config: Config, preprocessing: Preprocessing): tfl.LayersModel {
  const rng = new Rng(deriveSeed(config.seed, 0x4d4f44));
  const tasks = Object.keys(config.tasks);
  const units = outputUnits(preprocessing);
  const inputShape = preprocessing.featureShape;
  const input = tfl.input({ shape: inputShape, name: 'input' });
  const features = buildSharing(input, config.model.sharing, { backbone: config.model.backbone, tasks, rng, inputShape });
  const outputs = tasks.map((task) => headRegistry[config.tasks[task].type](features[task], task, units[task], rng));
  return tfl.model({ inputs: input, outputs, name: config.name });
}
