import { InvalidArgumentError, Option, type Command } from 'commander';
import { backendNames } from '../backends';

import type { Output } from '../api/output-types';

export type { Output } from '../api/output-types';

/** The terminal: messages on stderr, data on stdout, so `mtl ... --json | jq` reads only data. */
export const consoleOutput: Output = {
  quiet: false,
  log(m) {
    if (!this.quiet) process.stderr.write(`${m}\n`);
  },
  data: (text) => process.stdout.write(`${text}\n`),
};

export function writeData(out: Output, text: string): void {
  if (out.data) out.data(text);
  else out.log(text);
}

/** `--json`: the command's result as one JSON document on stdout. */
export function writeJson(out: Output, value: unknown): void {
  writeData(out, JSON.stringify(value, null, 2));
}

export function parseIntOption(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return Number.parseInt(value, 10);
}

/** --device and --backend, shared by every verb that runs a model. */
export function commonOptions(command: Command): Command {
  return command
    .addOption(new Option('--device <device>', 'auto: fastest engine that loads; gpu: CUDA or fail; cpu: never the GPU').choices(['auto', 'gpu', 'cpu']))
    .addOption(new Option('--backend <name>', 'force one engine').choices([...backendNames]));
}
