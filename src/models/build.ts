import * as tfl from '@tensorflow/tfjs-layers';
import type { Config } from '../config/schema';
import type { Preprocessing } from '../data/types';
import { deriveSeed, Rng } from '../data/rng';
import { inputType } from '../inputs';
import { headRegistry } from './heads';
import { buildSharing } from './sharing';

/** Output units per task: the number of classes, or of regression target columns. */
export function outputUnits(preprocessing: Preprocessing): Record<string, number> {
  return Object.fromEntries(
    Object.entries(preprocessing.targets).map(([task, t]) => [task, t.kind === 'classification' ? t.classes.length : t.columns.length]),
  );
}

/** The model input layer of a data input (prefixed, so a column name never clashes with a layer). */
export function inputLayerName(input: string): string {
  return `input_${input.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * The multi-task network: one model input per data input (in preprocessing order),
 * each through its type's encoder, concatenated (the combiner), then the sharing
 * scheme's feature extractor(s) and one head per task. Outputs are in the order of
 * `Object.keys(config.tasks)`. Initial weights depend only on the config's seed.
 */
export function buildModel(config: Config, preprocessing: Preprocessing): tfl.LayersModel {
  const rng = new Rng(deriveSeed(config.seed, 0x4d4f44));
  const tasks = Object.keys(config.tasks);
  const units = outputUnits(preprocessing);
  const specs = preprocessing.inputs;
  const inputs = specs.map((spec) => tfl.input({ shape: spec.shape, name: inputLayerName(spec.name) }));
  const alone = specs.length === 1;
  const encoded = specs.map((spec, i) => inputType(spec.type).encoder(inputs[i], spec, { rng, alone }));
  const combined = alone ? encoded[0] : (tfl.layers.concatenate({ name: 'combiner' }).apply(encoded) as tfl.SymbolicTensor);
  const inputShape = combined.shape.slice(1) as number[];
  const features = buildSharing(combined, config.model.sharing, { backbone: config.model.backbone, tasks, rng, inputShape });
  const outputs = tasks.map((task) => headRegistry[config.tasks[task].type](features[task], task, units[task], rng));
  return tfl.model({ inputs, outputs, name: config.name });
}
