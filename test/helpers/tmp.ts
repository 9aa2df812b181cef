import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'mtl-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeFile(dir: string, name: string, text: string | Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The repository root (tests run from dist/test/...). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');
