/** The `mtl init` verb: its options, over the use case in src/api/init.ts. */
import type { Command } from 'commander';
import { examples } from '../init/examples';
import type { Output } from './options';
import { initCommand, type InitArgs } from '../api/init';

export function registerInit(program: Command, out: Output): void {
  program
    .command('init')
    .description('write a starter experiment file typed from a data file, or copy an example with its data')
    .argument('[data]', 'CSV or JSONL file to type the columns from')
    .option('--task <column[:type]>', 'a task: its target column, and classification or regression (repeatable; the type is inferred when left out)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--example <name>', `copy an example and its data into this folder (${Object.keys(examples).join(', ')})`)
    .option('--out <file>', 'where to write the config (default: <data name>.yaml here)')
    .action((data: string | undefined, opts: Omit<InitArgs, 'data'>) => {
      initCommand({ data, ...opts }, out);
    });
}
