/** `mtl init`: a starter experiment file from a data file, or an example with its data. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, UserError } from '../errors';
import { copyExample, examples } from '../init/examples';
import { starterConfig } from '../init/infer';
import { writeFileAtomic } from '../outputs/atomic';
import type { Output } from './output-types';

export interface InitArgs {
  data?: string;
  task?: string[];
  example?: string;
  out?: string;
}

export function initCommand(args: InitArgs, out: Output, cwd = process.cwd()): string {
  if (args.example) {
    if (args.data) throw new ConfigError('give a data file or --example, not both');
    const copied = copyExample(args.example, cwd);
    out.log(`copied example ${args.example} (${examples[args.example].about}): ${path.relative(cwd, copied.config)}, ${copied.datasets.map((d) => path.relative(cwd, d)).join(', ')}`);
    out.log(`train it: mtl train ${path.relative(cwd, copied.config)}`);
    return copied.config;
  }
  if (!args.data) throw new ConfigError('mtl init needs a data file (CSV or JSONL) or --example <name>', `examples: ${Object.keys(examples).join(', ')}`);
  const file = path.resolve(cwd, args.out ?? `${path.basename(args.data).replace(/\.(csv|jsonl)$/i, '')}.yaml`);
  if (existsSync(file)) throw new UserError(`${path.relative(cwd, file)} already exists; mtl init never overwrites`, { exitCode: 2, hint: 'pass --out <new file>' });
  const starter = starterConfig(path.resolve(cwd, args.data), args.task ?? [], path.dirname(file));
  for (const c of starter.columns) out.log(`  column ${c.name}: ${c.kind === 'skipped' ? 'left out' : c.kind} (${c.reason})`);
  for (const t of starter.tasks) out.log(`  task ${t.name}: ${t.type} (${t.reason})`);
  writeFileAtomic(file, starter.yaml);
  out.log(`wrote ${path.relative(cwd, file) || file}; check it with mtl validate ${path.relative(cwd, file)}, train with mtl train ${path.relative(cwd, file)}`);
  return file;
}
