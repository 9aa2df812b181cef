/**
 * Rules that involve more than one key. Each returns issues with the path of the
 * key the user should change.
 */
import type { Config } from './schema';
import type { ConfigIssue } from './source';
import { suggest } from './source';
import { IMAGE_FOLDER_CLASS } from './schema';
import { isPerLabelKey, monitorableKeys } from '../training/metric-keys';
import { DEFAULT_TOP_K } from '../data/targets';

export function crossFieldIssues(config: Config): ConfigIssue[] {
  return [...dataIssues(config), ...modelIssues(config), ...weightingIssues(config), ...topKIssues(config), ...taskIssues(config), ...monitorIssues(config)];
}

function targetsOf(target: string | string[]): string[] {
  return Array.isArray(target) ? target : [target];
}

function dataIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const data = config.data;
  const { train, val, test } = data.split;
  const sum = train + val + test;
  if (Math.abs(sum - 1) > 1e-6) {
    issues.push({ path: ['data', 'split'], message: `train + val + test must add up to 1, got ${+sum.toFixed(6)}` });
  }
  if (train <= 0) issues.push({ path: ['data', 'split', 'train'], message: 'the train fraction must be above 0' });
  const { stratify, group } = data.split;
  if (stratify !== undefined && config.tasks[stratify]?.type !== 'classification') {
    const classification = Object.keys(config.tasks).filter((t) => config.tasks[t].type === 'classification');
    const near = suggest(stratify, classification);
    issues.push({
      path: ['data', 'split', 'stratify'],
      message: config.tasks[stratify]
        ? `task ${stratify} is a ${config.tasks[stratify].type}; stratify by a classification task (${classification.join(', ') || 'none'})`
        : `no classification task "${stratify}"${near ? `; did you mean "${near}"?` : `; classification tasks: ${classification.join(', ') || 'none'}`}`,
    });
  }
  if (group !== undefined && data.format === 'idx') issues.push({ path: ['data', 'split', 'group'], message: 'grouping needs a column; IDX data has none' });
  if (group !== undefined && stratify !== undefined) issues.push({ path: ['data', 'split', 'group'], message: 'give data.split.group or data.split.stratify, not both' });

  const single = data.format === 'idx' ? 'images' : 'path';
  const hasSingle = data.format === 'idx' ? data.images !== undefined : data.path !== undefined;
  if (data.format !== 'image_folder' && hasSingle === (data.splits !== undefined)) {
    issues.push({
      path: ['data', hasSingle ? 'splits' : single],
      message: hasSingle
        ? `give either data.${single} or data.splits, not both`
        : `missing; give data.${single} (one file, split by data.split) or data.splits (a file per split)`,
    });
  }

  if (data.format === 'image_folder') {
    for (const [name, task] of Object.entries(config.tasks)) {
      if (task.type !== 'classification' || task.target !== IMAGE_FOLDER_CLASS) {
        issues.push({ path: ['tasks', name], message: `an image folder holds one label, the subfolder of each image: give one classification task with target: ${IMAGE_FOLDER_CLASS}` });
      }
    }
  }
  if ((data.format === 'csv' || data.format === 'jsonl' || data.format === 'parquet') && data.inputs) {
    if (data.features) issues.push({ path: ['data', 'features'], message: 'give data.inputs or data.features, not both (data.features is the short form of data.inputs)' });
    if (data.categorical) issues.push({ path: ['data', 'categorical'], message: 'with data.inputs, give a category column type: category instead' });
    const seen = new Set<string>();
    data.inputs.forEach((input, i) => {
      if (input.type === 'text' && input.encoder === 'transformer' && input.embedding_dim % input.heads !== 0) {
        issues.push({ path: ['data', 'inputs', i, 'heads'], message: `embedding_dim ${input.embedding_dim} is not a multiple of heads ${input.heads}; choose heads that divide it` });
      }
      if (seen.has(input.name)) issues.push({ path: ['data', 'inputs', i, 'name'], message: `input "${input.name}" is listed twice` });
      seen.add(input.name);
    });
  }
  if (data.format === 'csv' || data.format === 'jsonl' || data.format === 'parquet') {
    const allTargets = new Set(Object.values(config.tasks).flatMap((t) => targetsOf(t.target)));
    data.features?.forEach((f, i) => {
      if (allTargets.has(f)) {
        issues.push({ path: ['data', 'features', i], message: `"${f}" is a task target and cannot also be a feature` });
      }
    });
    data.inputs?.forEach((input, i) => {
      if (allTargets.has(input.name)) issues.push({ path: ['data', 'inputs', i, 'name'], message: `"${input.name}" is a task target and cannot also be an input` });
    });
  } else if (data.format === 'idx') {
    const available = new Set(Object.keys(data.splits?.train.targets ?? data.targets));
    if (data.rotation) available.add(data.rotation.target);
    for (const [name, task] of Object.entries(config.tasks)) {
      const targets = targetsOf(task.target);
      targets.forEach((target, i) => {
        if (available.has(target)) return;
        const near = suggest(target, [...available]);
        const path = Array.isArray(task.target) ? ['tasks', name, 'target', i] : ['tasks', name, 'target'];
        issues.push({
          path,
          message:
            `no target "${target}" in data.targets${data.rotation ? ' or data.rotation' : ''}` +
            (near ? `; did you mean "${near}"?` : `; available: ${[...available].join(', ') || 'none'}`),
        });
      });
      if (task.type === 'classification' && data.rotation && task.target === data.rotation.target) {
        issues.push({
          path: ['tasks', name, 'type'],
          message: `the rotation angle "${task.target}" is continuous; use type: regression`,
        });
      }
    }
  }
  return issues;
}

