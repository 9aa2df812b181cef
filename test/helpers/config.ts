import { loadConfig } from '../../src/config/load';
import type { Config } from '../../src/config/schema';
import { tempDir, writeFile } from './tmp';

let dir: string | undefined;

/** A validated Config from YAML text (paths resolve relative to a temp folder). */
export function configFrom(yaml: string): Config {
  dir ??= tempDir();
  return loadConfig(writeFile(dir, `c${Math.random().toString(36).slice(2)}.yaml`, yaml)).config;
}
