/**
 * Backend parity: the same tiny training run on two engines (each `mtl train` in its
 * own process, since the engine is chosen once per process), compared epoch by epoch
 * (every loss in metrics.jsonl) and weight by weight (checkpoints/last). Used by
 * test/backends/webgpu.test.ts and scripts/webgpu-parity.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeMixedTable } from './mixed-table';
import { checkpointWeights, metricRows } from './run';
import { repoRoot, writeFile } from './tmp';

export interface ParityCase {
  name: string;
  /** The config, given the folder holding the generated data files. */
  yaml: (dir: string) => string;
}

export interface ParityResult {
  name: string;
  /** Largest |a − b| / max(1, |b|) over every loss column of every epoch. */
  lossDiff: number;
  /** Largest |a − b| over every weight of checkpoints/last. */
  weightDiff: number;
  /** Largest |b| over the weights (to read weightDiff against). */
  weightScale: number;
  seconds: { a: number; b: number };
}

const penguins = path.join(repoRoot, 'datasets/penguins/penguins.csv');
const tabular = `{format: csv, path: ${penguins}, features: [island, bill_length_mm, bill_depth_mm, flipper_length_mm, sex], missing: impute, limit: 160}`;
const twoTasks = `tasks:
  species: {type: classification, target: species}
  mass: {type: regression, target: body_mass_g}`;
const train = (extra = '') => `training: {epochs: 2, batch_size: 32, optimizer: {type: adam, learning_rate: 0.01}, diagnostics: {enabled: true}${extra}}`;

/** 96 short texts: "alpha"/"beta" give the class, the count of "up" the value. */
function writeCorpus(dir: string): void {
  const filler = ['the', 'of', 'and', 'a', 'to', 'in', 'is', 'it', 'that', 'was'];
  const rows = ['text,kind,level'];
  for (let i = 0; i < 96; i++) {
    const kind = i % 2;
    const level = (i * 7) % 4;
    const tokens = [...Array.from({ length: 6 }, (_, j) => filler[(i * 3 + j * 5) % filler.length]), kind ? 'alpha' : 'beta', ...Array(level).fill('up')];
    rows.push(`"${tokens.join(' ')}",${kind ? 'alpha' : 'beta'},${level}`);
  }
  writeFile(dir, 'corpus.csv', `${rows.join('\n')}\n`);
}

/** 120 rows of three numbers and a set of tags they imply. */
function writeTags(dir: string): void {
  const lines = ['x1,x2,x3,tags'];
  for (let i = 0; i < 120; i++) {
    const x = [Math.sin(i * 1.3), Math.cos(i * 0.7), Math.sin(i * 0.37 + 1)];
    const tags = [x[0] > 0 ? 'red' : '', x[1] > 0.3 ? 'big' : '', x[0] + x[2] > 0.2 ? 'round' : ''].filter(Boolean);
    lines.push(`${x.map((v) => v.toFixed(3)).join(',')},${i % 10 === 9 ? 'NA' : tags.join('|')}`);
  }
  writeFile(dir, 'tags.csv', `${lines.join('\n')}\n`);
}

/** Writes the data files the cases read (the mixed table: images.csv beside its PNGs). */
export function writeParityData(dir: string): void {
  if (!existsSync(path.join(dir, 'corpus.csv'))) {
    writeMixedTable(dir, 96, 8);
    writeCorpus(dir);
    writeTags(dir);
  }
}

const mixed = (dir: string) => path.join(dir, 'images.csv');
const imageTasks = `tasks:
  label: {type: classification, target: label}
  score: {type: regression, target: score}`;

/** The two cases the test runs on lavapipe: the MLP and a small ResNet. */
export const coreCases: ParityCase[] = [
  { name: 'mlp, hard sharing, adam', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [32, 32]}}\n${twoTasks}\n${train()}\n` },
  {
    name: 'resnet (basic blocks, batch norm), hard sharing',
    yaml: (dir) => `data: {format: csv, path: ${mixed(dir)}, inputs: [{name: image, type: image}]}
model: {backbone: {type: resnet, filters: [8, 16], blocks: [1, 1], stem: {filters: 8}}}
${imageTasks}
${train()}
`,
  },
];

/** Every backbone, sharing scheme, input type and kind of weighting (scripts/webgpu-parity.ts). */
export const allCases: ParityCase[] = [
  ...coreCases,
  { name: 'mlp with batch norm, dropout, gelu', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [32], batch_norm: true, dropout: 0.2, activation: gelu}}\n${twoTasks}\n${train()}\n` },
  {
    name: 'category embedding + numeric',
    yaml: () => `data: {format: csv, path: ${penguins}, inputs: [{name: island, type: category, encoder: embedding, dim: 4}, {name: bill_length_mm, type: numeric}, {name: flipper_length_mm, type: numeric}], missing: impute, limit: 160}
model: {backbone: {type: mlp, units: [16]}}
${twoTasks}
${train()}
`,
  },
  { name: 'soft sharing', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16]}, sharing: {type: soft, lambda: 0.01}}\n${twoTasks}\n${train()}\n` },
  { name: 'cross-stitch', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16, 16]}, sharing: {type: cross_stitch}}\n${twoTasks}\n${train()}\n` },
  { name: 'mmoe', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16]}, sharing: {type: mmoe, experts: 3}}\n${twoTasks}\n${train()}\n` },
  { name: 'ple', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16, 16]}, sharing: {type: ple}}\n${twoTasks}\n${train()}\n` },
  { name: 'uncertainty weighting', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16]}}\n${twoTasks}\n${train(', weighting: {type: uncertainty}')}\n` },
  { name: 'gradnorm weighting', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16]}}\n${twoTasks}\n${train(', weighting: {type: gradnorm}')}\n` },
  { name: 'dwa weighting, 3 epochs', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16]}}\n${twoTasks}\n${train(', weighting: {type: dwa}').replace('epochs: 2', 'epochs: 3')}\n` },
  { name: 'pcgrad on the parameters', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16]}}\n${twoTasks}\n${train(', weighting: {type: pcgrad}')}\n` },
  { name: 'mgda on the representation', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16]}}\n${twoTasks}\n${train(', weighting: {type: mgda, on: representation}')}\n` },
  { name: 'sgd with momentum', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16]}}\n${twoTasks}\ntraining: {epochs: 2, batch_size: 32, optimizer: {type: sgd, learning_rate: 0.05, momentum: 0.9}}\n` },
  { name: 'rmsprop', yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16]}}\n${twoTasks}\ntraining: {epochs: 2, batch_size: 32, optimizer: {type: rmsprop, learning_rate: 0.005}}\n` },
  {
    name: 'class weights + focal loss, huber',
    yaml: () => `data: ${tabular}\nmodel: {backbone: {type: mlp, units: [16]}}
