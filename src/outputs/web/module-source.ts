/**
 * JavaScript source of mtl's own functions and classes, for a module that runs in a web
 * page (predict.js of `mtl export`): the browser runs the very code Node runs, not a copy.
 *
 * A value's source is its compiled text (`Function.prototype.toString`). TypeScript's
 * CommonJS output reaches imports as `(0, mod_1.name)` or `mod_1.name` and the module's
 * own exported constants as `exports.name`; these become plain `name`, and the module
 * being written must define every such name (ModuleWriter checks it). Anything else a
 * shared function uses must be its arguments, JavaScript's globals, or a name the
 * module defines itself (`provide`).
 */

const IDENT = '[A-Za-z_$][\\w$]*';
const IMPORT_CALL = new RegExp(`\\(0, ${IDENT}_\\d+\\.(${IDENT})\\)`, 'g');
const IMPORT_REF = new RegExp(`\\b${IDENT}_\\d+\\.(${IDENT})`, 'g');
const EXPORT_REF = new RegExp(`\\bexports\\.(${IDENT})`, 'g');

/** A compiled function's source with module references made plain, and the names it needs. */
export function portableSource(value: (...args: never[]) => unknown): { source: string; needs: string[] } {
  const needs = new Set<string>();
  const note = (_: string, name: string) => (needs.add(name), name);
  const source = value.toString().replace(IMPORT_CALL, note).replace(IMPORT_REF, note).replace(EXPORT_REF, note);
  return { source, needs: [...needs] };
}

/** A constant as a JavaScript literal: JSON values and regular expressions. */
function literal(value: unknown): string {
  if (value instanceof RegExp) return value.toString();
  const json = JSON.stringify(value);
  if (json === undefined) throw new Error(`internal error: ${String(value)} cannot be written as a literal`);
  return json;
}

/** The name of a method written in shorthand (`encode(cell) {...}`), else undefined. */
function methodName(source: string): string | undefined {
  const m = new RegExp(`^(?:async\\s+)?(?!function\\b|class\\b)(${IDENT})\\s*\\(`).exec(source);
  return m?.[1];
}

/** Builds a module from shared definitions, in order, checking that every name they need is defined. */
export class ModuleWriter {
  private readonly parts: string[] = [];
  private readonly defined = new Set<string>();
  private readonly needed = new Map<string, string>();

  /** Source the module writes itself (`code` defines `names`). */
  provide(names: string[], code: string): this {
    for (const n of names) this.defined.add(n);
    this.parts.push(code);
    return this;
  }

  constant(name: string, value: unknown): this {
    return this.provide([name], `const ${name} = ${literal(value)};`);
  }

  /** A function declaration or class under its own name; anything else (arrow, method, renamed function) bound to `name`. */
  share(name: string, value: (...args: never[]) => unknown): this {
    const { source, needs } = portableSource(value);
    for (const n of needs) this.needed.set(n, name);
    if (new RegExp(`^(?:async\\s+)?(?:function\\s*\\*?|class)\\s+${name}\\b`).test(source)) return this.provide([name], source);
    const method = methodName(source);
    return this.provide([name], method ? `const ${name} = ({ ${source} }).${method};` : `const ${name} = ${source};`);
  }

  /** An object of shared members (`{ key: function }`, plus plain values), as `const name = {...}`. */
  shareObject(name: string, members: Record<string, ((...args: never[]) => unknown) | boolean | number | string>): this {
    const entries = Object.entries(members).map(([key, member]) => {
      if (typeof member !== 'function') return `  ${key}: ${literal(member)}`;
      const { source, needs } = portableSource(member);
      for (const n of needs) this.needed.set(n, `${name}.${key}`);
      return `  ${methodName(source) === key ? source : `${key}: ${source}`}`;
    });
    return this.provide([name], `const ${name} = {\n${entries.join(',\n')}\n};`);
  }

  raw(code: string): this {
    this.parts.push(code);
    return this;
  }

  toString(): string {
    const missing = [...this.needed].filter(([n]) => !this.defined.has(n));
    if (missing.length > 0) throw new Error(`internal error: the web module lacks ${missing.map(([n, by]) => `${n} (used by ${by})`).join(', ')}`);
    return this.parts.join('\n\n') + '\n';
  }
}
