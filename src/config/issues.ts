/**
 * Turns zod's validation issues into messages a user can act on:
 * `expected classification | regression, got "clasification"; did you mean "classification"?`
 */
import type { z } from 'zod';
import { describeValue, suggest, type ConfigIssue, type ConfigPath } from './source';

type ZodIssue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

export function fromZodIssues(issues: readonly ZodIssue[], schema: AnySchema, root: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) out.push(...fromZodIssue(issue, schema, root));
  return out;
}

function fromZodIssue(issue: ZodIssue, schema: AnySchema, root: unknown): ConfigIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const found = valueAt(root, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, path, root);
      return issue.keys.map((key) => {
        const near = suggest(key, known);
        const hint = near ? `did you mean "${near}"?` : `known keys: ${known.join(', ')}`;
        return { path: [...path, key], atKey: true, message: `unknown key "${key}"; ${hint}` };
      });
    }
    case 'invalid_type': {
      if (found === undefined) return [{ path, message: `missing; expected ${expectedType(issue.expected)}` }];
      return [{ path, message: `expected ${expectedType(issue.expected)}, got ${describeValue(found)}` }];
    }
    case 'invalid_value': {
      const options = issue.values.map(String);
      return [{ path, message: expectedOneOf(options, found) }];
    }
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options && (issue as { discriminator?: string }).discriminator) {
        const key = (issue as { discriminator: string }).discriminator;
        const at = path[path.length - 1] === key ? path : [...path, key];
        const value = valueAt(root, at);
        if (value === undefined) return [{ path: at, message: `missing; expected ${options.map(String).join(' | ')}` }];
        return [{ path: at, message: expectedOneOf(options.map(String), value) }];
      }
      // A plain union (e.g. a string or a list of strings): report the first branch's complaint.
      const first = issue.errors[0]?.[0];
      if (first) return fromZodIssue({ ...first, path: [...issue.path, ...first.path] } as ZodIssue, schema, root);
      return [{ path, message: `unexpected value ${describeValue(found)}` }];
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      const op = issue.code === 'too_small' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
      if (issue.origin === 'array') {
        const word = issue.code === 'too_small' ? 'at least' : 'at most';
        return [{ path, message: `expected ${word} ${bound} item${Number(bound) === 1 ? '' : 's'}, got ${countOf(found)}` }];
      }
      if (issue.origin === 'string') {
        return [{ path, message: `expected a string of length ${op} ${bound}, got ${describeValue(found)}` }];
      }
      return [{ path, message: `expected a number ${op} ${bound}, got ${describeValue(found)}` }];
    }
    case 'invalid_key': {
      const inner = issue.issues[0]?.message ?? 'invalid name';
      return [{ path, atKey: true, message: `invalid name "${String(path[path.length - 1])}": expected ${inner}` }];
    }
    case 'invalid_format':
      return [{ path, message: `expected ${issue.message}, got ${describeValue(found)}` }];
    case 'not_multiple_of':
      return [{ path, message: `expected a multiple of ${issue.divisor}, got ${describeValue(found)}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

function expectedOneOf(options: string[], found: unknown): string {
  const base = `expected ${options.join(' | ')}, got ${describeValue(found)}`;
  const near = typeof found === 'string' ? suggest(found, options) : undefined;
  return near ? `${base}; did you mean "${near}"?` : base;
}

function expectedType(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'object') return 'a mapping';
  if (expected === 'array') return 'a list';
  return `a ${expected}`;
}

function countOf(value: unknown): string {
  return Array.isArray(value) ? String(value.length) : describeValue(value);
}

export function valueAt(root: unknown, path: ConfigPath): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** The keys a strict object accepts at `path`, following unions by their discriminator. */
export function knownKeysAt(schema: AnySchema, path: ConfigPath, root: unknown): string[] {
  let node: AnySchema | undefined = schema;
  for (let i = 0; i <= path.length && node; i++) {
    node = unwrap(node, valueAt(root, path.slice(0, i)));
    if (i === path.length) break;
    const def = node._zod.def as unknown as Record<string, unknown>;
    const key = path[i];
    if (def.type === 'object') node = (def.shape as Record<string, AnySchema>)[String(key)];
    else if (def.type === 'record') node = def.valueType as AnySchema;
    else if (def.type === 'array') node = def.element as AnySchema;
    else return [];
  }
  const def = node?._zod.def as unknown as Record<string, unknown> | undefined;
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}

function unwrap(schema: AnySchema, value: unknown): AnySchema {
  let node = schema;
  for (;;) {
    const def = node._zod.def as unknown as Record<string, unknown>;
    if (def.type === 'default' || def.type === 'prefault' || def.type === 'optional' || def.type === 'nullable') {
      node = def.innerType as AnySchema;
    } else if (def.type === 'union' && typeof def.discriminator === 'string') {
      const tag = (value as Record<string, unknown> | undefined)?.[def.discriminator];
      const options = def.options as AnySchema[];
      const match = options.find((o) => {
        const shape = (o._zod.def as unknown as { shape?: Record<string, AnySchema> }).shape;
        const literal = shape?.[def.discriminator as string]?._zod.def as unknown as { values?: unknown[] } | undefined;
        return literal?.values?.includes(tag);
      });
      if (!match) return node;
      node = match;
    } else {
      return node;
    }
  }
}
