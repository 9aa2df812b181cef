import type { Config } from '../config/schema';
import type { Preprocessing } from '../data/types';

/** 2: typed inputs (one model input per data input, Preprocessing.inputs). */
export const CHECKPOINT_VERSION = 2;

/** What mtl stores in every checkpoint's model.json, so a checkpoint folder is self-contained. */
export interface CheckpointMeta {
  format: 'mtl-checkpoint';
  version: typeof CHECKPOINT_VERSION;
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
