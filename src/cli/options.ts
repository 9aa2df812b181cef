import { InvalidArgumentError, Option, type Command } from 'commander';
import { backendNames } from '../backends';

/** Where commands write what they have to say. */
export interface Output {
  log(message: string): void;
}

export const consoleOutput: Output = { log: (m) => process.stdout.write(`${m}\n`) };

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
