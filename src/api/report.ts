/** `mtl report`'s use case: one self-contained HTML file with the charts of a run, an mtl compare folder or an mtl sweep folder. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { writeFileAtomic } from '../outputs/atomic';
import { buildCompareReport } from '../outputs/report/compare-report';
import { buildRunReport } from '../outputs/report/run-report';
import { buildSweepReport } from '../outputs/report/sweep-report';
import type { Output } from './output-types';

export async function reportCommand(args: { location: string; out?: string }, out: Output): Promise<{ file: string; charts: number }> {
  const dir = path.resolve(args.location);
  if (!existsSync(dir)) throw new UserError(`${args.location}: no such folder`, { exitCode: 2, hint: 'pass a run folder, an mtl compare folder or an mtl sweep folder' });
  const report = existsSync(path.join(dir, 'sweep.json')) ? await buildSweepReport(dir) : existsSync(path.join(dir, 'comparison.json')) ? await buildCompareReport(dir) : await buildRunReport(dir);
  const file = path.resolve(args.out ?? path.join(dir, 'report.html'));
  writeFileAtomic(file, report.html);
  out.log(`report: ${file} (${report.charts} charts)`);
  return { file, charts: report.charts };
}
