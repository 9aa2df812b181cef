/**
 * Gradient overrides that use an mtl kernel where the active backend has it and
 * defer to the stock gradient (as tfjs-layers registered it) everywhere else.
 */
// tfjs-layers registers every stock gradient when it loads; load it first so that
// it can never overwrite these overrides afterwards.
import '@tensorflow/tfjs-layers';
import { getBackend, getGradient, getKernel, GradConfig, registerGradient } from '@tensorflow/tfjs-core';

const stock = new Map<string, GradConfig>();
const ours = new WeakSet<GradConfig>();

/** Installs `config` for its kernel (idempotent), remembering the stock gradient. */
export function replaceGradient(config: GradConfig): void {
  ours.add(config);
  const current = getGradient(config.kernelName);
  if (current === config) return;
  if (current !== undefined && !ours.has(current) && !stock.has(config.kernelName)) {
    stock.set(config.kernelName, current);
  }
  registerGradient(config);
}

/** The gradient that `replaceGradient` displaced. */
export function stockGradient(kernelName: string): GradConfig {
  const config = stock.get(kernelName);
  if (config === undefined) throw new Error(`no stock gradient registered for '${kernelName}'`);
  return config;
}

/** True when the active backend has the kernel `name`. */
export function backendHas(name: string): boolean {
  return getKernel(name, getBackend()) !== undefined;
}
