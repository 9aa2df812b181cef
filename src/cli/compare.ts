/** The `mtl compare` verb: its options, over the use case in src/api/compare.ts. */
import type { Command } from 'commander';
import { commonOptions, parseIntOption, type Output, writeJson } from './options';
import { compareCommand, type CompareArgs } from '../api/compare';

export function registerCompare(program: Command, out: Output): void {
  commonOptions(
    program
      .command('compare')
      .description('train single-task and multi-task models over several seeds and report whether sharing helps each task')
      .argument('<config>', 'experiment file (YAML) of the multi-task model')
      .option('--seeds <n>', 'seeds per model', parseIntOption, 3)
      .option('--methods <list>', 'compare several multi-task methods: <weighting> or <sharing>+<weighting>, comma-separated (e.g. fixed,pcgrad,mmoe+uncertainty)')
      .option('--out <dir>', 'folder for the runs and comparison.json')
      .option('--epochs <n>', 'override training.epochs', parseIntOption)
      .option('--threads <n>', 'training threads per run on the wasm/cpu engines, as replicas or kernel threads (config parallelism; default: auto)', parseIntOption)
      .option('--parallel <n>', 'runs at once in local worker processes: a number, or auto (the cores divided by each run\'s threads); default 1, one after another in this process')
      .option('--queue <url>', 'put the runs on a BullMQ queue (redis://host:port/db) for mtl worker --queue to train; --out must be a shared folder')
      .option('--set <key=value>', 'override a config key (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
      .option('--json', 'print comparison.json on stdout at the end'),
  ).action(async (config: string, opts: Omit<CompareArgs, 'config'> & { json?: boolean }) => {
    const comparison = await compareCommand({ config, ...opts }, out);
    if (opts.json) writeJson(out, comparison);
  });
}
