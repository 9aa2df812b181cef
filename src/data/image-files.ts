/**
 * PNG and JPEG files decoded to pixels in plain JavaScript (pngjs, jpeg-js): nothing
 * native to install, so image inputs work wherever mtl does, the browser included.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export interface DecodedImage {
  height: number;
  width: number;
  /** 1 (gray) or 3 (RGB); alpha is dropped. */
  channels: number;
  /** Row-major H x W x channels bytes. */
  data: Uint8Array;
}

/** A file that is missing or cannot be decoded; the message says which and why. */
export class ImageFileError extends Error {}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

export function decodeImageFile(file: string): DecodedImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageFileError(code === 'ENOENT' ? `the image ${file} does not exist` : `the image ${file} cannot be read (${code})`);
  }
  let rgba: { width: number; height: number; data: Uint8Array };
  let gray = false;
  try {
    if (PNG_MAGIC.every((b, i) => bytes[i] === b)) {
      const png = PNG.sync.read(bytes);
      rgba = png;
      // colorType 0 (gray) and 4 (gray + alpha) stay one channel.
      gray = (png as unknown as { colorType?: number }).colorType === 0 || (png as unknown as { colorType?: number }).colorType === 4;
    } else if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      rgba = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      gray = isGray(rgba.data);
    } else {
      throw new Error('not a PNG or JPEG file');
    }
  } catch (e) {
    throw new ImageFileError(`the image ${file} cannot be decoded (${(e as Error).message})`);
  }
  const { width, height } = rgba;
  const channels = gray ? 1 : 3;
  const data = new Uint8Array(width * height * channels);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < channels; c++) data[p * channels + c] = rgba.data[p * 4 + c];
  return { width, height, channels, data };
}

function isGray(rgba: Uint8Array): boolean {
  for (let p = 0; p < rgba.length; p += 4) if (rgba[p] !== rgba[p + 1] || rgba[p] !== rgba[p + 2]) return false;
  return true;
}

/**
 * The image as H x W x channels floats in [0, 1]: channels converted (gray to RGB by
 * repetition, RGB to gray by luma), then resized bilinearly (pixel centres aligned).
 */
export function toPixels(image: DecodedImage, height: number, width: number, channels: number, out: Float32Array): void {
  const src = image.data;
  const c0 = image.channels;
  const value = (y: number, x: number, c: number) => {
    const p = (y * image.width + x) * c0;
    if (c0 === channels) return src[p + c];
    if (c0 === 1) return src[p];
    return 0.299 * src[p] + 0.587 * src[p + 1] + 0.114 * src[p + 2];
  };
  if (image.height === height && image.width === width) {
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = value(y, x, c) / 255;
    return;
  }
  const sy = image.height / height;
  const sx = image.width / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), image.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, image.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), image.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, image.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const top = value(y0, x0, c) * (1 - wx) + value(y0, x1, c) * wx;
        const bottom = value(y1, x0, c) * (1 - wx) + value(y1, x1, c) * wx;
        out[(y * width + x) * channels + c] = (top * (1 - wy) + bottom * wy) / 255;
      }
    }
  }
}

/** Writes H x W x channels bytes as a PNG file's bytes (gray or RGB). */
export function encodePng(data: Uint8Array, height: number, width: number, channels: 1 | 3): Buffer {
  const png = new PNG({ width, height });
  const rgba = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) rgba[p * 4 + c] = data[p * channels + (channels === 1 ? 0 : c)];
    rgba[p * 4 + 3] = 255;
  }
  png.data = rgba;
  return PNG.sync.write(png, { colorType: channels === 1 ? 0 : 2 });
}

/**
 * Writes images (N x H x W x C bytes) as PNG files `images/00000.png`, ... under `dir`,
 * and a CSV listing each file's relative path with its label columns; returns the CSV.
 */
export function writePngTable(
  dir: string,
  pixels: Uint8Array,
  shape: { count: number; height: number; width: number; channels: 1 | 3 },
  columns: Record<string, ArrayLike<number | string>>,
  csvName = 'images.csv',
): string {
  const { count, height, width, channels } = shape;
  const size = height * width * channels;
  mkdirSync(path.join(dir, 'images'), { recursive: true });
  const names = Object.keys(columns);
  const lines = [['image', ...names].join(',')];
  const digits = Math.max(5, String(count - 1).length);
  for (let i = 0; i < count; i++) {
    const file = `images/${String(i).padStart(digits, '0')}.png`;
    writeFileSync(path.join(dir, file), encodePng(pixels.subarray(i * size, (i + 1) * size), height, width, channels));
    lines.push([file, ...names.map((n) => String(columns[n][i]))].join(','));
  }
  const csv = path.join(dir, csvName);
  writeFileSync(csv, `${lines.join('\n')}\n`);
  return csv;
}
