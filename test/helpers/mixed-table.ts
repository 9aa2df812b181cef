import { writePngTable } from '../../src/data/image-files';
import { Rng } from '../../src/data/rng';

/**
 * `n` rows of a small image (its top or bottom half bright: bit a), a number x (its sign:
 * bit b) and a color (red or blue: bit c), with `label` = a + b + c and `score` =
 * a + 2b - c + noise (missing in every 3rd row). Each input carries one part of the answer.
 */
export function writeMixedTable(dir: string, n = 320, size = 6): string {
  const rng = new Rng(11);
  const pixels = new Uint8Array(n * size * size);
  const x: string[] = [];
  const color: string[] = [];
  const label: number[] = [];
  const score: string[] = [];
  for (let i = 0; i < n; i++) {
    const [a, b, c] = [rng.int(2), rng.int(2), rng.int(2)];
    for (let p = 0; p < size * size; p++) pixels[i * size * size + p] = (p < (size * size) / 2) === (a === 1) ? 200 + rng.int(55) : rng.int(40);
    x.push(((b ? 1 : -1) * rng.uniform(0.5, 2)).toFixed(3));
    color.push(c ? 'red' : 'blue');
    label.push(a + b + c);
    score.push(i % 3 === 2 ? 'NA' : (a + 2 * b - c + rng.normal() * 0.1).toFixed(3));
  }
  return writePngTable(dir, pixels, { count: n, height: size, width: size, channels: 1 }, { x, color, label, score });
}
