/**
 * `mtl affinity <config.yaml>`: which tasks should be learned together? Trains the
 * multi-task model as configured once, measuring the inter-task affinity of Fifty et
 * al. 2021 along the way (training/affinity.ts), and writes affinity.json in the run
 * folder: the matrix keyed by task names and the best split into 2..k groups.
 */
import path from 'node:path';
import Table from 'cli-table3';
import { loadConfig, type ConfigOverrides } from '../config/load';
import { ConfigError } from '../errors';
import { writeFileAtomic } from '../outputs/atomic';
import { AffinityTracker, bestGroupings } from '../training/affinity';
import { formatNumber } from '../training/progress';
import { batchTensors } from '../training/replica';
import { disposeTargets } from '../training/losses';
import { type Output } from './output-types';
import { trainCommand } from './train';
import type { BackendName, Device } from '../backends';

export const AFFINITY_FILE = 'affinity.json';

export interface AffinityArgs extends ConfigOverrides {
  config: string;
  out?: string;
  /** Measure every this many steps. */
  every?: number;
  /** Largest number of groups to split the tasks into (default: the number of tasks − 1). */
  maxGroups?: number;
  device?: Device;
  backend?: BackendName;
}

export interface AffinityReport {
  tasks: string[];
  /** affinity[a][b]: mean relative drop of b's loss after a lookahead step on a's gradient. */
  affinity: Record<string, Record<string, number>>;
  /** Lookahead steps measured. */
  steps: number;
  every: number;
  learning_rate: number;
  groupings: { k: number; groups: string[][]; score: number }[];
  run_dir: string;
}

export async function affinityCommand(args: AffinityArgs, out: Output): Promise<AffinityReport> {
  const { config } = loadConfig(args.config, args);
  const names = Object.keys(config.tasks);
  if (names.length < 2) throw new ConfigError(`mtl affinity measures how tasks affect each other; ${args.config} has ${names.length} task`, 'add tasks, or use mtl train');
  if (config.model.sharing.type === 'soft') throw new ConfigError('mtl affinity needs shared weights; soft sharing gives each task its own', 'use hard sharing (the default) for the measurement');
  const every = args.every ?? 1;
  const learningRate = config.training.optimizer.learning_rate;
  const tasks = names.map((t) => config.tasks[t]);
  const tracker = new AffinityTracker(tasks, learningRate);
  const summary = await trainCommand(
    {
      ...args,
      resolvedConfig: config,
      beforeStep: (replica, batch) => {
        if ((batch.globalStep - 1) % every !== 0) return;
        const { x, targets } = batchTensors(batch.split, batch.order, batch.start, batch.end, replica.names, replica.tasks);
        try {
          tracker.measure(replica.network, x, targets);
        } finally {
          x.forEach((t) => t.dispose());
          disposeTargets(targets);
        }
      },
    },
    out,
  );
  const matrix = tracker.matrix();
  const report: AffinityReport = {
    tasks: names,
    affinity: Object.fromEntries(names.map((a, i) => [a, Object.fromEntries(names.map((b, j) => [b, matrix[i][j]]))])),
    steps: tracker.steps,
    every,
    learning_rate: learningRate,
    groupings: bestGroupings(matrix, args.maxGroups ?? names.length - 1).map((g) => ({ k: g.k, groups: g.groups.map((group) => group.map((t) => names[t])), score: g.score })),
    run_dir: summary.run_dir,
  };
  const file = path.join(summary.run_dir, AFFINITY_FILE);
  writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`);
  out.log(affinityTable(report));
  for (const g of report.groupings) out.log(`best split into ${g.k} groups: ${g.groups.map((group) => `{${group.join(', ')}}`).join(' ')}  (score ${formatNumber(g.score)})`);
  out.log(`${report.steps} lookahead steps; ${file}`);
  return report;
}

export function affinityTable(report: AffinityReport): string {
  const table = new Table({ head: ['lookahead on \\ loss of', ...report.tasks], style: { head: [], border: [], compact: true } });
  for (const a of report.tasks) table.push([a, ...report.tasks.map((b) => (a === b ? `(${formatNumber(report.affinity[a][b])})` : formatNumber(report.affinity[a][b])))]);
  return table.toString();
}
