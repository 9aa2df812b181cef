/**
 * Makes datasets/fashion-mnist/: a class-balanced, seeded subset of the Fashion-MNIST
 * training set (500 images per class, 5,000 in all), in the original IDX format.
 *
 *   node dist/scripts/make-fashion-subset.js [path/to/fashion-mnist] [per-class]
 *
 * The source folder holds train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz
 * (default: ../shared/datasets/fashion-mnist next to the repository).
 */
import path from 'node:path';
import { readIdx, writeIdx } from '../src/data/idx';
import { Rng } from '../src/data/rng';

const root = path.resolve(__dirname, '..', '..');
const source = path.resolve(process.argv[2] ?? path.join(root, '..', 'shared', 'datasets', 'fashion-mnist'));
const perClass = Number(process.argv[3] ?? 500);
const SEED = 20261125;

const images = readIdx(path.join(source, 'train-images-idx3-ubyte.gz'));
const labels = readIdx(path.join(source, 'train-labels-idx1-ubyte.gz'));
const [n, h, w] = images.dims;
const byClass: number[][] = Array.from({ length: 10 }, () => []);
for (let i = 0; i < n; i++) byClass[labels.data[i]].push(i);
const rng = new Rng(SEED);
const chosen = byClass.flatMap((idx) => rng.shuffle([...idx]).slice(0, perClass));
rng.shuffle(chosen);
const outImages = new Uint8Array(chosen.length * h * w);
const outLabels = new Uint8Array(chosen.length);
chosen.forEach((src, i) => {
  outImages.set(images.data.subarray(src * h * w, (src + 1) * h * w) as Uint8Array, i * h * w);
  outLabels[i] = labels.data[src];
});
const dir = path.join(root, 'datasets', 'fashion-mnist');
writeIdx(path.join(dir, 'images-idx3-ubyte.gz'), { type: 'ubyte', dims: [chosen.length, h, w], data: outImages }, { gzip: true });
writeIdx(path.join(dir, 'labels-idx1-ubyte.gz'), { type: 'ubyte', dims: [chosen.length], data: outLabels }, { gzip: true });
console.log(`wrote ${chosen.length} images (${perClass} per class) to ${dir}`);
