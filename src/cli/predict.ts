/** The `mtl predict` verb: its options, over the use case in src/api/predict.ts. */
import type { Command } from 'commander';
import { commonOptions, parseIntOption, type Output } from './options';
import { predictCommand, type PredictArgs } from '../api/predict';

export function registerPredict(program: Command, out: Output): void {
  commonOptions(
    program
      .command('predict')
      .description('predict every task for the rows of a CSV file (or the images of an IDX file) with a trained run')
      .argument('<run>', 'run folder, or a checkpoints/best|last folder')
      .requiredOption('--data <file>', 'CSV file (tabular runs) or IDX images file (image runs)')
      .option('--out <file>', 'write predictions here (.csv or .jsonl) instead of CSV on stdout')
      .option('--threads <n>', 'threads scoring the rows on the wasm/cpu engines (default: auto, one per core for convolutional networks with enough rows)', parseIntOption),
  ).action(async (location: string, opts: Omit<PredictArgs, 'location'>) => {
    await predictCommand({ location, ...opts }, out);
  });
}
