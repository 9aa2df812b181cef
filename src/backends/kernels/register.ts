/** Quiet, idempotent kernel (re)registration. */
import { getKernel, KernelConfig, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';

/** Registers `config`, replacing whatever is registered under its name and backend. */
export function replaceKernel(config: KernelConfig): void {
  if (getKernel(config.kernelName, config.backendName) !== undefined) {
    unregisterKernel(config.kernelName, config.backendName);
  }
  registerKernel(config);
}
