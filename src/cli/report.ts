/** `mtl report <run-dir|compare-dir> [--out report.html]`: one self-contained HTML file with the run's charts. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { writeFileAtomic } from '../outputs/atomic';
import { buildCompareReport } from '../outputs/report/compare-report';
import { buildRunReport } from '../outputs/report/run-report';
import { buildSweepReport } from '../outputs/report/sweep-report';
import { commonOptions, type Output } from './options';

export async function reportCommand(args: { location: string; out?: string }, out: Output): Promise<{ file: string; charts: number }> {
  const dir = path.resolve(args.location);
  if (!existsSync(dir)) throw new UserError(`${args.location}: no such folder`, { exitCode: 2, hint: 'pass a run folder, an mtl compare folder or an mtl sweep folder' });
  const report = existsSync(path.join(dir, 'sweep.json')) ? await buildSweepReport(dir) : existsSync(path.join(dir, 'comparison.json')) ? await buildCompareReport(dir) : await buildRunReport(dir);
  const file = path.resolve(args.out ?? path.join(dir, 'report.html'));
  writeFileAtomic(file, report.html);
  out.log(`report: ${file} (${report.charts} charts)`);
  return { file, charts: report.charts };
}

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
