import * as tfl from '@tensorflow/tfjs-layers';
import type { Config } from '../config/schema';
import type { Preprocessing } from '../data/types';
import { deriveSeed, Rng } from '../data/rng';
import { modelInputGroups, sampleSize } from '../data/batches';
import { inputType, isPacked } from '../inputs';
import { headRegistry, taskHeadConfig } from './heads';
import { buildSharing } from './sharing';

/** Output units per task: the number of classes, of labels (multilabel), or of regression target columns. */
export function outputUnits(preprocessing: Preprocessing): Record<string, number> {
  return Object.fromEntries(
    Object.entries(preprocessing.targets).map(([task, t]) => [task, t.kind === 'classification' ? t.classes.length : t.kind === 'multilabel' ? t.labels.length : t.columns.length]),
  );
}

/** The model input layer of a data input, or of a packed group by its first input (prefixed, so a column name never clashes with a layer). */
export function inputLayerName(input: string): string {
  return `input_${input.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * The multi-task network: one model input per data input (in preprocessing order;
 * neighbouring numbers and one-hot categories packed into one), each through its
 * type's encoder, concatenated (the combiner), then the sharing scheme's feature
 * extractor(s) and one head per task (heads.ts, the same for every scheme). Outputs are
 * in the order of `Object.keys(config.tasks)`. Initial weights depend only on the
 * config's seed.
 */
export function buildModel(config: Config, preprocessing: Preprocessing): tfl.LayersModel {
  const rng = new Rng(deriveSeed(config.seed, 0x4d4f44));
  const tasks = Object.keys(config.tasks);
  const units = outputUnits(preprocessing);
  const specs = preprocessing.inputs;
  const alone = specs.length === 1;
  const groups = modelInputGroups(specs.map((spec) => ({ packed: isPacked(spec) })));
  const inputs = groups.map((group) => {
    const width = group.reduce((n, i) => n + sampleSize(specs[i].shape), 0);
    return tfl.input({ shape: group.length === 1 ? specs[group[0]].shape : [width], name: inputLayerName(specs[group[0]].name) });
  });
  // A packed group is already the concatenation of its inputs' (identity) encodings.
  const encoded = groups.map((group, g) => (group.length === 1 ? inputType(specs[group[0]].type).encoder(inputs[g], specs[group[0]], { rng, alone }) : inputs[g]));
  const combined = encoded.length === 1 ? encoded[0] : (tfl.layers.concatenate({ name: 'combiner' }).apply(encoded) as tfl.SymbolicTensor);
  const inputShape = combined.shape.slice(1) as number[];
  const features = buildSharing(combined, config.model.sharing, { backbone: config.model.backbone, tasks, rng, inputShape });
  const outputs = tasks.map((task) => headRegistry[config.tasks[task].type](features[task], task, units[task], taskHeadConfig(config, task), rng));
  return tfl.model({ inputs, outputs, name: config.name });
}
