/** Quiet, idempotent kernel (re)registration that remembers the kernels it replaced. */
import { getKernel, KernelConfig, KernelFunc, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';

const ours = new WeakSet<KernelFunc>();
const replaced = new Map<string, KernelConfig>();

/**
 * Registers `config`, replacing whatever is registered under its name and
 * backend; the first replaced (stock) kernel stays reachable via `stockKernel`.
 */
export function replaceKernel(config: KernelConfig): void {
  ours.add(config.kernelFunc);
  const key = `${config.backendName}/${config.kernelName}`;
  const current = getKernel(config.kernelName, config.backendName);
  if (current !== undefined) {
    if (!ours.has(current.kernelFunc) && !replaced.has(key)) replaced.set(key, current);
    unregisterKernel(config.kernelName, config.backendName);
  }
  // The stock kernel's setup (run when its backend initialises) must still run:
  // we fall back to that kernel, and it keeps its state in module variables.
  const stock = replaced.get(key);
  registerKernel({ ...config, setupFunc: stock?.setupFunc, disposeFunc: stock?.disposeFunc });
}

/** The stock kernel that `replaceKernel` displaced, for cases ours does not handle. */
export function stockKernel(kernelName: string, backendName: string): KernelFunc {
  const config = replaced.get(`${backendName}/${kernelName}`);
  if (config === undefined) throw new Error(`no stock '${kernelName}' kernel for backend '${backendName}'`);
  return config.kernelFunc;
}
