/** Tracks the best value of one logged metric (for best checkpoints, early stopping, plateaus). */
export class Monitor {
  best: number;
  /** Epochs since the last improvement. */
  wait = 0;

  constructor(
    readonly key: string,
    readonly mode: 'min' | 'max',
    private readonly minDelta = 0,
  ) {
    this.best = mode === 'min' ? Infinity : -Infinity;
  }

  /** Records an epoch's value; true when it improved on the best so far. */
  update(value: number | undefined): boolean {
    if (value === undefined || Number.isNaN(value)) {
      this.wait++;
      return false;
    }
    const improved = this.mode === 'min' ? value < this.best - this.minDelta : value > this.best + this.minDelta;
    if (improved) {
      this.best = value;
      this.wait = 0;
    } else {
      this.wait++;
    }
    return improved;
  }

  getState(): { best: number; wait: number } {
    return { best: this.best, wait: this.wait };
  }

  setState(state: { best: number | null; wait: number }): void {
    // JSON turns ±Infinity into null.
    this.best = state.best ?? (this.mode === 'min' ? Infinity : -Infinity);
    this.wait = state.wait;
  }
}
