import type { Output } from '../../src/cli/options';

/** An Output that keeps what a command prints, for assertions. */
export function captureOutput(): Output & { lines: string[]; text(): string } {
  const lines: string[] = [];
  return { lines, log: (m: string) => lines.push(m), text: () => lines.join('\n') };
}