tasks:
  species: {type: classification, target: species, class_weight: balanced, loss: focal}
  mass: {type: regression, target: body_mass_g, loss: huber}
${train()}
`,
  },
  {
    name: 'multilabel',
    yaml: (dir) => `data: {format: csv, path: ${path.join(dir, 'tags.csv')}}
model: {backbone: {type: mlp, units: [16]}}
tasks:
  tags: {type: multilabel, target: tags, labels: [big, red, round], empty_cell: no_labels, pos_weight: balanced}
${train()}
`,
  },
  {
    name: 'resnet bottleneck, strided stem with pooling, cross-stitch',
    yaml: (dir) => `data: {format: csv, path: ${mixed(dir)}, inputs: [{name: image, type: image, augment: {flip: true, crop_padding: 1}}]}
model: {backbone: {type: resnet, block: bottleneck, filters: [4, 8], blocks: [1, 1], stem: {filters: 8, kernel_size: 3, strides: 2, pool: true}}, sharing: {type: cross_stitch}}
${imageTasks}
${train()}
`,
  },
  {
    name: 'cnn (LeNet-style) backbone',
    yaml: (dir) => `data: {format: csv, path: ${mixed(dir)}, inputs: [{name: image, type: image}]}
model: {backbone: {type: cnn, filters: [4, 8], kernel_size: 3, padding: same, units: [16]}}
${imageTasks}
${train()}
`,
  },
  {
    name: 'mixed image + numeric + category',
    yaml: (dir) => `data: {format: csv, path: ${mixed(dir)}, inputs: [{name: image, type: image, encoder: {filters: [4, 8], blocks: [1, 1]}}, {name: x, type: numeric}, {name: color, type: category}]}
model: {backbone: {type: mlp, units: [16]}}
${imageTasks}
${train()}
`,
  },
  ...(['bag', 'cnn', 'transformer'] as const).map((encoder) => ({
    name: `text, ${encoder} encoder`,
    yaml: (dir: string) => `data: {format: csv, path: ${path.join(dir, 'corpus.csv')}, inputs: [{name: text, type: text, encoder: ${encoder}, embedding_dim: 8, heads: 2, max_length: 12, min_count: 1}]}
model: {backbone: {type: mlp, units: [16]}}
tasks:
  kind: {type: classification, target: kind}
  level: {type: regression, target: level}
${train()}
`,
  })),
];

/** Runs `mtl train` on one engine; returns the run folder and the seconds it took. */
export function trainOn(backend: string, config: string, out: string, extraArgs: string[] = []): number {
  const started = Date.now();
  execFileSync(process.execPath, [path.join(repoRoot, 'bin/mtl.js'), 'train', config, '--backend', backend, '--threads', '1', '--out', out, ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  return (Date.now() - started) / 1000;
}

/** Trains `c` on engines a and b and compares them. */
export function runParity(c: ParityCase, dir: string, a: string, b: string, index: number): ParityResult {
  writeParityData(dir);
  const config = writeFile(dir, `case-${index}.yaml`, c.yaml(dir));
  const outA = path.join(dir, `case-${index}-${a}`);
  const outB = path.join(dir, `case-${index}-${b}`);
  const seconds = { a: trainOn(a, config, outA), b: trainOn(b, config, outB) };
  return { name: c.name, ...compareRuns(outA, outB), seconds };
}

export function compareRuns(outA: string, outB: string): Omit<ParityResult, 'name' | 'seconds'> {
  const rowsA = metricRows(outA);
  const rowsB = metricRows(outB);
  if (rowsA.length !== rowsB.length) throw new Error(`${rowsA.length} epochs against ${rowsB.length}`);
  let lossDiff = 0;
  rowsA.forEach((row, e) => {
    for (const [key, value] of Object.entries(row)) {
      if (!/loss$/.test(key)) continue;
      const other = rowsB[e][key];
      lossDiff = Math.max(lossDiff, Math.abs(value - other) / Math.max(1, Math.abs(other)));
    }
  });
  const wa = checkpointWeights(outA);
  const wb = checkpointWeights(outB);
  if (wa.length !== wb.length) throw new Error(`${wa.length} weights against ${wb.length}`);
  let weightDiff = 0;
  let weightScale = 0;
  for (let i = 0; i < wa.length; i++) {
    weightDiff = Math.max(weightDiff, Math.abs(wa[i] - wb[i]));
    weightScale = Math.max(weightScale, Math.abs(wb[i]));
  }
  return { lossDiff, weightDiff, weightScale };
}
