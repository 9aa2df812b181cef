/** `mtl validate <config.yaml>`: check an experiment file and print it resolved. */
import type { Command } from 'commander';
import { configToYaml, loadConfig, type ConfigOverrides } from '../config/load';
import type { Config } from '../config/schema';
import type { Output } from './options';

export function validateCommand(file: string, overrides: ConfigOverrides, out: Output): Config {
  const { config } = loadConfig(file, overrides);
  out.log(`# ${file}: valid; resolved with defaults:`);
  out.log(configToYaml(config).trimEnd());
  return config;
}

export function registerValidate(program: Command, out: Output): void {
  program
    .command('validate')
    .description('check an experiment file and print the resolved config with every default')
    .argument('<config>', 'experiment file (YAML)')
    .option('--set <key=value>', 'override a config key (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
    .action((file: string, opts: { set: string[] }) => {
      validateCommand(file, { set: opts.set }, out);
    });
}
