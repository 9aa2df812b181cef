import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { SharingConfig } from '../../config/schema';
import { buildCrossStitchSharing } from './cross-stitch';
import { buildHardSharing } from './hard';
import { buildMmoeSharing } from './mmoe';
import { buildPleSharing } from './ple';
import { buildSoftSharing } from './soft';
import type { SharingBuilder, SharingContext } from './types';

type BuilderFor<T extends SharingConfig['type']> = SharingBuilder<Extract<SharingConfig, { type: T }>>;

/** Sharing schemes by the config's `model.sharing.type`. */
export const sharingRegistry: { [T in SharingConfig['type']]: BuilderFor<T> } = {
  hard: buildHardSharing,
  soft: buildSoftSharing,
  cross_stitch: buildCrossStitchSharing,
  mmoe: buildMmoeSharing,
  ple: buildPleSharing,
};

export function buildSharing(input: SymbolicTensor, config: SharingConfig, context: SharingContext): Record<string, SymbolicTensor> {
  const builder = sharingRegistry[config.type] as SharingBuilder<SharingConfig>;
  return builder(input, config, context);
}

export type { SharingContext } from './types';
