/**
 * Gradient-aggregation methods by config name. Adding one: a file behind
 * `GradientMethod` (types.ts) plus a line in each table here.
 */
import { alignedMtlDefaults, createAlignedMtl, type AlignedMtlOptions } from './aligned-mtl';
import { cagradDefaults, createCagrad, type CagradOptions } from './cagrad';
import { createImtl, imtlDefaults, type ImtlOptions } from './imtl';
import { createMgda, mgdaDefaults, type MgdaOptions } from './mgda';
import { createNashMtl, nashMtlDefaults, type NashMtlOptions } from './nash-mtl';
import { createPcgrad, pcgradDefaults, type PcgradOptions } from './pcgrad';
import type { GradientMethod, GradientMethodFactory } from './types';
import { createUpgrad, upgradDefaults, type UpgradOptions } from './upgrad';

/** Each method's options (all fields have defaults, see `gradientMethodDefaults`). */
export interface GradientMethodOptions {
  mgda: MgdaOptions;
  pcgrad: PcgradOptions;
  cagrad: CagradOptions;
  imtl: ImtlOptions;
  nash_mtl: NashMtlOptions;
  aligned_mtl: AlignedMtlOptions;
  upgrad: UpgradOptions;
}

export type GradientMethodName = keyof GradientMethodOptions;

/** Factories; each fills options it is not given from its defaults. */
export const gradientMethodRegistry: { [N in GradientMethodName]: GradientMethodFactory<Partial<GradientMethodOptions[N]>> } = {
  mgda: createMgda,
  pcgrad: createPcgrad,
  cagrad: createCagrad,
  imtl: createImtl,
  nash_mtl: createNashMtl,
  aligned_mtl: createAlignedMtl,
  upgrad: createUpgrad,
};

/** The papers' defaults (LibMTL's / TorchJD's), for building a config schema. */
export const gradientMethodDefaults: { readonly [N in GradientMethodName]: Readonly<GradientMethodOptions[N]> } = {
  mgda: mgdaDefaults,
  pcgrad: pcgradDefaults,
  cagrad: cagradDefaults,
  imtl: imtlDefaults,
  nash_mtl: nashMtlDefaults,
  aligned_mtl: alignedMtlDefaults,
  upgrad: upgradDefaults,
};

export const gradientMethodNames = Object.keys(gradientMethodRegistry) as readonly GradientMethodName[];

export function createGradientMethod<N extends GradientMethodName>(
  name: N,
  options: Partial<GradientMethodOptions[N]>,
  taskCount: number,
): GradientMethod {
  return (gradientMethodRegistry[name] as GradientMethodFactory<Partial<GradientMethodOptions[N]>>)(options, taskCount);
}

export type { AggregateContext, Aggregation, GradientMethod, GradientMethodFactory, GradientSet } from './types';
export type { AlignedMtlOptions, CagradOptions, ImtlOptions, MgdaOptions, NashMtlOptions, PcgradOptions, UpgradOptions };
