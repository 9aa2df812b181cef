/** `mtl sweep <config.yaml> --sweep <sweep.yaml>` and `mtl sweep --resume <dir>`: see src/sweep/sweep.ts. */
import type { Command } from 'commander';
import { sweepCommand, type SweepArgs } from '../sweep/sweep';
import { commonOptions, parseIntOption, writeJson, type Output } from './options';

export function registerSweep(program: Command, out: Output): void {
  commonOptions(
    program
      .command('sweep')
      .description('hyperparameter sweep (W&B sweep-config format: grid or random, optional hyperband): one run folder per trial, sweep.json, sweep.csv, best.yaml')
      .argument('[config]', 'experiment file (YAML); not with --resume')
      .option('--sweep <file>', 'the sweep configuration: method, metric, parameters by config path, run_cap, early_terminate')
      .option('--out <dir>', 'the sweep folder (default: <output.dir>/<name>/sweep-<timestamp>)')
      .option('--resume <dir>', 'continue an interrupted sweep: finished trials are kept, the others continue from checkpoints/last')
      .option('--parallel <n>', 'trials at once in local worker processes: a number, or auto (the cores divided by each trial\'s threads)')
      .option('--queue <url>', 'put the trials on a BullMQ queue in Redis (redis://host:port/db) for mtl worker --queue to take; output.dir must be shared')
      .option('--epochs <n>', 'override training.epochs of every trial', parseIntOption)
      .option('--threads <n>', 'training threads per trial on the wasm/cpu engines, as replicas or kernel threads (config parallelism)', parseIntOption)
      .option('--set <key=value>', 'override a config key of every trial (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
      .option('--json', 'print sweep.json on stdout at the end'),
  ).action(async (config: string | undefined, opts: Omit<SweepArgs, 'config' | 'signal'> & { json?: boolean }) => {
    const controller = new AbortController();
    const handler = (signal: NodeJS.Signals) => {
      process.stderr.write(`\n${signal}: stopping the running trials after their current step (checkpoints/last is written)\n`);
      for (const s of ['SIGINT', 'SIGTERM'] as const) process.removeListener(s, handler);
      controller.abort(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    try {
      const state = await sweepCommand({ config, ...opts, signal: controller.signal }, out);
      if (opts.json) writeJson(out, state);
    } finally {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
    }
  });
}
