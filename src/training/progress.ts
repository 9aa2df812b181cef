/**
 * Progress of a long job: a cli-progress bar per epoch on a TTY (task losses and
 * ETA), one plain line per epoch otherwise (CI, pipes, files).
 */
import cliProgress from 'cli-progress';

export interface ProgressReporter {
  startEpoch(epoch: number, epochs: number, steps: number): void;
  /** After each step; `losses` are the running means of the epoch so far. */
  step(done: number, losses: Record<string, number>): void;
  /** The epoch's summary line. */
  endEpoch(line: string): void;
  /** Any other message, printed without breaking the bar. */
  log(message: string): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, tty = Boolean(stream.isTTY) && !process.env.CI): ProgressReporter {
  return tty ? new BarProgress(stream) : new LineProgress(stream);
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) return value.toExponential(3);
  const text = value.toPrecision(4);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

function formatLosses(losses: Record<string, number>): string {
  return Object.entries(losses)
    .map(([k, v]) => `${k} ${formatNumber(v)}`)
    .join('  ');
}

class BarProgress implements ProgressReporter {
  private bar?: cliProgress.SingleBar;
  private lastUpdate = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  startEpoch(epoch: number, epochs: number, steps: number): void {
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: 'epoch {epoch}/{epochs} |{bar}| {value}/{total} | {losses} | ETA {eta_formatted}',
        barsize: 24,
        hideCursor: true,
        etaBuffer: 50,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(steps, 0, { epoch, epochs, losses: '' });
  }

  step(done: number, losses: Record<string, number>): void {
    const now = Date.now();
    if (now - this.lastUpdate < 100 && done < (this.bar?.getTotal() ?? 0)) return;
    this.lastUpdate = now;
    this.bar?.update(done, { losses: formatLosses(losses) });
  }

  endEpoch(line: string): void {
    this.bar?.stop();
    this.bar = undefined;
    this.stream.write(`${line}\n`);
  }

  log(message: string): void {
    if (this.bar) this.stream.write('\n');
    this.stream.write(`${message}\n`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

class LineProgress implements ProgressReporter {
  constructor(private readonly stream: NodeJS.WriteStream) {}
  startEpoch(): void {}
  step(): void {}
  endEpoch(line: string): void {
    this.stream.write(`${line}\n`);
  }
  log(message: string): void {
    this.stream.write(`${message}\n`);
  }
  stop(): void {}
}

/** A reporter that prints nothing (library use, tests). */
export const silentProgress: ProgressReporter = {
  startEpoch: () => undefined,
  step: () => undefined,
  endEpoch: () => undefined,
  log: () => undefined,
  stop: () => undefined,
};
