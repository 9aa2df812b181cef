/**
 * `mtl init --example <name>`: an example experiment and its data, copied from the
 * package into a folder, with the config's paths rewritten to the copy.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { JSON_SCHEMA_FILE, schemaComment } from '../config/json-schema';
import { UserError } from '../errors';
import { writeFileAtomic } from '../outputs/atomic';
import { packageRoot } from '../version';

/** Each example: its config (under configs/) and the dataset folders it reads (under datasets/). */
export const examples: Record<string, { config: string; datasets: string[]; about: string }> = {
  penguins: { config: 'penguins.yaml', datasets: ['penguins'], about: 'a table: species (classification) and body mass (regression)' },
  'fashion-mnist': { config: 'fashion-mnist.yaml', datasets: ['fashion-mnist'], about: 'images: garment class and a rotation angle, on a ResNet' },
  sotu: { config: 'sotu.yaml', datasets: ['sotu'], about: 'text: party and year from a passage of a State of the Union address' },
};

export interface CopiedExample {
  config: string;
  datasets: string[];
}

/** Copies example `name` into `dir`; refuses to overwrite a file that is there. */
export function copyExample(name: string, dir: string): CopiedExample {
  const example = examples[name];
  if (!example) throw new UserError(`no example "${name}"`, { exitCode: 2, hint: `examples: ${Object.keys(examples).join(', ')}` });
  const configFile = path.join(dir, example.config);
  const targets = [configFile, ...example.datasets.map((d) => path.join(dir, 'datasets', d))];
  const taken = targets.find((t) => existsSync(t));
  if (taken) throw new UserError(`${taken} already exists; mtl init never overwrites`, { exitCode: 2, hint: 'run it in an empty folder, or move that file away' });
  for (const d of example.datasets) cpSync(path.join(packageRoot, 'datasets', d), path.join(dir, 'datasets', d), { recursive: true });
  const lines = readFileSync(path.join(packageRoot, 'configs', example.config), 'utf8').split('\n');
  if (lines[0].startsWith('# yaml-language-server:')) lines.shift();
  const text = [schemaComment(path.relative(dir, path.join(packageRoot, JSON_SCHEMA_FILE))), ...lines].join('\n').replaceAll('../datasets/', 'datasets/');
  writeFileAtomic(configFile, text);
  return { config: configFile, datasets: example.datasets.map((d) => path.join(dir, 'datasets', d)) };
}
