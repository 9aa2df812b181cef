/** The `mtl affinity` verb: its options, over the use case in src/api/affinity.ts. */
import type { Command } from 'commander';
import { commonOptions, parseIntOption, type Output } from './options';
import { affinityCommand, type AffinityArgs } from '../api/affinity';

export function registerAffinity(program: Command, out: Output): void {
  commonOptions(
    program
      .command('affinity')
      .description('train the multi-task model once, measuring how a step on each task changes every other task\'s loss (inter-task affinity), and suggest task groupings')
      .argument('<config>', 'experiment file (YAML)')
      .option('--out <dir>', 'run folder (default: under output.dir)')
      .option('--every <n>', 'measure every n steps', parseIntOption, 1)
      .option('--max-groups <k>', 'largest number of groups to suggest', parseIntOption)
      .option('--epochs <n>', 'override training.epochs', parseIntOption)
      .option('--set <key=value>', 'override a config key (repeatable)', (v: string, prev: string[]) => [...prev, v], []),
  ).action(async (config: string, opts: Omit<AffinityArgs, 'config'>) => {
    await affinityCommand({ config, ...opts }, out);
  });
}
