/**
 * The experiment file's JSON Schema, generated from the zod schema (zod 4's
 * z.toJSONSchema) for editors: YAML files whose first line is
 * `# yaml-language-server: $schema=<path>` get completion and checks as you type.
 * schema/mtl-config.schema.json is this, committed and shipped in the package; a test
 * keeps the two equal (`npm run schema` writes it).
 */
import { z } from 'zod';
import { configSchema } from './schema';

/** Where the generated schema lives, relative to the package root. */
export const JSON_SCHEMA_FILE = 'schema/mtl-config.schema.json';

/** The comment line that points an editor's YAML language server at the schema. */
export function schemaComment(schemaPath: string): string {
  return `# yaml-language-server: $schema=${schemaPath}`;
}

export function configJsonSchema(): object {
  // Input shape: keys with defaults may be left out, as in the YAML files themselves.
  return { ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }), title: 'mtl experiment file' };
}
