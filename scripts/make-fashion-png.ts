/**
 * Makes datasets/fashion-mnist-png/: the shipped Fashion-MNIST subset (datasets/fashion-mnist,
 * 5,000 images) as one PNG file per image and images.csv listing each file with its label
 * and class name, in the IDX file's order (so a seeded split and rotation pick the same
 * images and angles as the IDX demo).
 *
 *   node dist/scripts/make-fashion-png.js [count]
 */
import path from 'node:path';
import { readIdx } from '../src/data/idx';
import { writePngTable } from '../src/data/image-files';

const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const repo = path.resolve(__dirname, '..', '..');
const source = path.join(repo, 'datasets', 'fashion-mnist');
const images = readIdx(path.join(source, 'images-idx3-ubyte.gz'));
const labels = readIdx(path.join(source, 'labels-idx1-ubyte.gz'));
const [n, height, width] = images.dims;
const count = Math.min(n, Number(process.argv[2] ?? n));
const label = Array.from(labels.data.subarray(0, count) as ArrayLike<number>);
const csv = writePngTable(path.join(repo, 'datasets', 'fashion-mnist-png'), images.data as Uint8Array, { count, height, width, channels: 1 }, { label, garment: label.map((l) => `"${CLASSES[l]}"`) });
console.log(`wrote ${count} PNG files and ${csv}`);
