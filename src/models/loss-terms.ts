/**
 * Loss terms a sharing scheme adds to the objective (soft sharing's penalty), each
 * differentiated with the task losses and logged as train/<name>. Adding one: a line
 * in `lossTermsByScheme`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { SharingConfig } from '../config/schema';
import type { MultiTaskNetwork } from './network';
import { penalizedGroups, softPenalty } from './penalty';

export interface LossTerm {
  name: string;
  /** The term's value, computed inside the gradient tape. */
  value: () => tf.Scalar;
}

type TermsFor<T extends SharingConfig['type']> = {
  names: readonly string[];
  build: (config: Extract<SharingConfig, { type: T }>, network: MultiTaskNetwork) => (() => tf.Scalar)[];
};

const lossTermsByScheme: { [T in SharingConfig['type']]?: TermsFor<T> } = {
  soft: {
    names: ['penalty'],
    build: (config, network) => {
      const groups = penalizedGroups(network.copies, config.layers);
      return [() => softPenalty(groups, config)];
    },
  },
};

/** The names of the terms a scheme adds (metrics.csv columns train/<name>). */
export function lossTermNames(sharing: SharingConfig): readonly string[] {
  return lossTermsByScheme[sharing.type]?.names ?? [];
}

export function lossTerms(sharing: SharingConfig, network: MultiTaskNetwork): LossTerm[] {
  const entry = lossTermsByScheme[sharing.type] as TermsFor<SharingConfig['type']> | undefined;
  if (!entry) return [];
  const values = entry.build(sharing as never, network);
  return entry.names.map((name, i) => ({ name, value: values[i] }));
}
