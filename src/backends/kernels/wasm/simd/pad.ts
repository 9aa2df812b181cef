/**
 * Zero padding of NHWC images around their rows and columns, on the wasm heap: one
 * generated function for every shape (byte counts are arguments),
 *
 *   pad(src, dst, images, rows, rowBytes, leftBytes, rightBytes, topBytes, bottomBytes)
 *
 * fills each image's top rows, then per row its left border, the row (memory.copy) and its
 * right border, then the bottom rows (memory.fill), so every byte is written once, images
 * without rows or columns included. The same loop in JS (conv-plans padInto, which the cpu
 * backend keeps) made a subarray per row: ResNet-14's 35 pads a training step took 29-38 ms
 * that way, 22-25 here.
 */
import { assemble, Func, Local } from './emit';

export function padModule(): Uint8Array {
  const f = new Func('pad', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [src, dst, images, rows, rowBytes, leftBytes, rightBytes, topBytes, bottomBytes] = f.params;
  const b = f.local('i32');
  const y = f.local('i32');
  const zeros = (bytes: Local) => {
    f.get(dst).i32(0).get(bytes).memoryFill();
    f.get(dst).get(bytes).add().set(dst);
  };
  f.forCount(b, () => f.get(images), () => {
    zeros(topBytes);
    f.forCount(y, () => f.get(rows), () => {
      zeros(leftBytes);
      f.get(dst).get(src).get(rowBytes).memoryCopy();
      f.get(src).get(rowBytes).add().set(src);
      f.get(dst).get(rowBytes).add().set(dst);
      zeros(rightBytes);
    });
    zeros(bottomBytes);
  });
  return assemble([f]);
}
