/** The `mtl train` verb: its options, over the use case in src/api/train.ts. */
import type { Command } from 'commander';
import type { StopSignal } from '../training/loop';
import { createProgress, silentProgress } from '../training/progress';
import { commonOptions, parseIntOption, writeJson, type Output } from './options';
import { trainCommand, type TrainArgs } from '../api/train';

export function registerTrain(program: Command, out: Output): void {
  commonOptions(
    program
      .command('train')
      .description('train a multi-task model from a YAML experiment file')
      .argument('[config]', 'experiment file (YAML); optional with --resume')
      .option('--epochs <n>', 'override training.epochs', parseIntOption)
      .option('--batch-size <n>', 'override training.batch_size', parseIntOption)
      .option('--seed <n>', 'override seed', parseIntOption)
      .option('--threads <n>', 'training threads on the wasm/cpu engines, as replicas or kernel threads (config parallelism; default: auto)', parseIntOption)
      .option('--out <dir>', 'write the run folder here instead of <output.dir>/<name>/<timestamp>')
      .option('--set <key=value>', 'override any config key, e.g. --set training.optimizer.learning_rate=0.01 (repeatable)', collect, [])
      .option('--resume <run-dir>', 'continue an interrupted run from its checkpoints/last')
      .option('--force', 'with --resume: continue even if the config or data changed')
      .option('--report', 'write report.html (plots of the run) into the run folder at the end')
      .option('--tensorboard', 'also write TensorBoard event files into the run folder')
      .option('--json', 'print the run\'s summary (summary.json) as JSON on stdout at the end'),
  ).action(async (config: string | undefined, opts: Omit<TrainArgs, 'config'> & { json?: boolean }) => {
    const stop = interruptOnSignals();
    try {
      const summary = await trainCommand({ config, ...opts }, out, out.quiet ? silentProgress : createProgress(), stop);
      if (opts.json) writeJson(out, { ...summary, testRows: undefined });
    } finally {
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
    }
  });
}

/**
 * First SIGINT/SIGTERM: finish the step, save checkpoints/last, exit 130 (143 for SIGTERM). The
 * handlers then remove themselves, so a second signal gets the default action and
 * ends the process at once, even in the middle of a step (the writes are atomic).
 */
function interruptOnSignals(): StopSignal {
  const stop: StopSignal = { requested: false };
  const handler = (signal: NodeJS.Signals) => {
    stop.requested = true;
    stop.signal = signal;
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
    process.stderr.write(`\n${signal}: stopping after the current step and saving checkpoints/last (press Ctrl-C again to quit at once)\n`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return stop;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
