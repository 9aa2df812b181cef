import type { Output } from '../../src/cli/options';

/** An Output that keeps what a command prints (messages and data, in order), for assertions. */
export function captureOutput(): Output & { lines: string[]; data: (text: string) => void; text(): string } {
  const lines: string[] = [];
  return { lines, log: (m: string) => lines.push(m), data: (m: string) => lines.push(m), text: () => lines.join('\n') };
}
