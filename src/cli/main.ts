/**
 * The command line: one commander program, one verb per file, and the single exit
 * point that turns errors into messages and exit codes (0 ok, 1 failure, 2 usage or
 * config error, 130 interrupted, 143 terminated). Messages go to stderr, data to stdout.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, UserError } from '../errors';
import { mtlVersion } from '../version';
import { registerAffinity } from './affinity';
import { registerInit } from './init';
import { registerCompare } from './compare';
import { registerDoctor } from './doctor';
import { registerEval } from './eval';
import { registerExport } from './export';
import { registerPredict } from './predict';
import { registerReport } from './report';
import { registerServe } from './serve';
import { registerSweep } from './sweep';
import { consoleOutput, type Output } from './options';
import { registerTrain } from './train';
import { registerValidate } from './validate';
import { registerWorker } from './worker';

export function buildProgram(out: Output = consoleOutput): Command {
  const program = new Command('mtl')
    .description('train multi-task neural networks (classification + regression) from a YAML experiment file')
    .version(mtlVersion)
    .option('-q, --quiet', 'print nothing but errors and data (results, --json)')
    .showHelpAfterError('(run mtl --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerInit(program, out);
  registerTrain(program, out);
  registerEval(program, out);
  registerValidate(program, out);
  registerCompare(program, out);
  registerAffinity(program, out);
  registerPredict(program, out);
  registerExport(program, out);
  registerDoctor(program, out);
  registerReport(program, out);
  registerSweep(program, out);
  registerWorker(program, out);
  registerServe(program, out);
  for (const command of program.commands) command.exitOverride();
  program.hook('preAction', (_program, action) => {
    out.quiet = Boolean(action.optsWithGlobals().quiet);
  });
  return program;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[], out: Output = consoleOutput): Promise<number> {
  try {
    await buildProgram(out).parseAsync(argv);
    return ExitCode.ok;
  } catch (e) {
    return reportError(e);
  }
}

export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander has printed its own message already.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (e instanceof UserError) {
    process.stderr.write(`error: ${e.message}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    return e.exitCode;
  }
  process.stderr.write(`mtl: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  process.stderr.write('This is a bug in mtl, not in your input; please report it with the command and config that caused it.\n');
  return ExitCode.failure;
}

/** Entry point of bin/mtl.js. */
export function run(): void {
  // `mtl ... | head` closes the pipe early: stop quietly, as Unix tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  void main(process.argv).then((code) => {
    process.exitCode = code;
    // Engines may hold handles open (wasm workers); finish once output is flushed.
    process.stdout.write('', () => process.exit(code));
  });
}
