import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
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

/**
 * penguins.csv with body mass removed from every even data row and species from every
 * odd one: two tasks labelled on different rows.
 */
export function partlyLabelledPenguins(dir: string): string {
  const [header, ...rows] = readFileSync(path.join(repoRoot, 'datasets/penguins/penguins.csv'), 'utf8').trim().split('\n');
  const columns = header.split(',');
  const species = columns.indexOf('species');
  const mass = columns.indexOf('body_mass_g');
  const out = rows.map((row, i) => {
    const cells = row.split(',');
    cells[i % 2 === 0 ? mass : species] = 'NA';
    return cells.join(',');
  });
  return writeFile(dir, 'penguins-partly-labelled.csv', `${header}\n${out.join('\n')}\n`);
}
