import type { Config } from '../config/schema';
import type { Preprocessing } from '../data/types';

/** What mtl stores in every checkpoint's model.json, so a checkpoint folder is self-contained. */
export interface CheckpointMeta {
  format: 'mtl-checkpoint';
  version: 1;
  mtlVersion: string;
  /** The resolved config the model was trained with. */
  config: Config;
  configHash: string;
  /** Fitted on the train split; eval and predict apply it unchanged. */
  preprocessing: Preprocessing;
  /** Task names in model output order. */
  tasks: string[];
  backend: { name: string; version: string };
  epoch: number;
  step: number;
  /** The metrics row of that epoch. */
  logs: Record<string, number>;
}
