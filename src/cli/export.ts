/** The `mtl export` verb: its options, over the use case in src/api/export.ts. */
import { Option, type Command } from 'commander';
import { parseIntOption, type Output } from './options';
import { exportCommand, type ExportArgs } from '../api/export';

export function registerExport(program: Command, out: Output): void {
  program
    .command('export')
    .description('write a folder a web page uses as it is: model.json + weights, predict.js (predict(rows) as mtl predict gives it), the tfjs bundles, index.html')
    .argument('<run>', 'run folder, or a checkpoints/best|last folder')
    .requiredOption('--out <dir>', 'folder to write (created if needed)')
    .addOption(new Option('--checkpoint <name>', "which of the run folder's checkpoints (default: best, else last)").choices(['best', 'last']))
    .option('--examples <n>', 'rows of the test data index.html scores', parseIntOption, 5)
    .action(async (location: string, opts: Omit<ExportArgs, 'location'>) => {
      await exportCommand({ location, ...opts }, out);
    });
}
