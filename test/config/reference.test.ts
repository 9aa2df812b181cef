/**
 * The README's config reference is part of the contract: every key the schema
 * accepts is listed there.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema';
import { repoRoot } from '../helpers/tmp';

type Def = Record<string, unknown>;
interface Node { _zod: { def: unknown } }

/** Every object key anywhere in the schema, following wrappers, unions, records and arrays. */
function schemaKeys(node: Node, into = new Set<string>()): Set<string> {
  const def = node._zod.def as Def;
  switch (def.type) {
    case 'object':
      for (const [key, child] of Object.entries(def.shape as Record<string, Node>)) {
        into.add(key);
        schemaKeys(child, into);
      }
      break;
    case 'union':
      for (const option of def.options as Node[]) schemaKeys(option, into);
      break;
    case 'record':
      schemaKeys(def.valueType as Node, into);
      break;
    case 'array':
      schemaKeys(def.element as Node, into);
      break;
    case 'default': case 'prefault': case 'optional': case 'nullable': case 'pipe':
      schemaKeys((def.innerType ?? def.in) as Node, into);
      break;
  }
  return into;
}

test('the README config reference names every key the schema accepts', () => {
  const readme = readFileSync(`${repoRoot}/README.md`, 'utf8');
  const start = readme.indexOf('## Config reference');
  assert.ok(start >= 0, 'README has a "## Config reference" section');
  const reference = readme.slice(start);
  const keys = [...schemaKeys(configSchema as unknown as Node)];
  assert.ok(keys.length > 60, `the walk found the schema's keys (${keys.length})`);
  // words written as code in the reference: `key`, `data.key`, `{train: 0.7, ...}`, `beta_1 0.9`
  const codeWords = new Set([...reference.matchAll(/`([^`]+)`/g)].flatMap((m) => m[1].match(/[a-z_][a-z0-9_]*/gi) ?? []));
  const missing = keys.filter((key) => !codeWords.has(key));
  assert.deepEqual(missing, [], `keys missing from the README's config reference: ${missing.join(', ')}`);
});
