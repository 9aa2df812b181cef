/**
 * Writes schema/mtl-config.schema.json from the zod schema (see src/config/json-schema.ts).
 *
 *   npm run schema
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { configJsonSchema, JSON_SCHEMA_FILE } from '../src/config/json-schema';

const root = path.resolve(__dirname, '..', '..');
writeFileSync(path.join(root, JSON_SCHEMA_FILE), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${JSON_SCHEMA_FILE}\n`);
