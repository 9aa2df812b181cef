/** The `mtl report` verb: its options, over the use case in src/api/report.ts. */
import type { Command } from 'commander';
import { commonOptions, type Output } from './options';
import { reportCommand } from '../api/report';

export function registerReport(program: Command, out: Output): void {
  commonOptions(
    program
      .command('report')
      .description('write a self-contained HTML report with plots of a run (or of an mtl compare folder)')
      .argument('<dir>', 'run folder or compare folder')
      .option('--out <file>', 'where to write the page (default: <dir>/report.html)'),
  ).action(async (location: string, opts: { out?: string }) => {
    await reportCommand({ location, ...opts }, out);
  });
}
