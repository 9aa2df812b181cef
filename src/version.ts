import { readFileSync } from 'node:fs';
import path from 'node:path';

/** mtl's version, from package.json (dist/src/version.js -> ../../package.json). */
export const mtlVersion: string = (
  JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
).version;
