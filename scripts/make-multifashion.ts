/**
 * Makes datasets/multifashion/: MultiFashion (Lin et al. 2019) from the shipped
 * Fashion-MNIST subset (datasets/fashion-mnist, 5,000 images): two items of different
 * classes on a 36x36 canvas (top left and bottom right, each shifted by up to 4 pixels,
 * max where they overlap), area-resized to 28x28, one grayscale PNG file per image
 * (images/00000.png, ...) and train.csv, val.csv, test.csv listing each split's files with
 * the class of the top-left item (`left`) and of the bottom-right one (`right`). See
 * src/data/multifashion.ts for how items are drawn; the output is the same byte for byte
 * on every run.
 *
 *   node dist/scripts/make-multifashion.js [train] [val] [test]     (default 2400 300 300)
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readIdx } from '../src/data/idx';
import { encodePng } from '../src/data/image-files';
import { buildMultiFashion, MULTIFASHION_SPLITS } from '../src/data/multifashion';

export const MULTIFASHION_SEED = 20190613;
export const MULTIFASHION_COUNTS = { train: 2400, val: 300, test: 300 };
const SIZE = 28;
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const repo = path.resolve(__dirname, '..', '..');
const source = path.join(repo, 'datasets', 'fashion-mnist');
const dir = path.join(repo, 'datasets', 'multifashion');

function main(): void {
  const [train, val, test] = MULTIFASHION_SPLITS.map((split, k) => Number(process.argv[2 + k] ?? MULTIFASHION_COUNTS[split]));
  const images = readIdx(path.join(source, 'images-idx3-ubyte.gz'));
  const labels = readIdx(path.join(source, 'labels-idx1-ubyte.gz'));
  const side = images.dims[1];
  const parts = buildMultiFashion(images.data as Uint8Array, labels.data as ArrayLike<number>, side, {
    seed: MULTIFASHION_SEED,
    counts: { train, val, test },
  });
  rmSync(path.join(dir, 'images'), { recursive: true, force: true });
  mkdirSync(path.join(dir, 'images'), { recursive: true });
  const total = train + val + test;
  const digits = Math.max(5, String(total - 1).length);
  let next = 0;
  for (const split of MULTIFASHION_SPLITS) {
    const part = parts[split];
    const lines = ['image,left,right,left_garment,right_garment,left_item,right_item'];
    for (let k = 0; k < part.left.length; k++) {
      const file = `images/${String(next++).padStart(digits, '0')}.png`;
      writeFileSync(path.join(dir, file), encodePng(part.pixels.subarray(k * SIZE * SIZE, (k + 1) * SIZE * SIZE), SIZE, SIZE, 1));
      lines.push([file, part.left[k], part.right[k], `"${CLASSES[part.left[k]]}"`, `"${CLASSES[part.right[k]]}"`, part.leftItem[k], part.rightItem[k]].join(','));
    }
    writeFileSync(path.join(dir, `${split}.csv`), `${lines.join('\n')}\n`);
    const count = (xs: number[]) => CLASSES.map((_, c) => xs.filter((x) => x === c).length);
    console.log(`${split}: ${part.left.length} images; left per class ${count(part.left).join(' ')}; right per class ${count(part.right).join(' ')}`);
  }
  console.log(`wrote ${total} PNG files and train.csv, val.csv, test.csv to ${dir}`);
}

if (require.main === module) main();
