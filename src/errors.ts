/**
 * Errors a user can fix. The CLI's single exit point prints `message` and `hint`
 * without a stack trace and exits with `exitCode`.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
  /** Stopped by SIGTERM (128 + 15), as a shell reports it. */
  terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class UserError extends Error {
  /** What the user can do about it, printed on its own line. */
  readonly hint?: string;
  readonly exitCode: ExitCode;

  constructor(message: string, options: { hint?: string; exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failure;
  }
}

/** A mistake in the config file or the command line (exit code 2). */
export class ConfigError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: ExitCode.usage });
    this.name = 'ConfigError';
  }
}

/** Data that does not fit the config; the message names the file and row (exit code 2). */
export class DataError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: ExitCode.usage });
    this.name = 'DataError';
  }
}

/** Training stopped because the user asked (SIGINT/SIGTERM). */
export class InterruptedError extends UserError {
  /** `signal`: what stopped it; SIGTERM exits 143, anything else 130. */
  constructor(message: string, hint?: string, signal?: string) {
    super(message, { hint, exitCode: signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted });
    this.name = 'InterruptedError';
  }
}
