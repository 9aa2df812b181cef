/** `mtl validate <config.yaml>`: check an experiment file and print it resolved. */
import type { Command } from 'commander';
import { configToYaml, loadConfig, type ConfigOverrides } from '../config/load';
import type { Config } from '../config/schema';
import { writeData, writeJson, type Output } from './options';

export function validateCommand(file: string, overrides: ConfigOverrides, out: Output, json = false): Config {
  const { config } = loadConfig(file, overrides);
  out.log(`# ${file}: valid; resolved with defaults:`);
  if (json) writeJson(out, config);
  else writeData(out, configToYaml(config).trimEnd());
  return config;
}

export function registerValidate(program: Command, out: Output): void {
  program
    .command('validate')
    .description('check an experiment file and print the resolved config with every default')
    .argument('<config>', 'experiment file (YAML)')
    .option('--set <key=value>', 'override a config key (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--json', 'print the resolved config as JSON on stdout')
    .action((file: string, opts: { set: string[]; json?: boolean }) => {
      validateCommand(file, { set: opts.set }, out, opts.json);
    });
}