/** Gradient methods need tasks to combine, and `on: representation` one shared representation. */
function weightingIssues(config: Config): ConfigIssue[] {
  const weighting = config.training.weighting;
  if (!('on' in weighting)) return [];
  const issues: ConfigIssue[] = [];
  const tasks = Object.keys(config.tasks).length;
  if (tasks < 2) {
    issues.push({ path: ['training', 'weighting', 'type'], message: `${weighting.type} combines the gradients of several tasks; with ${tasks} task there is nothing to combine: use type: fixed` });
  }
  if (config.model.sharing.type === 'soft') {
    issues.push({
      path: ['training', 'weighting', 'type'],
      message: `soft sharing gives every task its own copy of the backbone, so no weight is shared and ${weighting.type} has no task gradients to combine: use hard, cross_stitch, mmoe or ple sharing, or a loss weighting`,
    });
  } else if (weighting.on === 'representation') {
    const sharing = config.model.sharing.type;
    if (sharing !== 'hard') {
      issues.push({
        path: ['training', 'weighting', 'on'],
        message: `${sharing} sharing gives each task its own features, so there is no single shared representation to take gradients on: use on: parameters, or hard sharing`,
      });
    }
    if (config.threads !== 'auto' && config.threads > 1) {
      issues.push({ path: ['threads'], message: 'on: representation combines the whole batch\'s features in one place and trains on one thread: set threads: 1 (or auto), or use on: parameters' });
    }
  }
  return issues;
}

/** top_k_accuracy needs more classes than k: known here when num_classes is given (else checked on the data). */
function topKIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, task] of Object.entries(config.tasks)) {
    if (task.type !== 'classification' || !task.metrics.includes('top_k_accuracy') || task.num_classes === undefined) continue;
    const k = task.top_k ?? DEFAULT_TOP_K;
    if (task.num_classes <= k) {
      issues.push({
        path: ['tasks', name, task.top_k === undefined ? 'metrics' : 'top_k'],
        message: `top_k_accuracy with top_k ${k}${task.top_k === undefined ? ' (the default)' : ''} needs more than ${k} classes, and num_classes is ${task.num_classes}: set top_k below ${task.num_classes}, or remove top_k_accuracy`,
      });
    }
  }
  return issues;
}

