/** Where a use case writes what it has to say: the CLI's terminal, a test's capture, or nothing. */
export interface Output {
  /** Messages for the person at the terminal (progress notes, tables, warnings). */
  log(message: string): void;
  /** Results for other programs (--json, a resolved config); `log` where absent. */
  data?(text: string): void;
  /** --quiet: `log` says nothing (errors still go to stderr). */
  quiet?: boolean;
}

/** Says nothing: the library API's default. */
export const silentOutput: Output = { log: () => undefined, data: () => undefined };
