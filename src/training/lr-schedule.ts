/**
 * Learning-rate schedules, stepped once per epoch: `none`, `step` (multiply by gamma
 * every step_size epochs), `cosine` (optional linear warm-up, then cosine decay to
 * min_lr), `plateau` (multiply by factor when the monitored metric stalls).
 */
import type { LrScheduleConfig } from '../config/schema';
import { resolveMode } from './metric-keys';
import { Monitor } from './monitor';

export interface LrSchedule {
  /** The rate for epoch `epoch` (1-based). */
  rateFor(epoch: number): number;
  /** Called after each epoch with the logged values. */
  afterEpoch(logs: Record<string, number>): void;
  getState(): object;
  setState(state: object): void;
}

export function createLrSchedule(
  config: LrScheduleConfig,
  baseRate: number,
  epochs: number,
  defaultMonitor: { key: string; mode: 'min' | 'max' },
): LrSchedule {
  const stateless = (rateFor: (epoch: number) => number): LrSchedule => ({
    rateFor,
    afterEpoch: () => undefined,
    getState: () => ({}),
    setState: () => undefined,
  });
  switch (config.type) {
    case 'none':
      return stateless(() => baseRate);
    case 'step':
      return stateless((epoch) => baseRate * config.gamma ** Math.floor((epoch - 1) / config.step_size));
    case 'cosine':
      return stateless((epoch) => {
        const warm = config.warmup_epochs;
        if (epoch <= warm) return (baseRate * epoch) / warm;
        const progress = (epoch - 1 - warm) / Math.max(1, epochs - warm);
        return config.min_lr + 0.5 * (baseRate - config.min_lr) * (1 + Math.cos(Math.PI * progress));
      });
    case 'plateau': {
      const key = config.monitor ?? defaultMonitor.key;
      const mode = config.monitor || config.mode !== 'auto' ? resolveMode(key, config.mode) : defaultMonitor.mode;
      const monitor = new Monitor(key, mode, config.min_delta);
      let rate = baseRate;
      return {
        rateFor: () => rate,
        afterEpoch(logs) {
          monitor.update(logs[key]);
          if (monitor.wait > config.patience) {
            rate = Math.max(rate * config.factor, config.min_lr);
            monitor.wait = 0;
          }
        },
        getState: () => ({ rate, monitor: monitor.getState() }),
        setState(state) {
          const s = state as { rate: number; monitor: { best: number | null; wait: number } };
          rate = s.rate;
          monitor.setState(s.monitor);
        },
      };
    }
  }
}