/** Options of one loss that another loss would ignore, and what a multilabel task needs. */
function taskIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, task] of Object.entries(config.tasks)) {
    if (task.type === 'regression') continue;
    for (const key of ['focal_gamma', 'focal_alpha'] as const) {
      if (task[key] !== undefined && task.loss !== 'focal') issues.push({ path: ['tasks', name, key], message: `${key} applies to loss: focal, and the loss is ${task.loss}; set loss: focal or remove ${key}` });
    }
    if (task.type === 'classification') {
      if (task.focal_alpha !== undefined && task.num_classes !== undefined && task.num_classes !== 2) {
        issues.push({ path: ['tasks', name, 'focal_alpha'], message: `focal_alpha weighs the two classes of a binary task, and num_classes is ${task.num_classes}; give per-class weights with class_weight instead` });
      }
      if (task.top_k !== undefined && !task.metrics.includes('top_k_accuracy')) {
        issues.push({ path: ['tasks', name, 'top_k'], message: 'top_k is the k of top_k_accuracy, which tasks.' + name + '.metrics does not list; add it or remove top_k' });
      }
      continue;
    }
    if (config.data.format !== 'csv' && config.data.format !== 'jsonl' && config.data.format !== 'parquet') {
      issues.push({ path: ['tasks', name, 'type'], message: `a multilabel task reads a set-valued column of a table; ${config.data.format} data has none (use data.format: csv or jsonl)` });
    }
    if (task.metrics[0] === 'per_label') {
      issues.push({ path: ['tasks', name, 'metrics', 0], message: 'the first metric is the task\'s main one (shown every epoch, compared by mtl compare) and must be a single number: list per_label after another metric' });
    }
    const labels = task.labels ?? [];
    const repeated = labels.find((l, i) => labels.indexOf(l) !== i);
    if (repeated !== undefined) issues.push({ path: ['tasks', name, 'labels'], message: `label "${repeated}" is listed twice` });
    if (task.labels && task.pos_weight !== undefined && typeof task.pos_weight === 'object') {
      for (const label of Object.keys(task.pos_weight)) {
        if (!labels.includes(label)) issues.push({ path: ['tasks', name, 'pos_weight', label], atKey: true, message: `pos_weight names label "${label}", which tasks.${name}.labels does not list (${labels.join(', ')})` });
      }
    }
  }
  return issues;
}

function modelIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const backbone = config.model.backbone;
  if (backbone.type === 'resnet') {
    const data = config.data;
    const inputs = data.format === 'csv' || data.format === 'jsonl' || data.format === 'parquet' ? data.inputs : undefined;
    const oneImage = data.format === 'idx' || data.format === 'image_folder' || (inputs?.length === 1 && inputs[0].type === 'image');
    if (!oneImage) {
      issues.push({
        path: ['model', 'backbone', 'type'],
        message:
          inputs?.some((i) => i.type === 'image')
            ? 'a resnet backbone takes one image input alone; beside other inputs each image gets its own ResNet (the input\'s encoder) and the backbone is the mlp after the combiner'
            : 'resnet needs image data (data.format: idx, or one input of type: image); use mlp for tables',
      });
    }
    if (backbone.preset) {
      for (const key of ['block', 'filters', 'blocks', 'stem'] as const) {
        if (backbone[key] !== undefined) {
          issues.push({
            path: ['model', 'backbone', key],
            message: `preset ${backbone.preset} already sets ${key}; remove one of them`,
          });
        }
      }
    }
    if (backbone.filters && backbone.blocks && backbone.filters.length !== backbone.blocks.length) {
      issues.push({
        path: ['model', 'backbone', 'blocks'],
        message: `one entry per stage: filters has ${backbone.filters.length}, blocks has ${backbone.blocks.length}`,
      });
    }
  }
  return issues;
}

function monitorIssues(config: Config): ConfigIssue[] {
  const keys = monitorableKeys(config);
  const issues: ConfigIssue[] = [];
  const check = (value: string | undefined, path: (string | number)[]) => {
    if (value === undefined || keys.includes(value) || isPerLabelKey(config, value)) return;
    const near = suggest(value, keys);
    const why = value.startsWith('val/') && !keys.includes('val/loss') ? ' (there is no validation split)' : '';
    issues.push({
      path,
      message: `unknown metric "${value}"${why}; ${near ? `did you mean "${near}"?` : `choose one of ${keys.join(', ')}`}`,
    });
  };
  check(config.training.checkpoint.monitor, ['training', 'checkpoint', 'monitor']);
  check(config.training.early_stopping?.monitor, ['training', 'early_stopping', 'monitor']);
  const schedule = config.training.lr_schedule;
  if (schedule.type === 'plateau') check(schedule.monitor, ['training', 'lr_schedule', 'monitor']);
  return issues;
}
