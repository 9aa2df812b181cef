/**
 * The shipped JSON Schema for editors: it is what the zod schema generates today,
 * every example config points at it on its first line, and it accepts them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv/dist/2020';
import { parse } from 'yaml';
import { configJsonSchema, JSON_SCHEMA_FILE, schemaComment } from '../../src/config/json-schema';
import { repoRoot } from '../helpers/tmp';

const shipped = JSON.parse(readFileSync(path.join(repoRoot, JSON_SCHEMA_FILE), 'utf8'));

test('schema/mtl-config.schema.json is the zod schema as generated now (npm run schema writes it)', () => {
  assert.deepEqual(shipped, JSON.parse(JSON.stringify(configJsonSchema())));
});

test('every example config names the schema on its first line, and the schema accepts it; a misspelt key is refused', () => {
  const validate = new Ajv({ strict: false, allErrors: true }).compile(shipped);
  const dir = path.join(repoRoot, 'configs');
  // Sweep files (`*-sweep.yaml`) are not experiment files.
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.endsWith('-sweep.yaml'));
  assert.ok(files.length >= 10);
  for (const file of files) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    assert.equal(text.split('\n')[0], schemaComment(`../${JSON_SCHEMA_FILE}`), file);
    assert.ok(validate(parse(text)), `${file}: ${JSON.stringify(validate.errors)}`);
  }
  const bad = parse(readFileSync(path.join(dir, 'penguins.yaml'), 'utf8'));
  bad.training.epoch = 3;
  assert.equal(validate(bad), false);
});
