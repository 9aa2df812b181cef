import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The installed package's root folder (dist/src/version.js -> ../..): package.json, configs/, datasets/, schema/. */
export const packageRoot = path.join(__dirname, '..', '..');

/** mtl's version, from package.json. */
export const mtlVersion: string = (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
