/**
 * The YAML document a config came from, kept so every error can name the file and
 * line of the value it is about, and values set from the command line can say so.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { closest, distance } from 'fastest-levenshtein';

export type ConfigPath = (string | number)[];

/** One problem found in a config, before it is turned into a message. */
export interface ConfigIssue {
  path: ConfigPath;
  message: string;
  /** Point at the key itself rather than its value (unknown keys). */
  atKey?: boolean;
}

export interface ConfigOverride {
  path: string[];
  /** As the user typed it, e.g. `--epochs 3` or `--set training.epochs=3`. */
  flag: string;
}

export class ConfigSource {
  readonly lines = new LineCounter();
  readonly doc: Document.Parsed;
  private readonly overrides: ConfigOverride[] = [];

  constructor(
    /** The file name as the user gave it, used in messages. */
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** Sets a value as if it were in the file; later messages about it name the flag. */
  override(override: ConfigOverride, value: unknown): void {
    if (this.doc.contents === null || !isMap(this.doc.contents)) {
      this.doc.contents = this.doc.createNode({}) as never;
    }
    this.doc.setIn(override.path, this.doc.createNode(value));
    this.overrides.push(override);
  }

  /** `file:line` (or the flag that set the value) for a path, falling back to the nearest existing parent. */
  where(path: ConfigPath, atKey = false): string {
    const flag = this.overrides.find((o) => startsWith(path, o.path));
    if (flag) return `${this.file} (${flag.flag})`;
    const offset = this.offsetOf(path, atKey);
    if (offset === undefined) return this.file;
    return `${this.file}:${this.lines.linePos(offset).line}`;
  }

  /** Formats one issue as `file:line path: message`. */
  format(issue: ConfigIssue): string {
    const location = this.where(issue.path, issue.atKey);
    const path = formatPath(issue.path);
    return path ? `${location} ${path}: ${issue.message}` : `${location}: ${issue.message}`;
  }

  private offsetOf(path: ConfigPath, atKey: boolean): number | undefined {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node);
    for (let i = 0; i < path.length; i++) {
      const key = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && scalarValue(p.key) === String(key));
        if (!pair) return offset;
        if (last && atKey) return rangeStart(pair.key) ?? offset;
        node = pair.value;
        offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
        if (node === undefined) return offset;
        offset = rangeStart(node) ?? offset;
      } else {
        return offset;
      }
    }
    return offset;
  }
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? range[0] : undefined;
}

function scalarValue(node: unknown): string | undefined {
  return isScalar(node) ? String(node.value) : undefined;
}

function startsWith(path: ConfigPath, prefix: string[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => String(path[i]) === p);
}

/** `tasks.species.type`, `model.backbone.units[1]`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}

/** The closest candidate to a misspelt word, if it is close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(word.toLowerCase(), candidates as string[]);
  const limit = Math.max(2, Math.floor(best.length / 3));
  return distance(word.toLowerCase(), best.toLowerCase()) <= limit ? best : undefined;
}

/** How a found value reads in a message: strings quoted, containers named. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
