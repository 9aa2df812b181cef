/**
 * Zero padding of NHWC images around their rows and columns, on the wasm heap: one
 * generated function for every shape (byte counts are arguments),
 *
 *   pad(src, dst, images, rows, rowBytes, leftBytes, rightBytes, topBytes, bottomBytes)
 *
 * copies each image's rows with memory.copy and fills the borders between them with
 * memory.fill: the top rows and the first left border, then after each row its right
 * border and the next row's left border (or the bottom rows), so every byte is written
 * once. The same loop in JS (conv-plans padInto, which the cpu backend keeps) made a
 * subarray per row: ResNet-14's 35 pads a training step took 29-38 ms that way, 22-25 here.
 */
import { assemble, Func } from './emit';

export function padModule(): Uint8Array {
  const f = new Func('pad', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [src, dst, images, rows, rowBytes, leftBytes, rightBytes, topBytes, bottomBytes] = f.params;
  const b = f.local('i32');
  const y = f.local('i32');
  const gap = f.local('i32');
  f.forCount(b, () => f.get(images), () => {
    f.get(dst).i32(0).get(topBytes).get(leftBytes).add().memoryFill();
    f.get(dst).get(topBytes).add().get(leftBytes).add().set(dst);
    f.forCount(y, () => f.get(rows), () => {
      f.get(dst).get(src).get(rowBytes).memoryCopy();
      f.get(src).get(rowBytes).add().set(src);
      f.get(dst).get(rowBytes).add().set(dst);
      // after the last row: its right border and the bottom rows; else the right border and the next left one
      f.get(rightBytes).get(leftBytes).get(bottomBytes).get(y).i32(1).add().get(rows).ltS().select().add().set(gap);
      f.get(dst).i32(0).get(gap).memoryFill();
      f.get(dst).get(gap).add().set(dst);
    });
  });
  return assemble([f]);
}
