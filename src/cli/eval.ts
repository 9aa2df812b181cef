/** The `mtl eval` verb: its options, over the use case in src/api/eval.ts. */
import { Option, type Command } from 'commander';
import { UserError } from '../errors';
import { commonOptions, parseIntOption, type Output } from './options';
import { evalCommand, type EvalArgs } from '../api/eval';

export function registerEval(program: Command, out: Output): void {
  commonOptions(
    program
      .command('eval')
      .description('score a trained run (or one of its checkpoints) and print per-task metrics')
      .argument('<run>', 'run folder, or a checkpoints/best|last folder')
      .option('--data <file>', 'score this file instead of a split of the training data')
      .option('--target <name=path>', 'with IDX --data: a target file (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
      .addOption(new Option('--split <split>', 'split of the training data to score').choices(['test', 'val', 'train']).default('test'))
      .option('--json', 'print JSON instead of a table')
      .option('--threads <n>', 'threads scoring the rows on the wasm/cpu engines (default: auto, one per core for convolutional networks with enough rows)', parseIntOption),
  ).action(async (location: string, opts: Omit<EvalArgs, 'location'>) => {
    if (opts.data && opts.split !== 'test') throw new UserError('--split and --data exclude each other', { exitCode: 2 });
    await evalCommand({ location, ...opts }, out);
  });
}
